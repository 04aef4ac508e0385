// FlashAttention-2 backward. Legend as in attention.ts:
// B batch · H query heads · Hk key/value heads (G = H / Hk)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
//
// Forward (per b, h):   S = scale·Q·Kᵀ,  S' = mods(S),  P = softmax(S'),
//                        Pd = P∘Z/(1−p) (dropout mask Z),  O = Pd·V
// Backward, per tile, with P recomputed from the saved LSE (P = e^(S' − LSE)):
//   Dᵢ  = rowsum(dO∘O)ᵢ           (= Σⱼ Pᵢⱼ·dPᵢⱼ)
//   dV += Pdᵀ·dO                  (forward: O = Pd·V)
//   dP  = (dO·Vᵀ)∘Z/(1−p)         (forward: O = Pd·V, Pd = P∘Z/(1−p))
//   dS  = P∘(dP − D)∘(1 − tanh²)  (forward: P = softmax(S'), S' = c·tanh(S/c))
//   dQ += dS·K·scale              (forward: S = scale·Q·Kᵀ)
//   dK += dSᵀ·Q·scale
// dK, dV of a kv head sum over the G query heads that share it.
import {
  A_BATCH,
  A_CAUSAL,
  A_DROPOUT_P,
  A_DROPOUT_SEED,
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
} from './attention-params';
import {
  addRows,
  align64,
  dotRow,
  gemmAccumulate,
  gemmZero,
  packRows,
  packTransposed,
  roundUp4,
  storeRows,
} from './attention-gemm';
import {
  dropoutFactor4,
  dropoutRowKey,
  dropoutThreshold,
  firstRowSeeing,
  hasScoreModifiers,
  lastRowSeeing,
  LOG2E,
  lsePtr,
  modifyRow,
  rowHi,
  rowLo,
  rowPtr,
  threadScratch,
  tileCols,
  tileRows,
} from './attention-tile';
import { exp2x4, shareStart } from './simd';

// Scratch sections, in order (bytes computed by sectionBytes):
const KT: i32 = 0; // [D][Bc] log2(e)·scale·Kᵀ
const VT: i32 = 1; // [D][Bc] Vᵀ
const KP: i32 = 2; // [Bc][Dp] K, zero-padded (B operand of dQ)
const DK: i32 = 3; // [Bc][Dp] dK accumulator
const DV: i32 = 4; // [Bc][Dp] dV accumulator
const QP: i32 = 5; // [Br][Dp] Q, zero-padded
const DOP: i32 = 6; // [Br][Dp] dO, zero-padded
const DROW: i32 = 7; // [Br] Dᵢ = rowsum(dO∘O)
const LSE: i32 = 8; // [Br] log-sum-exp
const SP: i32 = 9; // [Br][Bc] S, then P
const DP: i32 = 10; // [Br][Bc] dP, then dS
const PD: i32 = 11; // [Br][Bc] P∘Z/(1−p) (dropout only)
const GC: i32 = 12; // [Br][Bc] 1 − tanh² (softcap only)
const DQ: i32 = 13; // [Br][Dp] dQ of one tile pair
const SECTIONS: i32 = 14;

// @ts-ignore: decorator
@inline function sectionBytes(k: i32, Br: usize, Bc: usize, D: usize): usize {
  const Dp = <usize>roundUp4(<i32>D);
  if (k <= VT) return D * Bc * 4;
  if (k <= DV) return Bc * Dp * 4;
  if (k <= DOP) return Br * Dp * 4;
  if (k <= LSE) return Br * 4;
  if (k <= GC) return Br * Bc * 4;
  return Br * Dp * 4;
}

function section(p: usize, scratch: usize, k: i32): usize {
  const Br = <usize>tileRows(p);
  const Bc = <usize>tileCols(p);
  const D = <usize>paramI32(p, A_HEAD_DIM);
  let at = scratch;
  for (let s = 0; s < k; s++) at = align64(at + sectionBytes(s, Br, Bc, D));
  return at;
}

/** Per-thread scratch bytes of flashAttentionBackward and flashAttentionBackwardDq. */
export function flashAttentionBackwardScratchBytes(p: usize): usize {
  return 64 + section(p, 0, SECTIONS);
}

/**
 * 1 when `nthreads` threads split the backward over key blocks and dQ needs
 * flashAttentionBackwardDq afterwards; 0 when threads take whole (b, kv head)
 * groups and flashAttentionBackward writes dQ itself.
 */
export function flashAttentionBackwardNeedsDqPass(p: usize, nthreads: i32): i32 {
  if (nthreads <= 1) return 0;
  const groups = paramI32(p, A_BATCH) * paramI32(p, A_NUM_KV_HEADS);
  const perThread = (groups + nthreads - 1) / nthreads;
  return groups * 4 < perThread * nthreads * 3 ? 1 : 0;
}

