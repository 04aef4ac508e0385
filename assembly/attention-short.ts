// Attention over short sequences (a ViT's 17 patches, a sentence's few dozen
// tokens): every key of a (batch, kv head) fits one tile, so there is no
// online softmax, no query/key blocking and no dQ pass. One work item is a
// whole (b, kv head) group: K (and V) are packed once for its G query heads,
// the scores of a head are one GEMM, the softmax is exact (max, then exp and
// sum), and the GEMMs read Q, V, dO and K in place and write O, dQ, dK and dV
// straight to their rows. The tiled kernels (attention.ts,
// attention-backward.ts) cost ~4× more per head at this size: per-block
// packing, online-softmax bookkeeping and per-row boundary passes.
// Legend as in attention.ts:
// B batch · H query heads · Hk key/value heads (G = H / Hk)
// Nq query rows · Nk key rows · D head dim · Np = Nk rounded up to 4
//
// The wrapper (src/backend/wasm/attention.ts) sends a call here when
// Nq, Nk ≤ its short-length setting, D % 4 == 0 and there is no dropout;
// softcap, ALiBi, masks, causal and windows go through modifyRow as in the
// tiled kernels. NaN propagates as there: a NaN score makes its row NaN, a
// row of −∞ alone (fully masked) gives zeros and LSE = −∞.
import {
  A_BATCH,
  A_CAUSAL,
  A_GRAD_KEY,
  A_GRAD_KEY_STRIDE_BATCH,
  A_GRAD_KEY_STRIDE_ROW,
  A_GRAD_OUTPUT,
  A_GRAD_OUTPUT_STRIDE_BATCH,
  A_GRAD_OUTPUT_STRIDE_ROW,
  A_GRAD_QUERY,
  A_GRAD_QUERY_STRIDE_BATCH,
  A_GRAD_QUERY_STRIDE_ROW,
  A_GRAD_VALUE,
  A_GRAD_VALUE_STRIDE_BATCH,
  A_GRAD_VALUE_STRIDE_ROW,
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
  A_SOFTCAP,
  A_VALUE,
  A_VALUE_STRIDE_BATCH,
  A_VALUE_STRIDE_ROW,
  A_WINDOW_LEFT,
  A_WINDOW_RIGHT,
  paramF32,
  paramI32,
  paramPtr,
} from './attention-params';
import { align64, dotRow, gemmAccumulate, gemmZero, packTransposed, roundUp4 } from './attention-gemm';
import { hasScoreModifiers, LN2, LOG2E, lsePtr, modifyRow, rowHi, rowLo, rowPtr, threadScratch } from './attention-tile';
import { exp2Fast } from './fast-math';
import { vlog } from './math';
import { fma, shareStart } from './simd';

/** Bytes of a [rows][Np] f32 panel, 64-aligned. */
// @ts-ignore: decorator
@inline function panelBytes(rows: i32, Np: i32): usize {
  return align64(<usize>(rows * Np) << 2);
}

/**
 * Per-thread scratch of shortAttentionForward: by rows Kt [D][Np] and S [Nq][Np];
 * by columns Qt [D][Nqp] and Sᵀ [Nk][Nqp].
 */
export function shortAttentionForwardScratchBytes(p: usize): usize {
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const Np = roundUp4(Nk);
  const Nqp = roundUp4(Nq);
  return 64 + max<usize>(panelBytes(D, Np) + panelBytes(Nq, Np), panelBytes(D, Nqp) + panelBytes(Nk, Nqp));
}

/**
 * Per-thread scratch of shortAttentionBackward: by rows Kt, Vt [D][Np] and
 * P, dS, softcap′ [Nq][Np]; by columns Qt, dOt [D][Nqp], Pᵀ, dSᵀ [Nk][Nqp] and Dᵢ, LSE [Nqp].
 */
