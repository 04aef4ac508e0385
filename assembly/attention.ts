// Fused attention kernels: the FlashAttention-2 forward and the
// probabilities on request (this file), the backward (attention-backward.ts),
// KV-cache decoding (attention-decode.ts); built from the GEMM tiles of
// attention-gemm.ts and the softmax / mask / dropout pieces of attention-tile.ts.
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
  A_BATCH,
  A_CAUSAL,
  A_DROPOUT_P,
  A_DROPOUT_SEED,
  A_HEAD_DIM,
  A_KEY,
  A_KEY_LENGTH,
  A_KEY_STRIDE_BATCH,
  A_KEY_STRIDE_ROW,
  A_LOG_SUM_EXP,
  A_NUM_HEADS,
  A_NUM_KV_HEADS,
  A_OUTPUT,
  A_OUTPUT_STRIDE_BATCH,
  A_OUTPUT_STRIDE_ROW,
  A_QUERY,
  A_QUERY_LENGTH,
  A_QUERY_STRIDE_BATCH,
  A_QUERY_STRIDE_ROW,
  A_SCALE,
  A_VALUE,
  A_VALUE_STRIDE_BATCH,
  A_VALUE_STRIDE_ROW,
  A_WEIGHTS,
  A_WINDOW_LEFT,
  A_WINDOW_RIGHT,
  writeAttentionLayout,
  paramF32,
  paramI32,
  paramPtr,
} from './attention-params';
import {
  align64,
  gemmRescale,
  gemmZero,
  packRows,
  packTransposed,
  roundUp4,
  storeRows,
} from './attention-gemm';
import {
  dropoutHash4,
  LN2,
  LOG2E,
  dropoutRow,
  dropoutRowKey,
  dropoutThreshold,
  expRowSum,
  firstRowSeeing,
  hasScoreModifiers,
  lastRowSeeing,
  inverseSum,
  lsePtr,
  modifyRow,
  rowHi,
  rowLo,
  rowPtr,
  softmaxStep,
  threadScratch,
  tileCols,
  tileRows,
} from './attention-tile';

export * from './attention-backward';
export * from './attention-decode';

/** Self-check: writes the field indices in the order of src/backend/wasm/attention-params.ts at out; returns their count. */
export function attentionParamsLayout(out: usize): i32 {
  return writeAttentionLayout(out);
}

/** Test hook: the dropout hashes of keys j0..j0+n−1 of row (b, h, i), through the same vector code the kernels use. */
export function attentionDropoutHashes(seed: u32, b: i32, h: i32, i: i32, j0: i32, n: i32, out: usize): void {
  const key = dropoutRowKey(seed, b, h, i);
  for (let j = 0; j < n; j += 4) v128.store(out + (<usize>j << 2), dropoutHash4(key, j0 + j));
}

// ---------------------------------------------------------------------------
// Forward: O = softmax(mods(scale·Q·Kᵀ))·V per (b, h), row log-sum-exp kept.
// Scratch: Qs [Br][Dp] (scale·Q) · Kt [D][Bc] · Vp [Bc][Dp] (only when D % 4,
// a zero-padded V tile) · S [Br][Bc] · O [Br][Dp] · m, l, alpha [Br].
// ---------------------------------------------------------------------------

/** Per-thread scratch bytes of flashAttentionForward (and attentionWeights). */
export function flashAttentionForwardScratchBytes(p: usize): usize {
  const Br = <usize>tileRows(p);
  const Bc = <usize>tileCols(p);
  const D = <usize>paramI32(p, A_HEAD_DIM);
  const Dp = <usize>roundUp4(<i32>D);
  let at: usize = 64; // room to align the region start
  at = align64(at + Br * Dp * 4); // Qs
  at = align64(at + D * Bc * 4); // Kt
  if (D & 3) at = align64(at + Bc * Dp * 4); // Vp
  at = align64(at + Br * Bc * 4); // S
  at = align64(at + Br * Dp * 4); // O
  at = align64(at + Br * 12); // m, l, alpha
  return at;
}

export function flashAttentionForward(p: usize, tid: i32, nthreads: i32): void {
  const Br = tileRows(p);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const H = paramI32(p, A_NUM_HEADS);
  const nqb = (Nq + Br - 1) / Br;
  const items = paramI32(p, A_BATCH) * H * nqb;
  const scratch = threadScratch(p, tid);
  for (let item = tid; item < items; item += nthreads) {
    const qb = item % nqb;
    const bh = item / nqb;
    const i0 = qb * Br;
    forwardBlock(p, scratch, bh / H, bh % H, i0, min(Nq, i0 + Br));
  }
}

