// wasm attention and rotary kernels: fill the params block that
// assembly/attention*.ts and assembly/rotary.ts read (layout in
// attention-params.ts), give each thread its scratch, run on the pool.

import type { Tensor } from '../../tensor/tensor.js';
import type { AttentionParams, RotaryParams } from '../kernels.js';
import {
  ATTENTION_PARAMS_BYTES,
  type AttentionParamName,
  MaskKind,
  ROTARY_PARAMS_BYTES,
  writeAttentionParams,
  writeRotaryParams,
} from './attention-params.js';
import type { WasmContext } from './context.js';

/** Tile sizes and the decode split: parameters so the kernel autotuner can choose them per shape. */
export interface AttentionTiling {
  /** Forward tile Br × Bc (query rows × keys). */
  blockRows: number;
  blockCols: number;
  /** Backward tile. */
  backwardBlockRows: number;
  backwardBlockCols: number;
  /** Decode: split a (batch, kv head)'s keys (when threads need the work) into chunks of at least this many rows. */
  decodeChunk: number;
}

export const defaultAttentionTiling: AttentionTiling = {
  blockRows: 64,
  blockCols: 64,
  backwardBlockRows: 64,
  backwardBlockCols: 64,
  decodeChunk: 512,
};

type Fields = Partial<Record<AttentionParamName, number>>;

/** The (batch, head, row) element strides of a dense [B, heads, rows, D] tensor. */
function strides(heads: number, rows: number, D: number): [number, number, number] {
  return [heads * rows * D, rows * D, D];
}

function shapeFields(p: AttentionParams): Fields {
  const { batch, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength, keyCapacity, headDim: D } = p;
  const [qb, qh, qr] = strides(H, Nq, D);
  const [kb, kh, kr] = strides(Hk, keyCapacity, D);
  const [gb, gh, gr] = strides(Hk, keyCapacity, D);
  const [sb, sh, si, sj] = p.maskStrides;
  return {
    batch,
    numHeads: H,
    numKvHeads: Hk,
    queryLength: Nq,
    keyLength,
    headDim: D,
    queryStrideBatch: qb,
    queryStrideHead: qh,
    queryStrideRow: qr,
    keyStrideBatch: kb,
    keyStrideHead: kh,
    keyStrideRow: kr,
    valueStrideBatch: kb,
    valueStrideHead: kh,
    valueStrideRow: kr,
    outputStrideBatch: qb,
    outputStrideHead: qh,
    outputStrideRow: qr,
    gradOutputStrideBatch: qb,
    gradOutputStrideHead: qh,
    gradOutputStrideRow: qr,
    gradQueryStrideBatch: qb,
    gradQueryStrideHead: qh,
    gradQueryStrideRow: qr,
    gradKeyStrideBatch: gb,
    gradKeyStrideHead: gh,
    gradKeyStrideRow: gr,
    gradValueStrideBatch: gb,
    gradValueStrideHead: gh,
    gradValueStrideRow: gr,
    mask: p.mask ? p.mask.ptr : 0,
    maskKind: p.mask ? (p.mask.dtype === 'bool' ? MaskKind.bool : MaskKind.additive) : MaskKind.none,
    maskStrideBatch: sb,
    maskStrideHead: sh,
    maskStrideQuery: si,
    maskStrideKey: sj,
    alibiSlopes: p.alibiSlopes ? p.alibiSlopes.ptr : 0,
    causal: p.causal ? 1 : 0,
    windowLeft: p.windowLeft,
    windowRight: p.windowRight,
    scale: p.scale,
    softcap: p.softcap,
    dropoutP: p.dropoutP,
    dropoutSeed: p.dropoutSeed | 0,
  };
}