export function shortAttentionBackwardScratchBytes(p: usize): usize {
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const Np = roundUp4(Nk);
  const Nqp = roundUp4(Nq);
  const rows = <usize>2 * panelBytes(D, Np) + 3 * panelBytes(Nq, Np);
  const columns = <usize>2 * (panelBytes(D, Nqp) + panelBytes(Nk, Nqp) + panelBytes(1, Nqp));
  return 64 + max<usize>(rows, columns);
}

/** B·Hk (b, kv head) groups: the work items; a thread takes a contiguous share. */
// @ts-ignore: decorator
@inline function groupCount(p: usize): i32 {
  return paramI32(p, A_BATCH) * paramI32(p, A_NUM_KV_HEADS);
}

/** O and LSE for thread tid's share of the (b, kv head) groups. */
export function shortAttentionForward(p: usize, tid: i32, nthreads: i32): void {
  const groups = groupCount(p);
  const Hk = paramI32(p, A_NUM_KV_HEADS);
  const scratch = threadScratch(p, tid);
  const end = shareStart(groups, tid + 1, nthreads);
  for (let group = shareStart(groups, tid, nthreads); group < end; group++) forwardGroup(p, scratch, group / Hk, group % Hk);
}

/** dQ, dK, dV for thread tid's share of the groups (a group's dK, dV sum over its G heads: no other thread writes them). */
export function shortAttentionBackward(p: usize, tid: i32, nthreads: i32): void {
  const groups = groupCount(p);
  const Hk = paramI32(p, A_NUM_KV_HEADS);
  const scratch = threadScratch(p, tid);
  const end = shareStart(groups, tid + 1, nthreads);
  for (let group = shareStart(groups, tid, nthreads); group < end; group++) backwardGroup(p, scratch, group / Hk, group % Hk);
}

// ---------------------------------------------------------------------------
// Forward: S = Q·(log2(e)·scale·Kᵀ) (base-2 logits), P = softmax(mods(S)), O = P·V
// ---------------------------------------------------------------------------

function forwardGroup(p: usize, scratch: usize, b: i32, hk: i32): void {
  if (hasScoreModifiers(p)) forwardGroupRows(p, scratch, b, hk);
  else forwardGroupColumns(p, scratch, b, hk);
}

/** With a mask, ALiBi or softcap: scores row by row (S = Q·Kᵀ), modifyRow on each row. */
function forwardGroupRows(p: usize, scratch: usize, b: i32, hk: i32): void {
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const G = paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS);
  const Np = roundUp4(Nk);
  const ldS = <usize>Np << 2;
  const Kt = align64(scratch);
  const S = Kt + panelBytes(D, Np);
  const ldq = <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2;
  const ldv = <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2;
  const ldo = <usize>paramI32(p, A_OUTPUT_STRIDE_ROW) << 2;
  const writeLse = paramPtr(p, A_LOG_SUM_EXP) != 0;
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  packTransposed(rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, 0), ldk, Nk, Np, D, Kt, ldS, paramF32(p, A_SCALE) * LOG2E);
  const v = rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, 0);
  for (let g = 0; g < G; g++) {
    const h = hk * G + g;
    gemmZero(rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, 0), ldq, 4, Nq, Kt, ldS, Np, D, S, ldS);
    for (let i = 0; i < Nq; i++) {
      const s = S + <usize>i * ldS;
      logits(p, s, 0, b, h, i, Np);
      const lse = softmaxRow(s, Np);
      if (writeLse) store<f32>(lsePtr(p, b, h, i), lse);
    }
    // O = P·V over the Nk real keys, written to O's rows
    gemmZero(S, ldS, 4, Nq, v, ldv, D, Nk, rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, 0), ldo);
  }
}

/**
 * Without score modifiers: the scores transposed, Sᵀ = K·Qᵀ [Nk][Nqp], so one
 * vector holds four query rows at one key and the softmax runs down the
 * columns with no horizontal reductions (four rows' max, sum and log at once);
 * causal and window limits are lane compares.
 */
