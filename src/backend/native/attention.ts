// Native attention kernels: forward, backward and split-K decode. The slots
// are filled from the same AttentionParams every backend takes.

import { getHeap, type Tensor } from '../../tensor/tensor.js';
import type { AttentionParams } from '../kernels.js';
import { type KernelSettings, threadsFor } from '../settings.js';
import type { NativeAddon } from './addon.js';
import { ArgBlock, ATTENTION_ARGS, type AttentionArg } from './args.js';

type Fields = Partial<Record<AttentionArg, number | boolean>>;

function problemFields(p: AttentionParams): Fields {
  const [sb, sh, si, sj] = p.maskStrides;
  return {
    mask: p.mask ? p.mask.ptr : 0,
    maskKind: p.mask ? (p.mask.dtype === 'bool' ? 1 : 2) : 0,
    maskStrideBatch: sb,
    maskStrideHead: sh,
    maskStrideQuery: si,
    maskStrideKey: sj,
    alibiSlopes: p.alibiSlopes ? p.alibiSlopes.ptr : 0,
    batch: p.batch,
    numHeads: p.numHeads,
    numKvHeads: p.numKvHeads,
    queryLength: p.queryLength,
    keyLength: p.keyLength,
    keyCapacity: p.keyCapacity,
    headDim: p.headDim,
    scale: p.scale,
    softcap: p.softcap,
    dropoutP: p.dropoutP,
    dropoutSeed: p.dropoutSeed >>> 0,
    causal: p.causal,
    windowLeft: p.windowLeft,
    windowRight: p.windowRight,
  };
}

const work = (p: AttentionParams) => 4 * p.batch * p.numHeads * p.queryLength * p.keyLength * p.headDim;

/**
 * Settings (settings.ts): the forward's and the backward's tile Br × Bc, the
 * decode's chunk, and each kernel's threads (0: one per `grain` flops).
 */
export function attentionKernels(addon: NativeAddon, settings: KernelSettings, maxThreads: () => number) {
  const args = new ArgBlock(ATTENTION_ARGS);
  return {
    attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
      const s = settings.get('attentionForward', p);
      const block = args.fill({
        ...problemFields(p),
        query: q.ptr,
        key: k.ptr,
        value: v.ptr,
        output: out.ptr,
        logSumExp: logSumExp.ptr,
        blockRows: s.blockRows,
        blockCols: s.blockCols,
        threads: threadsFor(work(p), s.grain as number, maxThreads(), s.threads),
      });
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
      const block = args.fill({
        ...problemFields(p),
        query: q.ptr,
        key: k.ptr,
        value: v.ptr,
        output: out.ptr,
        logSumExp: logSumExp.ptr,
        gradOutput: gradOut.ptr,
        gradQuery: gradQ.ptr,
        gradKey: gradK.ptr,
        gradValue: gradV.ptr,
        blockRows: s.blockRows,
        blockCols: s.blockCols,
        threads: threadsFor(2.5 * work(p), s.grain as number, maxThreads(), s.threads),
      });
      addon.attentionBackward(getHeap().u8(), block);
    },

    attentionDecode(q: Tensor, k: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
      const s = settings.get('attentionDecode', p);
      const block = args.fill({
        ...problemFields(p),
        query: q.ptr,
        key: k.ptr,
        value: v.ptr,
        output: out.ptr,
        decodeChunk: s.decodeChunk,
        threads: threadsFor(work(p), s.grain as number, maxThreads(), s.threads),
      });
      addon.attentionDecode(getHeap().u8(), block);
    },
  };
}