/** dK, dV (and dQ unless flashAttentionBackwardNeedsDqPass) from q, k, v, o, logSumExp, gradOutput. */
export function flashAttentionBackward(p: usize, tid: i32, nthreads: i32): void {
  const scratch = threadScratch(p, tid);
  const Bc = tileCols(p);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const Hk = paramI32(p, A_NUM_KV_HEADS);
  const groups = paramI32(p, A_BATCH) * Hk;
  const nkb = (Nk + Bc - 1) / Bc;
  if (flashAttentionBackwardNeedsDqPass(p, nthreads) == 0) {
    const G = paramI32(p, A_NUM_HEADS) / Hk;
    const Nq = paramI32(p, A_QUERY_LENGTH);
    const D = paramI32(p, A_HEAD_DIM);
    const lddq = <usize>paramI32(p, A_GRAD_QUERY_STRIDE_ROW) << 2;
    const g1 = shareStart(groups, tid + 1, nthreads);
    for (let group = shareStart(groups, tid, nthreads); group < g1; group++) {
      const b = group / Hk;
      const hk = group % Hk;
      // this thread owns every dQ row of the group's query heads
      for (let g = 0; g < G; g++) {
        const dq = rowPtr(p, A_GRAD_QUERY, A_GRAD_QUERY_STRIDE_BATCH, b, hk * G + g, 0);
        for (let i = 0; i < Nq; i++) memory.fill(dq + <usize>i * lddq, 0, <usize>D << 2);
      }
      for (let kb = 0; kb < nkb; kb++) keyBlock(p, scratch, b, hk, kb * Bc, min(Bc, Nk - kb * Bc), true);
    }
  } else {
    const items = groups * nkb;
    for (let item = tid; item < items; item += nthreads) {
      const kb = item % nkb;
      const group = item / nkb;
      keyBlock(p, scratch, group / Hk, group % Hk, kb * Bc, min(Bc, Nk - kb * Bc), false);
    }
  }
}

/** dQ, split over (b, h, query block); a no-op unless flashAttentionBackwardNeedsDqPass(params, nthreads). */
export function flashAttentionBackwardDq(p: usize, tid: i32, nthreads: i32): void {
  if (flashAttentionBackwardNeedsDqPass(p, nthreads) == 0) return;
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
    dqBlock(p, scratch, bh / H, bh % H, i0, min(Nq, i0 + Br));
  }
}

/** One key block j0..j0+jn−1 of kv head (b, hk): dK, dV over every query row that sees it (and dQ += when withDq). */
function keyBlock(p: usize, scratch: usize, b: i32, hk: i32, j0: i32, jn: i32, withDq: bool): void {
  const Br = tileRows(p);
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = roundUp4(D);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const G = paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS);
  const offset = Nk - Nq;
  const wl = paramI32(p, A_WINDOW_LEFT);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  const scale = paramF32(p, A_SCALE);
  const Np = roundUp4(jn);
  const ldS = <usize>Np << 2;
  const ldD = <usize>Dp << 2;
  const Kp = section(p, scratch, KP);
  const dK = section(p, scratch, DK);
  const dV = section(p, scratch, DV);
  const Qp = section(p, scratch, QP);
  const dOp = section(p, scratch, DOP);
  const dP = section(p, scratch, DP);
  const dQ = section(p, scratch, DQ);

  packKeyTile(p, scratch, b, hk, j0, jn, withDq);
  memory.fill(dK, 0, <usize>(Np * Dp) << 2);
  memory.fill(dV, 0, <usize>(Np * Dp) << 2);
  // query rows that see any key of the block: hi(i) ≥ j0 and lo(i) ≤ j0 + jn − 1
  const iMin = max(0, firstRowSeeing(j0, offset, paramI32(p, A_CAUSAL) != 0, wr));
  const iMax = min(Nq - 1, lastRowSeeing(j0 + jn - 1, offset, wl));
  const lddq = <usize>paramI32(p, A_GRAD_QUERY_STRIDE_ROW) << 2;
  for (let g = 0; g < G; g++) {
    const h = hk * G + g;
    for (let i0 = iMin; i0 <= iMax; i0 += Br) {
      const rows = min(Br, iMax + 1 - i0);
      const Mp = roundUp4(rows);
      packQueryBlock(p, scratch, b, h, i0, rows, Mp);
      const Pd = tileScores(p, scratch, b, h, i0, rows, Mp, j0, jn);
      // dV += Pdᵀ·dO   (forward: O = Pd·V)
      gemmAccumulate(Pd, 4, ldS, Np, dOp, ldD, Dp, rows, dV, ldD);
      // dK += dSᵀ·Q    (forward: S = scale·Q·Kᵀ; the scale is applied when dK is stored)
      gemmAccumulate(dP, 4, ldS, Np, Qp, ldD, Dp, rows, dK, ldD);
      if (withDq) {
        // dQ += dS·K·scale   (forward: S = scale·Q·Kᵀ)
        gemmZero(dP, ldS, 4, Mp, Kp, ldD, Dp, jn, dQ, ldD);
        addRows(dQ, rows, D, rowPtr(p, A_GRAD_QUERY, A_GRAD_QUERY_STRIDE_BATCH, b, h, i0), lddq, scale);
      }
    }
  }
  storeRows(dK, jn, D, rowPtr(p, A_GRAD_KEY, A_GRAD_KEY_STRIDE_BATCH, b, hk, j0), <usize>paramI32(p, A_GRAD_KEY_STRIDE_ROW) << 2, scale);
  storeRows(dV, jn, D, rowPtr(p, A_GRAD_VALUE, A_GRAD_VALUE_STRIDE_BATCH, b, hk, j0), <usize>paramI32(p, A_GRAD_VALUE_STRIDE_ROW) << 2, 1);
}