function forwardGroupColumns(p: usize, scratch: usize, b: i32, hk: i32): void {
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const G = paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS);
  const Nqp = roundUp4(Nq);
  const ldT = <usize>Nqp << 2;
  const Qt = align64(scratch);
  const St = Qt + panelBytes(D, Nqp);
  const ldq = <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2;
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  const ldv = <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2;
  const ldo = <usize>paramI32(p, A_OUTPUT_STRIDE_ROW) << 2;
  const writeLse = paramPtr(p, A_LOG_SUM_EXP) != 0;
  const k = rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, 0);
  const v = rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, 0);
  const c = paramF32(p, A_SCALE) * LOG2E;
  for (let g = 0; g < G; g++) {
    const h = hk * G + g;
    // Qt = log2(e)·scale·Qᵀ; Sᵀ = K·Qt (base-2 logits)
    packTransposed(rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, 0), ldq, Nq, Nqp, D, Qt, ldT, c);
    gemmZero(k, ldk, 4, Nk, Qt, ldT, Nqp, D, St, ldT);
    for (let i0 = 0; i0 < Nqp; i0 += 4) {
      const lse = softmaxColumns(p, St + (<usize>i0 << 2), ldT, Nk, i0);
      if (writeLse) {
        const to = lsePtr(p, b, h, i0);
        if (i0 + 4 <= Nq) v128.store(to, lse);
        else for (let r = 0; r < Nq - i0; r++) store<f32>(to + (<usize>r << 2), extractLane(lse, r));
      }
    }
    // O = P·V: A(i, j) = Sᵀ[j][i] read in place (aRow = 4)
    gemmZero(St, 4, ldT, Nq, v, ldv, D, Nk, rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, 0), ldo);
  }
}

