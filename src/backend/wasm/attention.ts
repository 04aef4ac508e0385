// wasm attention and rotary kernels: write the params block that
// assembly/attention*.ts and assembly/rotary.ts read (the schema:
// src/backend/attention-schema.ts; this backend's extra slots:
// attention-params.ts), give each thread its scratch, run on the pool.

import type { Tensor } from '../../tensor/tensor.js';
import { type AttentionOffsets, AttentionSlot, type AttentionTileSettings } from '../attention-schema.js';
import type { AttentionParams, RotaryParams } from '../kernels.js';
import { ATTENTION_PARAMS_BYTES, ROTARY_PARAMS_BYTES, writeAttentionBlock, writeRotaryBlock } from './attention-params.js';
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

/** Where the attention wrappers get their settings for a call (the autotune registry, or fixed ones). */
export type AttentionTilingSource = (kernel: 'forward' | 'backward' | 'decode', p: AttentionParams) => AttentionTiling;

export function attentionKernels(ctx: WasmContext, tilingFor: AttentionTilingSource = () => defaultAttentionTiling) {
  const k = ctx.wasm.exports;
  const block = (): number => ctx.block('attentionParams', Math.max(ATTENTION_PARAMS_BYTES, ROTARY_PARAMS_BYTES));

  /** Writes the block once; then sizes the per-thread scratch from it and fills in the two scratch slots. */
  const prepare = (
    p: AttentionParams,
    offsets: AttentionOffsets,
    tiles: AttentionTileSettings,
    scratchBytesOf: (ptr: number) => number,
    threads: number,
  ): number => {
    const ptr = block();
    writeAttentionBlock(ctx.buffer(), ptr, p, offsets, tiles);
    const perThread = Math.ceil(scratchBytesOf(ptr) / 64) * 64;
    const scratch = ctx.block('attentionScratch', perThread * threads);
    const slots = new Int32Array(ctx.buffer(), ptr, ATTENTION_PARAMS_BYTES / 4);
    slots[AttentionSlot.scratch] = scratch;
    slots[AttentionSlot.scratchStride] = perThread;
    return ptr;
  };

  const work = (p: AttentionParams) => p.batch * p.numHeads * p.queryLength * p.keyLength * p.headDim;
  const tiles = (t: AttentionTiling, backward = false): AttentionTileSettings => ({
    blockRows: backward ? t.backwardBlockRows : t.blockRows,
    blockCols: backward ? t.backwardBlockCols : t.blockCols,
    decodeSplits: 0,
  });

  return {
    attentionForward(q: Tensor, kt: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
      const threads = ctx.threadsFor(work(p), 1 << 18);
      const offsets = { query: q.ptr, key: kt.ptr, value: v.ptr, output: out.ptr, logSumExp: logSumExp.ptr };
      const ptr = prepare(p, offsets, tiles(tilingFor('forward', p)), k.flashAttentionForwardScratchBytes, threads);
      ctx.run('flashAttentionForward', [ptr], threads);
    },

    attentionWeights(q: Tensor, kt: Tensor, logSumExp: Tensor, weights: Tensor, p: AttentionParams): void {
      const threads = ctx.threadsFor(work(p), 1 << 18);
      const offsets = { query: q.ptr, key: kt.ptr, value: kt.ptr, logSumExp: logSumExp.ptr, weights: weights.ptr };
      const ptr = prepare(p, offsets, tiles(tilingFor('forward', p)), k.flashAttentionForwardScratchBytes, threads);
      ctx.run('attentionWeights', [ptr], threads);
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
      const offsets: AttentionOffsets = {
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
      const ptr = prepare(p, offsets, tiles(tilingFor('backward', p), true), k.flashAttentionBackwardScratchBytes, threads);
      ctx.run('flashAttentionBackward', [ptr], threads);
      if (k.flashAttentionBackwardNeedsDqPass(ptr, threads)) ctx.run('flashAttentionBackwardDq', [ptr], threads);
    },

    attentionDecode(q: Tensor, kt: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
      // Split the keys only as far as the threads need work items (two each):
      // every split costs a partial (m, l, O) record and a merge.
      const threads = ctx.threadsFor(work(p), 1 << 16);
      const tiling = tilingFor('decode', p);
      const wanted = Math.ceil((2 * threads) / (p.batch * p.numKvHeads));
      const decodeSplits = Math.max(1, Math.min(wanted, Math.floor(p.keyLength / tiling.decodeChunk)));
      const settings = { ...tiles(tiling), decodeSplits };
      // The partials' size depends on the block (splits, shape): write it, size them, then place them.
      const offsets: AttentionOffsets = { query: q.ptr, key: kt.ptr, value: v.ptr, output: out.ptr };
      writeAttentionBlock(ctx.buffer(), block(), p, offsets, settings);
      const partials = ctx.block('attentionDecodePartials', k.attentionDecodePartialsBytes(block()));
      const ptr = prepare(p, { ...offsets, partials }, settings, k.attentionDecodeScratchBytes, threads);
      ctx.run('attentionDecode', [ptr], threads);
      // The merge reads B·H·Nq·splits small records: one thread, no second wake-up.
      ctx.run('attentionDecodeMerge', [ptr], 1);
    },

    rotary(x: Tensor, out: Tensor, cos: Tensor, sin: Tensor, positions: Tensor | null, p: RotaryParams): void {
      const { batch: B, numHeads: H, seqLength: N, headDim: D } = p;
      const ptr = block();
      writeRotaryBlock(ctx.buffer(), ptr, {
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
      });
      const threads = ctx.threadsFor(x.size, 1 << 16);
      ctx.run(p.inverse ? 'applyRotaryBackward' : 'applyRotary', [ptr], threads);
    },
  };
}