function forwardBlock(p: usize, scratch: usize, b: i32, h: i32, i0: i32, i1: i32): void {
  const Br = tileRows(p);
  const Bc = tileCols(p);
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = roundUp4(D);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const hk = h / (paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS));
  const offset = Nk - Nq;
  const causal = paramI32(p, A_CAUSAL) != 0;
  const wl = paramI32(p, A_WINDOW_LEFT);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  const rows = i1 - i0;
  const Mp = roundUp4(rows);
  const ldo = <usize>paramI32(p, A_OUTPUT_STRIDE_ROW) << 2;
  const out = rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, i0);
  const lse = paramPtr(p, A_LOG_SUM_EXP);
  const lseRow = lse ? lsePtr(p, b, h, i0) : 0;

  let at = scratch;
  const Qs = at;
  at = align64(at + <usize>(Br * Dp) * 4);
  const Kt = at;
  at = align64(at + <usize>(D * Bc) * 4);
  let Vp: usize = 0;
  if (D & 3) {
    Vp = at;
    at = align64(at + <usize>(Bc * Dp) * 4);
  }
  const S = at;
  at = align64(at + <usize>(Br * Bc) * 4);
  const O = at;
  at = align64(at + <usize>(Br * Dp) * 4);
  const mRow = at;
  const lRow = mRow + (<usize>Br << 2);
  const alpha = lRow + (<usize>Br << 2);

  // keys any row of the block sees: [lo(i0), hi(i1 − 1)]
  const jStart = rowLo(i0, offset, wl);
  const jEnd = rowHi(i1 - 1, offset, causal, wr, Nk);
  if (jStart > jEnd) {
    // every row is fully masked: O = 0, LSE = −∞
    for (let r = 0; r < rows; r++) {
      memory.fill(out + <usize>r * ldo, 0, <usize>D << 2);
      if (lse) store<f32>(lseRow + (<usize>r << 2), -Infinity);
    }
    return;
  }
  // Qs = log2(e)·scale·Q: base-2 logits (see exp2x4)
  packRows(rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, i0), <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2, rows, Mp, D, Qs, paramF32(p, A_SCALE) * LOG2E);
  memory.fill(O, 0, <usize>(Mp * Dp) << 2);
  for (let r = 0; r < Mp; r++) {
    store<f32>(mRow + (<usize>r << 2), -Infinity);
    store<f32>(lRow + (<usize>r << 2), 0);
    store<f32>(alpha + (<usize>r << 2), 0);
  }
  const modifiers = hasScoreModifiers(p);
  const dropP = paramF32(p, A_DROPOUT_P);
  const threshold = dropoutThreshold(dropP);
  const keepScale: f32 = dropP < 1 ? 1 / (1 - dropP) : 0;
  const seed = <u32>paramI32(p, A_DROPOUT_SEED);
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  const ldv = <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2;

  for (let j0 = jStart; j0 <= jEnd; j0 += Bc) {
    const jn = min(Bc, jEnd + 1 - j0);
    const Np = roundUp4(jn);
    // rows that see some key of the tile (a contiguous range: lo and hi grow
    // with i), from a multiple of 4; the others skip it (causal diagonal, windows)
    const r0 = (max(i0, firstRowSeeing(j0, offset, causal, wr)) - i0) & ~3;
    const r1 = min(i1 - 1, lastRowSeeing(j0 + jn - 1, offset, wl)) - i0 + 1;
    if (r1 <= r0) continue;
    const M = roundUp4(r1 - r0);
    const full = jn == Np && rowLo(i0 + r1 - 1, offset, wl) <= j0 && rowHi(i0 + r0, offset, causal, wr, Nk) >= j0 + jn - 1;
    const ldS = <usize>Np << 2;
    const Sr = S + <usize>r0 * ldS;
    const ro = <usize>r0 << 2;
    packTransposed(rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, j0), ldk, jn, Np, D, Kt, ldS, 1);
    let vTile = rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, j0);
    let ldvTile = ldv;
    if (Vp) {
      packRows(vTile, ldv, jn, jn, D, Vp, 1);
      vTile = Vp;
      ldvTile = <usize>Dp << 2;
    }
    // S = (log2(e)·scale·Q)·Kᵀ
    gemmZero(Qs + <usize>(r0 * Dp) * 4, <usize>Dp << 2, 4, M, Kt, ldS, Np, D, Sr, ldS);
    // logits: softcap, ALiBi, mask, and the causal/window boundary
    if (modifiers || !full) {
      for (let r = r0; r < r1; r++) {
        const i = i0 + r;
        modifyRow(p, S + <usize>r * ldS, 0, b, h, i, j0, Np, rowLo(i, offset, wl), min(rowHi(i, offset, causal, wr, Nk), j0 + jn - 1), !full);
      }
    }
    // online softmax: P = 2^(S − m'), l, and alpha = 2^(m − m') for O
    softmaxStep(Sr, ldS, r1 - r0, Np, mRow + ro, lRow + ro, alpha + ro);
    if (threshold) {
      for (let r = r0; r < r1; r++) dropoutRow(S + <usize>r * ldS, Np, dropoutRowKey(seed, b, h, i0 + r), j0, threshold, keepScale);
    }
    // O = alpha·O + P·V (rows past `rows` have Q = 0, so P = 0, and alpha = 0)
    gemmRescale(Sr, ldS, 4, M, vTile, ldvTile, Dp, jn, O + <usize>(r0 * Dp) * 4, <usize>Dp << 2, alpha + ro);
  }

  for (let r = 0; r < rows; r++) {
    const l = load<f32>(lRow + (<usize>r << 2));
    storeRows(O + <usize>(r * Dp) * 4, 1, D, out + <usize>r * ldo, 0, inverseSum(l));
    // LSE = ln Σ e^s = ln 2·m + ln l (m is the base-2 max); −∞ for a row that saw no key, NaN stays NaN
    if (lse) store<f32>(lseRow + (<usize>r << 2), l == 0 ? -Infinity : LN2 * load<f32>(mRow + (<usize>r << 2)) + Mathf.log(l));
  }
}