// @ts-ignore: decorator
@inline function extractLane(v: v128, r: i32): f32 {
  return r == 0 ? f32x4.extract_lane(v, 0) : r == 1 ? f32x4.extract_lane(v, 1) : r == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/**
 * Lanes of query rows i0..i0+3 at key j that fall outside their [lo, hi]
 * (causal and window limits, bottom-right aligned): all-ones there.
 */
// @ts-ignore: decorator
@inline function outsideLanes(j: i32, lo: v128, hi: v128): v128 {
  const jv = i32x4.splat(j);
  return v128.or(i32x4.lt_s(jv, lo), i32x4.gt_s(jv, hi));
}

/** i' = i + Nk − Nq of rows i0..i0+3, as lanes. */
// @ts-ignore: decorator
@inline function lanePositions(p: usize, i0: i32): v128 {
  return i32x4.add(i32x4.splat(i0 + paramI32(p, A_KEY_LENGTH) - paramI32(p, A_QUERY_LENGTH)), i32x4(0, 1, 2, 3));
}

/** rowLo (attention-tile.ts) of rows i0..i0+3 as lanes. */
// @ts-ignore: decorator
@inline function laneLo(p: usize, i0: i32): v128 {
  const wl = paramI32(p, A_WINDOW_LEFT);
  return wl >= 0 ? i32x4.max_s(i32x4.splat(0), i32x4.sub(lanePositions(p, i0), i32x4.splat(wl))) : i32x4.splat(0);
}

/** rowHi (attention-tile.ts) of rows i0..i0+3 as lanes. */
// @ts-ignore: decorator
@inline function laneHi(p: usize, i0: i32): v128 {
  const iv = lanePositions(p, i0);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  let hi = i32x4.splat(paramI32(p, A_KEY_LENGTH) - 1);
  if (paramI32(p, A_CAUSAL) != 0) hi = i32x4.min_s(hi, iv);
  if (wr >= 0) hi = i32x4.min_s(hi, i32x4.add(iv, i32x4.splat(wr)));
  return hi;
}

/** Are there causal or window limits? */
// @ts-ignore: decorator
@inline function hasPositionalLimits(p: usize): bool {
  return paramI32(p, A_CAUSAL) != 0 || paramI32(p, A_WINDOW_LEFT) >= 0 || paramI32(p, A_WINDOW_RIGHT) >= 0;
}

/**
 * Columns i0..i0+3 of Sᵀ (rows 0..Nk−1, ldT bytes apart) ← softmax over j;
 * returns the four natural LSEs. Keys outside a row's causal/window range
 * count as −∞; a row without keys gets zeros and LSE −∞; a NaN score makes
 * its row NaN.
 */
function softmaxColumns(p: usize, s: usize, ldT: usize, Nk: i32, i0: i32): v128 {
  const ninf = f32x4.splat(-Infinity);
  let m = ninf;
  let nan = i32x4.splat(0);
  if (hasPositionalLimits(p)) {
    const lo = laneLo(p, i0);
    const hi = laneHi(p, i0);
    for (let j = 0; j < Nk; j++) {
      const at = s + <usize>j * ldT;
      const x = v128.bitselect(ninf, v128.load(at), outsideLanes(j, lo, hi));
      v128.store(at, x);
      m = f32x4.pmax(m, x);
      nan = v128.or(nan, f32x4.ne(x, x));
    }
  } else {
    for (let j = 0; j < Nk; j++) {
      const x = v128.load(s + <usize>j * ldT);
      m = f32x4.pmax(m, x);
      nan = v128.or(nan, f32x4.ne(x, x));
    }
  }
  // pmax skips NaN: a row with a NaN gets m = NaN (its P, O and LSE become NaN);
  // a row without keys (m = −∞) subtracts 0 so its entries give 2^−∞ = 0
  m = v128.bitselect(f32x4.splat(NaN), m, nan);
  const empty = f32x4.eq(m, ninf);
  const mSafe = v128.andnot(m, empty);
  let l = f32x4.splat(0);
  for (let j = 0; j < Nk; j++) {
    const at = s + <usize>j * ldT;
    const e = exp2Fast(f32x4.sub(v128.load(at), mSafe));
    v128.store(at, e);
    l = f32x4.add(l, e);
  }
  // 1/l: 0 where l = 0 (no keys), NaN stays NaN
  const inv = v128.andnot(f32x4.div(f32x4.splat(1), l), f32x4.eq(l, f32x4.splat(0)));
  for (let j = 0; j < Nk; j++) {
    const at = s + <usize>j * ldT;
    v128.store(at, f32x4.mul(v128.load(at), inv));
  }
  // LSE = ln 2·m + ln l (m is the base-2 max); −∞ for a row without keys
  return v128.bitselect(ninf, fma(f32x4.splat(LN2), m, vlog(l)), empty);
}

/**
 * Row i's logits from its base-2 scores: the modifiers and the causal/window
 * boundary through modifyRow (g: where softcap's derivative goes, or 0), or,
 * without any, −∞ in the padding columns Nk ≤ j < Np.
 */
// @ts-ignore: decorator
@inline function logits(p: usize, s: usize, g: usize, b: i32, h: i32, i: i32, Np: i32): void {
  const Nk = paramI32(p, A_KEY_LENGTH);
  const causal = paramI32(p, A_CAUSAL) != 0;
  const wl = paramI32(p, A_WINDOW_LEFT);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  if (causal || wl >= 0 || wr >= 0 || hasScoreModifiers(p)) {
    const offset = Nk - paramI32(p, A_QUERY_LENGTH);
    modifyRow(p, s, g, b, h, i, 0, Np, rowLo(i, offset, wl), rowHi(i, offset, causal, wr, Nk), true);
  } else {
    for (let j = Nk; j < Np; j++) store<f32>(s + (<usize>j << 2), -Infinity);
  }
}

/** Does s[0..n) (n % 4 == 0) hold a NaN? */
function rowHasNaN(s: usize, n: i32): bool {
  let any = i32x4.splat(0);
  for (let j = 0; j < n; j += 4) {
    const x = v128.load(s + (<usize>j << 2));
    any = v128.or(any, f32x4.ne(x, x));
  }
  return v128.any_true(any);
}

/**
 * s[0..n) (base-2 logits, n % 4 == 0) ← softmax; returns the natural LSE.
 * A row of −∞ alone becomes zeros with LSE −∞; a NaN anywhere makes the row
 * and its LSE NaN (pmax skips NaN, so a row of NaN and −∞ is looked at again).
 */
function softmaxRow(s: usize, n: i32): f32 {
  let mv = v128.load(s);
  for (let j = 4; j < n; j += 4) mv = f32x4.pmax(mv, v128.load(s + (<usize>j << 2)));
  mv = f32x4.pmax(mv, i32x4.shuffle(mv, mv, 2, 3, 0, 1));
  mv = f32x4.pmax(mv, i32x4.shuffle(mv, mv, 1, 0, 3, 2));
  let m = f32x4.extract_lane(mv, 0);
  if (m == -Infinity) {
    if (!rowHasNaN(s, n)) {
      memory.fill(s, 0, <usize>n << 2);
      return -Infinity;
    }
    m = NaN;
  }
  const ms = f32x4.splat(m);
  let acc = f32x4.splat(0);
  for (let j = 0; j < n; j += 4) {
    const o = s + (<usize>j << 2);
    const e = exp2Fast(f32x4.sub(v128.load(o), ms));
    v128.store(o, e);
    acc = f32x4.add(acc, e);
  }
  const l = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  const inv = f32x4.splat(1 / l);
  for (let j = 0; j < n; j += 4) {
    const o = s + (<usize>j << 2);
    v128.store(o, f32x4.mul(v128.load(o), inv));
  }
  // LSE = ln Σ e^s = ln 2·m + ln l (m is the base-2 max)
  return LN2 * m + Mathf.log(l);
}

// ---------------------------------------------------------------------------
// Backward, per head of the group, with P recomputed from the saved LSE:
//   Dᵢ = rowsum(dO∘O)ᵢ
//   dP = dO·Vᵀ                 (forward: O = P·V)
//   dS = scale·P∘(dP − D)∘c′   (forward: P = softmax(S'), S' = c·tanh(S/c), S = scale·Q·Kᵀ)
//   dV (+)= Pᵀ·dO,  dK (+)= dSᵀ·Q,  dQ = dS·K
// ---------------------------------------------------------------------------

function backwardGroup(p: usize, scratch: usize, b: i32, hk: i32): void {
  if (hasScoreModifiers(p)) backwardGroupRows(p, scratch, b, hk);
  else backwardGroupColumns(p, scratch, b, hk);
}

/**
 * Without score modifiers, transposed as the forward: Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ
 * [Nk][Nqp], the gradient pass down the columns (four rows per vector, their
 * LSE and Dᵢ as lanes), and the GEMMs reading Pᵀ and dSᵀ in place either way round.
 */
function backwardGroupColumns(p: usize, scratch: usize, b: i32, hk: i32): void {
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const G = paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS);
  const scale = paramF32(p, A_SCALE);
  const Nqp = roundUp4(Nq);
  const ldT = <usize>Nqp << 2;
  const Qt = align64(scratch);
  const dOt = Qt + panelBytes(D, Nqp);
  const Pt = dOt + panelBytes(D, Nqp);
  const dSt = Pt + panelBytes(Nk, Nqp);
  const Drow = dSt + panelBytes(Nk, Nqp);
  const Lrow = Drow + panelBytes(1, Nqp);
  const ldq = <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2;
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  const ldv = <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2;
  const ldo = <usize>paramI32(p, A_OUTPUT_STRIDE_ROW) << 2;
  const lddo = <usize>paramI32(p, A_GRAD_OUTPUT_STRIDE_ROW) << 2;
  const k = rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, 0);
  const v = rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, 0);
  const dk = rowPtr(p, A_GRAD_KEY, A_GRAD_KEY_STRIDE_BATCH, b, hk, 0);
  const dv = rowPtr(p, A_GRAD_VALUE, A_GRAD_VALUE_STRIDE_BATCH, b, hk, 0);
  const lddk = <usize>paramI32(p, A_GRAD_KEY_STRIDE_ROW) << 2;
  const lddv = <usize>paramI32(p, A_GRAD_VALUE_STRIDE_ROW) << 2;
  const positional = hasPositionalLimits(p);
  for (let g = 0; g < G; g++) {
    const h = hk * G + g;
    const q = rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, 0);
    const dO = rowPtr(p, A_GRAD_OUTPUT, A_GRAD_OUTPUT_STRIDE_BATCH, b, h, 0);
    const o = rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, 0);
    packTransposed(q, ldq, Nq, Nqp, D, Qt, ldT, scale * LOG2E);
    packTransposed(dO, lddo, Nq, Nqp, D, dOt, ldT, 1);
    gemmZero(k, ldk, 4, Nk, Qt, ldT, Nqp, D, Pt, ldT);
    gemmZero(v, ldv, 4, Nk, dOt, ldT, Nqp, D, dSt, ldT);
    // per row: Dᵢ = rowsum(dO∘O)ᵢ and log2(e)·LSEᵢ, +∞ for a row without keys (so its P is 0); padding rows likewise
    for (let i = 0; i < Nqp; i++) {
      const at = <usize>i << 2;
      const lse: f32 = i < Nq ? load<f32>(lsePtr(p, b, h, i)) : -Infinity;
      store<f32>(Lrow + at, lse == -Infinity ? Infinity : lse * LOG2E);
      store<f32>(Drow + at, i < Nq && lse != -Infinity ? dotRow(dO + <usize>i * lddo, o + <usize>i * ldo, D) : 0);
    }
    for (let i0 = 0; i0 < Nqp; i0 += 4) {
      const lse2 = v128.load(Lrow + (<usize>i0 << 2));
      const Di = v128.load(Drow + (<usize>i0 << 2));
      const lo = laneLo(p, i0);
      const hi = laneHi(p, i0);
      const sv = f32x4.splat(scale);
      for (let j = 0; j < Nk; j++) {
        const at = <usize>j * ldT + (<usize>i0 << 2);
        // P = 2^(log2(e)·(S − LSE)); dS = scale·P∘(dP − D)
        let pv = exp2Fast(f32x4.sub(v128.load(Pt + at), lse2));
        if (positional) pv = v128.andnot(pv, outsideLanes(j, lo, hi));
        v128.store(Pt + at, pv);
        v128.store(dSt + at, f32x4.mul(f32x4.mul(pv, f32x4.sub(v128.load(dSt + at), Di)), sv));
      }
    }
    // dV (+)= Pᵀ·dO and dK (+)= dSᵀ·Q: A = Pᵀ, dSᵀ rows (Nk of them) over the Nq real query rows
    if (g == 0) {
      gemmZero(Pt, ldT, 4, Nk, dO, lddo, D, Nq, dv, lddv);
      gemmZero(dSt, ldT, 4, Nk, q, ldq, D, Nq, dk, lddk);
    } else {
      gemmAccumulate(Pt, ldT, 4, Nk, dO, lddo, D, Nq, dv, lddv);
      gemmAccumulate(dSt, ldT, 4, Nk, q, ldq, D, Nq, dk, lddk);
    }
    // dQ = dS·K: A(i, j) = dSᵀ[j][i] (aRow = 4)
    gemmZero(dSt, 4, ldT, Nq, k, ldk, D, Nk, rowPtr(p, A_GRAD_QUERY, A_GRAD_QUERY_STRIDE_BATCH, b, h, 0), <usize>paramI32(p, A_GRAD_QUERY_STRIDE_ROW) << 2);
  }
}

