// wasm attention and rotary kernels: write the params block that
// assembly/attention*.ts and assembly/rotary.ts read (the schema:
// src/backend/attention-schema.ts; this backend's extra slots:
// attention-params.ts), give each thread its scratch, run on the pool.

import type { Tensor } from '../../tensor/tensor.js';
import { type AttentionOffsets, AttentionSlot, type AttentionTileSettings } from '../attention-schema.js';
import type { AttentionParams, RotaryParams } from '../kernels.js';
import { type KernelSettings, type Settings, threadsFor } from '../settings.js';
import { ATTENTION_PARAMS_BYTES, ROTARY_PARAMS_BYTES, writeAttentionBlock, writeRotaryBlock } from './attention-params.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';

/**
 * Settings (settings.ts): the forward's and the backward's tile Br × Bc, the
 * decode's key chunk, and each kernel's threads (0: one per `grain` units of
 * B·H·Nq·Nk·D work).
 */
export function attentionKernels(ctx: WasmContext, settings: KernelSettings) {
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
  const threadsOf = (s: Settings, p: AttentionParams) => threadsFor(work(p), s.grain, ctx.threads, s.threads);
  /**
   * Short sequences (Nq, Nk ≤ the shortLength setting; 0 = never) take
   * assembly/attention-short.ts: one (b, kv head) per work item, no tiling.
   * It needs D % 4 == 0 and no dropout; the tiled kernels take the rest.
   */
  const useShortPath = (s: Settings, p: AttentionParams): boolean =>
    p.queryLength <= (s.shortLength ?? 0) && p.keyLength <= (s.shortLength ?? 0) && p.headDim % 4 === 0 && p.dropoutP === 0;
  const tiles = (s: Settings): AttentionTileSettings => ({ blockRows: s.blockRows ?? 0, blockCols: s.blockCols ?? 0, decodeSplits: 0 });

  return {
    attentionForward(q: Tensor, kt: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void {
      const s = settings.get('attentionForward', p);
      const threads = threadsOf(s, p);
      const offsets = { query: q.ptr, key: kt.ptr, value: v.ptr, output: out.ptr, logSumExp: logSumExp.ptr };
      if (useShortPath(s, p)) {
        ctx.run('shortAttentionForward', [prepare(p, offsets, tiles(s), k.shortAttentionForwardScratchBytes, threads)], threads);
        return;
      }
      const ptr = prepare(p, offsets, tiles(s), k.flashAttentionForwardScratchBytes, threads);
      ctx.run('flashAttentionForward', [ptr], threads);
    },

    attentionWeights(q: Tensor, kt: Tensor, logSumExp: Tensor, weights: Tensor, p: AttentionParams): void {
      const s = settings.get('attentionForward', p);
      const threads = threadsOf(s, p);
      const offsets = { query: q.ptr, key: kt.ptr, value: kt.ptr, logSumExp: logSumExp.ptr, weights: weights.ptr };
      const ptr = prepare(p, offsets, tiles(s), k.flashAttentionForwardScratchBytes, threads);
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
      const s = settings.get('attentionBackward', p);
      const threads = threadsOf(s, p);
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
      if (useShortPath(s, p)) {
        ctx.run('shortAttentionBackward', [prepare(p, offsets, tiles(s), k.shortAttentionBackwardScratchBytes, threads)], threads);
        return;
      }
      const ptr = prepare(p, offsets, tiles(s), k.flashAttentionBackwardScratchBytes, threads);
      ctx.run('flashAttentionBackward', [ptr], threads);
      if (k.flashAttentionBackwardNeedsDqPass(ptr, threads)) ctx.run('flashAttentionBackwardDq', [ptr], threads);
    },

    attentionDecode(q: Tensor, kt: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void {
      // Split the keys only as far as the threads need work items (two each):
      // every split costs a partial (m, l, O) record and a merge.
      const s = settings.get('attentionDecode', p);
      const threads = threadsOf(s, p);
      const wanted = Math.ceil((2 * threads) / (p.batch * p.numKvHeads));
      const decodeSplits = Math.max(1, Math.min(wanted, Math.floor(p.keyLength / s.decodeChunk)));
      const tileSettings = { ...tiles(s), decodeSplits };
      // The partials' size depends on the block (splits, shape): write it, size them, then place them.
      const offsets: AttentionOffsets = { query: q.ptr, key: kt.ptr, value: v.ptr, output: out.ptr };
      writeAttentionBlock(ctx.buffer(), block(), p, offsets, tileSettings);
      const partials = ctx.block('attentionDecodePartials', k.attentionDecodePartialsBytes(block()));
      const ptr = prepare(p, { ...offsets, partials }, tileSettings, k.attentionDecodeScratchBytes, threads);
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
      const threads = ctx.threadsFor(x.size, kernelGrains.rotary);
      ctx.run(p.inverse ? 'applyRotaryBackward' : 'applyRotary', [ptr], threads);
    },
  };
}