// ---------------------------------------------------------------------------
// Weights: P = softmax(mods(scale·Q·Kᵀ)) (before dropout) written to
// params.weights [B, H, Nq, Nk], from the forward's log-sum-exp. Only for
// pictures: it materializes Nq × Nk per head. Scratch as the forward.
// ---------------------------------------------------------------------------

export function attentionWeights(p: usize, tid: i32, nthreads: i32): void {
  const Br = tileRows(p);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const H = paramI32(p, A_NUM_HEADS);
  const nqb = (Nq + Br - 1) / Br;
  const items = paramI32(p, A_BATCH) * H * nqb;
  const scratch = threadScratch(p, tid);
  for (let item = tid; item < items; item += nthreads) {
    const qb = item % nqb;
    const bh = item / nqb;
    const i0 = qb * Br;
    weightsBlock(p, scratch, bh / H, bh % H, i0, min(Nq, i0 + Br));
  }
}

function weightsBlock(p: usize, scratch: usize, b: i32, h: i32, i0: i32, i1: i32): void {
  const Br = tileRows(p);
  const Bc = tileCols(p);
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = roundUp4(D);
  const H = paramI32(p, A_NUM_HEADS);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const hk = h / (H / paramI32(p, A_NUM_KV_HEADS));
  const offset = Nk - Nq;
  const causal = paramI32(p, A_CAUSAL) != 0;
  const wl = paramI32(p, A_WINDOW_LEFT);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  const rows = i1 - i0;
  const Mp = roundUp4(rows);
  const Qs = scratch;
  const Kt = align64(Qs + <usize>(Br * Dp) * 4);
  const S = align64(Kt + <usize>(D * Bc) * 4);
  const weights = paramPtr(p, A_WEIGHTS) + (<usize>((b * H + h) * Nq + i0) * Nk << 2);
  const ldw = <usize>Nk << 2;
  const jStart = rowLo(i0, offset, wl);
  const jEnd = rowHi(i1 - 1, offset, causal, wr, Nk);
  for (let r = 0; r < rows; r++) memory.fill(weights + <usize>r * ldw, 0, ldw);
  if (jStart > jEnd) return;
  const fullLo = rowLo(i1 - 1, offset, wl);
  const fullHi = rowHi(i0, offset, causal, wr, Nk);
  // Qs = log2(e)·scale·Q: base-2 logits (see exp2x4)
  packRows(rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, i0), <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2, rows, Mp, D, Qs, paramF32(p, A_SCALE) * LOG2E);
  const modifiers = hasScoreModifiers(p);
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  for (let j0 = jStart; j0 <= jEnd; j0 += Bc) {
    const jn = min(Bc, jEnd + 1 - j0);
    const Np = roundUp4(jn);
    const full = jn == Np && j0 >= fullLo && j0 + jn - 1 <= fullHi;
    const ldS = <usize>Np << 2;
    packTransposed(rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, j0), ldk, jn, Np, D, Kt, ldS, 1);
    gemmZero(Qs, <usize>Dp << 2, 4, Mp, Kt, ldS, Np, D, S, ldS);
    for (let r = 0; r < rows; r++) {
      const i = i0 + r;
      const lse = load<f32>(lsePtr(p, b, h, i));
      if (lse == -Infinity) continue;
      const s = S + <usize>r * ldS;
      if (modifiers || !full) modifyRow(p, s, 0, b, h, i, j0, Np, rowLo(i, offset, wl), min(rowHi(i, offset, causal, wr, Nk), j0 + jn - 1), !full);
      expRowSum(s, Np, lse * LOG2E);
      memory.copy(weights + <usize>r * ldw + (<usize>j0 << 2), s, <usize>jn << 2);
    }
  }
}
