// Native attention kernels: forward, backward and split-K decode, reading the
// schema's block (attention-block.ts) filled from the AttentionParams every backend takes.

import { getHeap, type Tensor } from '../../tensor/tensor.js';
import type { AttentionParams } from '../kernels.js';
import { type KernelSettings, threadsFor } from '../settings.js';
import type { NativeAddon } from './addon.js';
import { NATIVE_ATTENTION_SLOT_COUNT, writeNativeAttentionBlock } from './attention-block.js';

const work = (p: AttentionParams) => 4 * p.batch * p.numHeads * p.queryLength * p.keyLength * p.headDim;

/**
 * Settings (settings.ts): the forward's and the backward's tile Br × Bc, the
 * decode's chunk, and each kernel's threads (0: one per `grain` flops).
 */
export function attentionKernels(addon: NativeAddon, settings: KernelSettings, maxThreads: () => number) {
  const block = new Int32Array(NATIVE_ATTENTION_SLOT_COUNT);
  return {
    attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
      const s = settings.get('attentionForward', p);
      const threads = threadsFor(work(p), s.grain as number, maxThreads(), s.threads);
      const offsets = { query: q.ptr, key: k.ptr, value: v.ptr, output: out.ptr, logSumExp: logSumExp.ptr };
      writeNativeAttentionBlock(block, p, offsets, { blockRows: s.blockRows, blockCols: s.blockCols, decodeChunk: 0, threads });
      addon.attentionForward(getHeap().u8(), block);
    },

    attentionBackward(
      q: Tensor,
      k: Tensor,
      v: Tensor,
      out: Tensor,
      logSumExp: Tensor,
      gradOut: Tensor,
      gradQ: Tensor,
      gradK: Tensor,
      gradV: Tensor,
      p: AttentionParams,
    ): void {
      const s = settings.get('attentionBackward', p);
      const threads = threadsFor(2.5 * work(p), s.grain as number, maxThreads(), s.threads);
      const offsets = {
        query: q.ptr,
        key: k.ptr,
        value: v.ptr,
        output: out.ptr,
        logSumExp: logSumExp.ptr,
        gradOutput: gradOut.ptr,
        gradQuery: gradQ.ptr,
        gradKey: gradK.ptr,
        gradValue: gradV.ptr,
      };
      writeNativeAttentionBlock(block, p, offsets, { blockRows: s.blockRows, blockCols: s.blockCols, decodeChunk: 0, threads });
      addon.attentionBackward(getHeap().u8(), block);
    },

    attentionDecode(q: Tensor, k: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
      const s = settings.get('attentionDecode', p);
      const threads = threadsFor(work(p), s.grain as number, maxThreads(), s.threads);
      const offsets = { query: q.ptr, key: k.ptr, value: v.ptr, output: out.ptr };
      writeNativeAttentionBlock(block, p, offsets, { blockRows: 0, blockCols: 0, decodeChunk: s.decodeChunk, threads });
      addon.attentionDecode(getHeap().u8(), block);
    },
  };
}
