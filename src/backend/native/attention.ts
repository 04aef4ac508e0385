// Native attention kernels: forward, backward and split-K decode. The slots
// are filled from the same AttentionParams every backend takes.

import { getHeap, type Tensor } from '../../tensor/tensor.js';
import type { AttentionParams } from '../kernels.js';
import type { NativeAddon } from './addon.js';
import { ArgBlock, ATTENTION_ARGS, type AttentionArg } from './args.js';
import type { NativeContext } from './context.js';

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

export function attentionKernels(addon: NativeAddon, ctx: NativeContext) {
  const args = new ArgBlock(ATTENTION_ARGS);
  const tiles = () => ctx.settings.attention;
  return {
    attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
      const block = args.fill({
        ...problemFields(p),
        query: q.ptr,
        key: k.ptr,
        value: v.ptr,
        output: out.ptr,
        logSumExp: logSumExp.ptr,
        blockRows: tiles().blockRows,
        blockCols: tiles().blockCols,
        threads: ctx.threadsFor(work(p), ctx.settings.grain.attention),
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
        blockRows: tiles().backwardBlockRows,
        blockCols: tiles().backwardBlockCols,
        threads: ctx.threadsFor(2.5 * work(p), ctx.settings.grain.attention),
      });
      addon.attentionBackward(getHeap().u8(), block);
    },

    attentionDecode(q: Tensor, k: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
      const block = args.fill({
        ...problemFields(p),
        query: q.ptr,
        key: k.ptr,
        value: v.ptr,
        output: out.ptr,
        decodeChunk: tiles().decodeChunk,
        threads: ctx.threadsFor(work(p), ctx.settings.grain.decode),
      });
      addon.attentionDecode(getHeap().u8(), block);
    },
  };
}