export function attentionKernels(ctx: WasmContext, tiling: AttentionTiling = defaultAttentionTiling) {
  const k = ctx.wasm.exports;
  const block = (): number => ctx.block('attentionParams', Math.max(ATTENTION_PARAMS_BYTES, ROTARY_PARAMS_BYTES));

  /** Writes the params twice: once to ask the kernel its scratch size, then with the scratch in place. */
  const prepare = (fields: Fields, scratchBytesOf: (ptr: number) => number, threads: number): number => {
    const ptr = block();
    writeAttentionParams(ctx.buffer(), ptr, fields);
    const perThread = Math.ceil(scratchBytesOf(ptr) / 64) * 64;
    const scratch = ctx.block('attentionScratch', perThread * threads);
    writeAttentionParams(ctx.buffer(), ptr, { ...fields, scratch, scratchStride: perThread });
    return ptr;
  };

  const work = (p: AttentionParams) => p.batch * p.numHeads * p.queryLength * p.keyLength * p.headDim;
  const forwardFields = (p: AttentionParams): Fields => ({ ...shapeFields(p), blockRows: tiling.blockRows, blockCols: tiling.blockCols });

  return {
    attentionForward(q: Tensor, kt: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
      const threads = ctx.threadsFor(work(p), 1 << 18);
      const fields = { ...forwardFields(p), query: q.ptr, key: kt.ptr, value: v.ptr, output: out.ptr, logSumExp: logSumExp.ptr };
      ctx.run('flashAttentionForward', [prepare(fields, k.flashAttentionForwardScratchBytes, threads)], threads);
    },

    attentionWeights(q: Tensor, kt: Tensor, logSumExp: Tensor, weights: Tensor, p: AttentionParams): void {
      const threads = ctx.threadsFor(work(p), 1 << 18);
      const fields = { ...forwardFields(p), query: q.ptr, key: kt.ptr, value: kt.ptr, logSumExp: logSumExp.ptr, weights: weights.ptr };
      ctx.run('attentionWeights', [prepare(fields, k.flashAttentionForwardScratchBytes, threads)], threads);
    },

    attentionBackward(
      q: Tensor,
      kt: Tensor,
      v: Tensor,
      out: Tensor,
      logSumExp: Tensor,
      gradOut: Tensor,
      gradQ: Tensor,
      gradK: Tensor,
      gradV: Tensor,
      p: AttentionParams,
    ): void {
      const threads = ctx.threadsFor(work(p), 1 << 17);
      const fields: Fields = {
        ...shapeFields(p),
        blockRows: tiling.backwardBlockRows,
        blockCols: tiling.backwardBlockCols,
        query: q.ptr,
        key: kt.ptr,
        value: v.ptr,
        output: out.ptr,
        logSumExp: logSumExp.ptr,
        gradOutput: gradOut.ptr,
        gradQuery: gradQ.ptr,
        gradKey: gradK.ptr,
        gradValue: gradV.ptr,
      };
      const ptr = prepare(fields, k.flashAttentionBackwardScratchBytes, threads);
      ctx.run('flashAttentionBackward', [ptr], threads);
      if (k.flashAttentionBackwardNeedsDqPass(ptr, threads)) ctx.run('flashAttentionBackwardDq', [ptr], threads);
    },

    attentionDecode(q: Tensor, kt: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
      // Split the keys only as far as the threads need work items (two each):
      // every split costs a partial (m, l, O) record and a merge.
      const threads = ctx.threadsFor(work(p), 1 << 16);
      const wanted = Math.ceil((2 * threads) / (p.batch * p.numKvHeads));
      const splits = Math.max(1, Math.min(wanted, Math.floor(p.keyLength / tiling.decodeChunk)));
      const base: Fields = { ...forwardFields(p), decodeSplits: splits, query: q.ptr, key: kt.ptr, value: v.ptr, output: out.ptr };
      writeAttentionParams(ctx.buffer(), block(), base);
      const partials = ctx.block('attentionDecodePartials', k.attentionDecodePartialsBytes(block()));
      const ptr = prepare({ ...base, partials }, k.attentionDecodeScratchBytes, threads);
      ctx.run('attentionDecode', [ptr], threads);
      // The merge reads B·H·Nq·splits small records: one thread, no second wake-up.
      ctx.run('attentionDecodeMerge', [ptr], 1);
    },

    rotary(x: Tensor, out: Tensor, cos: Tensor, sin: Tensor, positions: Tensor | null, p: RotaryParams): void {
      const { batch: B, numHeads: H, seqLength: N, headDim: D } = p;
      const [sb, sh, sr] = strides(H, N, D);
      const ptr = block();
      writeRotaryParams(ctx.buffer(), ptr, {
        input: x.ptr,
        output: out.ptr,
        cos: cos.ptr,
        sin: sin.ptr,
        positions: positions ? positions.ptr : 0,
        batch: B,
        numHeads: H,
        seqLength: N,
        headDim: D,
        rotaryDim: p.rotaryDim,
        interleaved: p.interleaved ? 1 : 0,
        positionOffset: p.positionOffset,
        positionsStrideBatch: positions && positions.size === B * N ? N : 0,
        tableStride: cos.shape[1],
        inputStrideBatch: sb,
        inputStrideHead: sh,
        inputStrideRow: sr,
        outputStrideBatch: sb,
        outputStrideHead: sh,
        outputStrideRow: sr,
      });
      const threads = ctx.threadsFor(x.size, 1 << 16);
      ctx.run(p.inverse ? 'applyRotaryBackward' : 'applyRotary', [ptr], threads);
    },
  };
}