/** With a mask, ALiBi or softcap: row by row (S = Q·Kᵀ), modifyRow on each row. */
function backwardGroupRows(p: usize, scratch: usize, b: i32, hk: i32): void {
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const G = paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS);
  const scale = paramF32(p, A_SCALE);
  const softcap = paramF32(p, A_SOFTCAP) > 0;
  const Np = roundUp4(Nk);
  const ldS = <usize>Np << 2;
  const Kt = align64(scratch);
  const Vt = Kt + panelBytes(D, Np);
  const P = Vt + panelBytes(D, Np);
  const dS = P + panelBytes(Nq, Np);
  const Gc = dS + panelBytes(Nq, Np);
  const ldq = <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2;
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  const ldo = <usize>paramI32(p, A_OUTPUT_STRIDE_ROW) << 2;
  const lddo = <usize>paramI32(p, A_GRAD_OUTPUT_STRIDE_ROW) << 2;
  const k = rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, 0);
  packTransposed(k, ldk, Nk, Np, D, Kt, ldS, scale * LOG2E);
  packTransposed(rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, 0), <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2, Nk, Np, D, Vt, ldS, 1);
  const dk = rowPtr(p, A_GRAD_KEY, A_GRAD_KEY_STRIDE_BATCH, b, hk, 0);
  const dv = rowPtr(p, A_GRAD_VALUE, A_GRAD_VALUE_STRIDE_BATCH, b, hk, 0);
  const lddk = <usize>paramI32(p, A_GRAD_KEY_STRIDE_ROW) << 2;
  const lddv = <usize>paramI32(p, A_GRAD_VALUE_STRIDE_ROW) << 2;
  for (let g = 0; g < G; g++) {
    const h = hk * G + g;
    const q = rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, 0);
    const dO = rowPtr(p, A_GRAD_OUTPUT, A_GRAD_OUTPUT_STRIDE_BATCH, b, h, 0);
    const o = rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, 0);
    gemmZero(q, ldq, 4, Nq, Kt, ldS, Np, D, P, ldS);
    gemmZero(dO, lddo, 4, Nq, Vt, ldS, Np, D, dS, ldS);
    for (let i = 0; i < Nq; i++) {
      const pr = P + <usize>i * ldS;
      const dr = dS + <usize>i * ldS;
      const lse = load<f32>(lsePtr(p, b, h, i));
      if (lse == -Infinity) {
        // a fully masked row: no probability, no gradient
        memory.fill(pr, 0, ldS);
        memory.fill(dr, 0, ldS);
        continue;
      }
      const gc = Gc + <usize>i * ldS;
      logits(p, pr, softcap ? gc : 0, b, h, i, Np);
      gradientRow(pr, dr, gc, softcap, Np, lse * LOG2E, dotRow(dO + <usize>i * lddo, o + <usize>i * ldo, D), scale);
    }
    // dV (+)= Pᵀ·dO and dK (+)= dSᵀ·Q over the Nk real keys (A read transposed: aRow = 4)
    if (g == 0) {
      gemmZero(P, 4, ldS, Nk, dO, lddo, D, Nq, dv, lddv);
      gemmZero(dS, 4, ldS, Nk, q, ldq, D, Nq, dk, lddk);
    } else {
      gemmAccumulate(P, 4, ldS, Nk, dO, lddo, D, Nq, dv, lddv);
      gemmAccumulate(dS, 4, ldS, Nk, q, ldq, D, Nq, dk, lddk);
    }
    // dQ = dS·K
    gemmZero(dS, ldS, 4, Nq, k, ldk, D, Nk, rowPtr(p, A_GRAD_QUERY, A_GRAD_QUERY_STRIDE_BATCH, b, h, 0), <usize>paramI32(p, A_GRAD_QUERY_STRIDE_ROW) << 2);
  }
}

/** One row: pr ← P = 2^(logit − lse2), dr ← dS = scale·P∘(dP − Dᵢ) (∘ softcap′ from gc). */
// @ts-ignore: decorator
@inline function gradientRow(pr: usize, dr: usize, gc: usize, softcap: bool, n: i32, lse2: f32, Di: f32, scale: f32): void {
  const lseV = f32x4.splat(lse2);
  const Dv = f32x4.splat(Di);
  const sv = f32x4.splat(scale);
  for (let j = 0; j < n; j += 4) {
    const o = <usize>j << 2;
    const pv = exp2Fast(f32x4.sub(v128.load(pr + o), lseV));
    v128.store(pr + o, pv);
    let ds = f32x4.mul(f32x4.mul(pv, f32x4.sub(v128.load(dr + o), Dv)), sv);
    if (softcap) ds = f32x4.mul(ds, v128.load(gc + o));
    v128.store(dr + o, ds);
  }
}
