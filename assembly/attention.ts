// Fused attention kernels: FlashAttention-2 forward and backward, the
// probabilities on request, and (attention-decode.ts) KV-cache decoding.
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0, G = H / Hk)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
// i' = i + Nk − Nq: query row i's position on the key axis (bottom-right
// alignment, as FlashAttention and KV-cache decoding need)
//
// Every kernel takes a pointer to one params block (layout in
// src/backend/wasm/attention-params.ts, mirrored by attention-params.ts) and
// (tid, nthreads) last; thread tid computes its share, disjoint from the
// others', so all threads run the same call with no atomics. Scratch is per
// thread: params.scratch + tid·params.scratchStride, at least *ScratchBytes.
//
// Work split:
// - forward / weights: items (b, h, query block) dealt round-robin, which
//   balances causal work (late query blocks see more keys).
// - backward: dK and dV of a key block are owned by one thread. When there
//   are enough (b, kv head) groups (B·Hk ≥ threads at ≥ 75% balance) each
//   thread takes whole groups and also owns their dQ rows, so dQ is
//   accumulated in place in the same pass (no extra memory, no extra flops).
//   Otherwise threads split (b, kv head, key block) items and dQ comes from
//   a second pass over (b, h, query block) items (flashAttentionBackwardDq)
//   that recomputes S and dP: 7 GEMMs instead of 5, but no per-thread dQ
//   copies (nthreads × |Q| memory) and deterministic sums.
import {
  A_ALIBI_SLOPES,
  A_ATTENTION_LAYOUT_FIRST,
  A_BATCH,
  A_BLOCK_COLS,
  A_BLOCK_ROWS,
  A_CAUSAL,
  A_DROPOUT_P,
  A_DROPOUT_SEED,
  A_GRAD_KEY,
  A_GRAD_KEY_STRIDE_BATCH,
  A_GRAD_KEY_STRIDE_HEAD,
  A_GRAD_KEY_STRIDE_ROW,
  A_GRAD_OUTPUT,
  A_GRAD_OUTPUT_STRIDE_BATCH,
  A_GRAD_OUTPUT_STRIDE_HEAD,
  A_GRAD_OUTPUT_STRIDE_ROW,
  A_GRAD_QUERY,
  A_GRAD_QUERY_STRIDE_BATCH,
  A_GRAD_QUERY_STRIDE_HEAD,
  A_GRAD_QUERY_STRIDE_ROW,
  A_GRAD_VALUE,
  A_GRAD_VALUE_STRIDE_BATCH,
  A_GRAD_VALUE_STRIDE_HEAD,
  A_GRAD_VALUE_STRIDE_ROW,
  A_HEAD_DIM,
  A_KEY,
  A_KEY_LENGTH,
  A_KEY_STRIDE_BATCH,
  A_KEY_STRIDE_HEAD,
  A_KEY_STRIDE_ROW,
  A_LOG_SUM_EXP,
  A_NUM_HEADS,
  A_NUM_KV_HEADS,
  A_OUTPUT,
  A_OUTPUT_STRIDE_BATCH,
  A_OUTPUT_STRIDE_HEAD,
  A_OUTPUT_STRIDE_ROW,
  A_QUERY,
  A_QUERY_LENGTH,
  A_QUERY_STRIDE_BATCH,
  A_QUERY_STRIDE_HEAD,
  A_QUERY_STRIDE_ROW,
  A_SCALE,
  A_SCRATCH,
  A_SCRATCH_STRIDE,
  A_SOFTCAP,
  A_VALUE,
  A_VALUE_STRIDE_BATCH,
  A_VALUE_STRIDE_HEAD,
  A_VALUE_STRIDE_ROW,
  A_WEIGHTS,
  A_WINDOW_LEFT,
  A_WINDOW_RIGHT,
  ATTENTION_PARAMS_COUNT,
  paramF32,
  paramI32,
  paramPtr,
} from './attention-params';
import {
  addRows,
  align64,
  dotRow,
  dropoutFactor4,
  dropoutHash4,
  dropoutRow,
  dropoutRowKey,
  dropoutThreshold,
  expRowSum,
  gemmTile,
  hasScoreModifiers,
  INIT_ACCUMULATE,
  INIT_RESCALE,
  INIT_ZERO,
  modifyRow,
  packRows,
  packTransposed,
  roundUp4,
  rowHi,
  rowLo,
  rowMax,
  storeRows,
} from './attention-tile';

export * from './attention-decode';

// ---------------------------------------------------------------------------
// Params access shared by the kernels
// ---------------------------------------------------------------------------

/** Br: query rows per tile, a multiple of 4. */
// @ts-ignore: decorator
@inline export function tileRows(p: usize): i32 {
  return max(4, roundUp4(paramI32(p, A_BLOCK_ROWS)));
}

/** Bc: keys per tile, a multiple of 4. */
// @ts-ignore: decorator
@inline export function tileCols(p: usize): i32 {
  return max(4, roundUp4(paramI32(p, A_BLOCK_COLS)));
}

/** Thread tid's scratch region. */
// @ts-ignore: decorator
@inline export function threadScratch(p: usize, tid: i32): usize {
  return align64(paramPtr(p, A_SCRATCH) + <usize>tid * paramPtr(p, A_SCRATCH_STRIDE));
}

// @ts-ignore: decorator
@inline function rowPtr(p: usize, tensor: i32, strideBatch: i32, b: i32, h: i32, i: i32): usize {
  const stride = <usize>paramI32(p, strideBatch) * b + <usize>paramI32(p, strideBatch + 1) * h + <usize>paramI32(p, strideBatch + 2) * i;
  return paramPtr(p, tensor) + (stride << 2);
}

// @ts-ignore: decorator
@inline function lsePtr(p: usize, b: i32, h: i32, i: i32): usize {
  return paramPtr(p, A_LOG_SUM_EXP) + (<usize>((b * paramI32(p, A_NUM_HEADS) + h) * paramI32(p, A_QUERY_LENGTH) + i) << 2);
}

/** The self-check: writes the field indices in the order of src/backend/wasm/attention-params.ts; returns their count. */
export function attentionParamsLayout(out: usize): i32 {
  for (let f = 0; f < ATTENTION_PARAMS_COUNT; f++) store<i32>(out + (<usize>f << 2), load<i32>(A_ATTENTION_LAYOUT_FIRST + (<usize>f << 2)));
  return ATTENTION_PARAMS_COUNT;
}