/** dQ of query rows i0..i1−1 of head (b, h), over every key tile they see. */
function dqBlock(p: usize, scratch: usize, b: i32, h: i32, i0: i32, i1: i32): void {
  const Bc = tileCols(p);
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = roundUp4(D);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const hk = h / (paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS));
  const offset = Nk - Nq;
  const rows = i1 - i0;
  const Mp = roundUp4(rows);
  const ldD = <usize>Dp << 2;
  const Kp = section(p, scratch, KP);
  const dP = section(p, scratch, DP);
  const dQ = section(p, scratch, DQ);
  packQueryBlock(p, scratch, b, h, i0, rows, Mp);
  memory.fill(dQ, 0, <usize>(Mp * Dp) << 2);
  const jStart = rowLo(i0, offset, paramI32(p, A_WINDOW_LEFT));
  const jEnd = rowHi(i1 - 1, offset, paramI32(p, A_CAUSAL) != 0, paramI32(p, A_WINDOW_RIGHT), Nk);
  for (let j0 = jStart; j0 <= jEnd; j0 += Bc) {
    const jn = min(Bc, jEnd + 1 - j0);
    packKeyTile(p, scratch, b, hk, j0, jn, true);
    tileScores(p, scratch, b, h, i0, rows, Mp, j0, jn);
    // dQ += dS·K   (forward: S = scale·Q·Kᵀ; the scale is applied when dQ is stored)
    gemmAccumulate(dP, <usize>roundUp4(jn) << 2, 4, Mp, Kp, ldD, Dp, jn, dQ, ldD);
  }
  storeRows(dQ, rows, D, rowPtr(p, A_GRAD_QUERY, A_GRAD_QUERY_STRIDE_BATCH, b, h, i0), <usize>paramI32(p, A_GRAD_QUERY_STRIDE_ROW) << 2, paramF32(p, A_SCALE));
}

/** Kt = log2(e)·scale·Kᵀ (base-2 logits), Vt = Vᵀ (and Kp = K, zero-padded, when withK) for keys j0..j0+jn−1 of kv head (b, hk). */
function packKeyTile(p: usize, scratch: usize, b: i32, hk: i32, j0: i32, jn: i32, withK: bool): void {
  const D = paramI32(p, A_HEAD_DIM);
  const Np = roundUp4(jn);
  const k = rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, j0);
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  packTransposed(k, ldk, jn, Np, D, section(p, scratch, KT), <usize>Np << 2, paramF32(p, A_SCALE) * LOG2E);
  const v = rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, j0);
  packTransposed(v, <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2, jn, Np, D, section(p, scratch, VT), <usize>Np << 2, 1);
  if (withK) packRows(k, ldk, jn, Np, D, section(p, scratch, KP), 1);
}

/** Qp = Q, dOp = dO (zero-padded to Mp rows × Dp), Dᵢ = rowsum(dO∘O)ᵢ and LSEᵢ for rows i0..i0+rows−1 of head (b, h). */
function packQueryBlock(p: usize, scratch: usize, b: i32, h: i32, i0: i32, rows: i32, Mp: i32): void {
  const D = paramI32(p, A_HEAD_DIM);
  const ldq = <usize>paramI32(p, A_QUERY_STRIDE_ROW) << 2;
  const lddo = <usize>paramI32(p, A_GRAD_OUTPUT_STRIDE_ROW) << 2;
  const ldo = <usize>paramI32(p, A_OUTPUT_STRIDE_ROW) << 2;
  const dO = rowPtr(p, A_GRAD_OUTPUT, A_GRAD_OUTPUT_STRIDE_BATCH, b, h, i0);
  const o = rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, i0);
  packRows(rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, h, i0), ldq, rows, Mp, D, section(p, scratch, QP), 1);
  packRows(dO, lddo, rows, Mp, D, section(p, scratch, DOP), 1);
  const dRow = section(p, scratch, DROW);
  const lse = section(p, scratch, LSE);
  const lseIn = lsePtr(p, b, h, i0);
  for (let r = 0; r < rows; r++) {
    store<f32>(dRow + (<usize>r << 2), dotRow(dO + <usize>r * lddo, o + <usize>r * ldo, D));
    store<f32>(lse + (<usize>r << 2), load<f32>(lseIn + (<usize>r << 2)));
  }
}

/**
 * For query rows i0.. (packed by packQueryBlock) × keys j0..j0+jn−1 (packed by
 * packKeyTile): S ← P = e^(mods(S) − LSE), dP ← dS. Returns the pointer of Pd
 * (P∘Z/(1−p) under dropout, else P itself). Rows past `rows`, and rows whose
 * LSE is −∞ (fully masked), get P = dS = 0.
 */
function tileScores(p: usize, scratch: usize, b: i32, h: i32, i0: i32, rows: i32, Mp: i32, j0: i32, jn: i32): usize {
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = roundUp4(D);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const offset = Nk - Nq;
  const causal = paramI32(p, A_CAUSAL) != 0;
  const wl = paramI32(p, A_WINDOW_LEFT);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  const Np = roundUp4(jn);
  const ldS = <usize>Np << 2;
  const ldD = <usize>Dp << 2;
  const S = section(p, scratch, SP);
  const dP = section(p, scratch, DP);
  const Pd = section(p, scratch, PD);
  const Gc = section(p, scratch, GC);
  const dRow = section(p, scratch, DROW);
  const lse = section(p, scratch, LSE);
  // S = Q·(log2(e)·scale·Kᵀ): base-2 logits;  dP = dO·Vᵀ
  gemmZero(section(p, scratch, QP), ldD, 4, Mp, section(p, scratch, KT), ldS, Np, D, S, ldS);
  gemmZero(section(p, scratch, DOP), ldD, 4, Mp, section(p, scratch, VT), ldS, Np, D, dP, ldS);

  const full = jn == Np && j0 >= rowLo(i0 + rows - 1, offset, wl) && j0 + jn - 1 <= rowHi(i0, offset, causal, wr, Nk);
  const modifiers = hasScoreModifiers(p);
  const softcap = paramF32(p, A_SOFTCAP) > 0;
  const dropP = paramF32(p, A_DROPOUT_P);
  const threshold = dropoutThreshold(dropP);
  const keepScale = f32x4.splat(dropP < 1 ? 1 / (1 - dropP) : 0);
  const seed = <u32>paramI32(p, A_DROPOUT_SEED);
  for (let r = 0; r < Mp; r++) {
    const s = S + <usize>r * ldS;
    const dp = dP + <usize>r * ldS;
    const pd = Pd + <usize>r * ldS;
    const gc = Gc + <usize>r * ldS;
    const lseR: f32 = r < rows ? load<f32>(lse + (<usize>r << 2)) : -Infinity;
    if (lseR == -Infinity) {
      memory.fill(s, 0, ldS);
      memory.fill(dp, 0, ldS);
      if (threshold) memory.fill(pd, 0, ldS);
      continue;
    }
    const i = i0 + r;
    if (modifiers || !full) modifyRow(p, s, softcap ? gc : 0, b, h, i, j0, Np, rowLo(i, offset, wl), min(rowHi(i, offset, causal, wr, Nk), j0 + jn - 1), !full);
    const Di = f32x4.splat(load<f32>(dRow + (<usize>r << 2)));
    const lseV = f32x4.splat(lseR * LOG2E);
    const rowKey = threshold ? dropoutRowKey(seed, b, h, i) : 0;
    for (let j = 0; j < Np; j += 4) {
      const o = <usize>j << 2;
      // P = e^(S' − LSE) = 2^(log2(e)·S' − log2(e)·LSE)
      const pv = exp2x4(f32x4.sub(v128.load(s + o), lseV));
      v128.store(s + o, pv);
      let dpv = v128.load(dp + o);
      if (threshold) {
        const z = dropoutFactor4(rowKey, j0 + j, threshold, keepScale);
        v128.store(pd + o, f32x4.mul(pv, z));
        dpv = f32x4.mul(dpv, z);
      }
      let ds = f32x4.mul(pv, f32x4.sub(dpv, Di));
      if (softcap) ds = f32x4.mul(ds, v128.load(gc + o));
      v128.store(dp + o, ds);
    }
  }
  return threshold ? Pd : S;
}
