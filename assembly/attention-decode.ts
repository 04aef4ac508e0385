// KV-cache decoding: a few new query rows against a long cache whose rows live
// in a preallocated buffer (capacity ≥ Nk; the key/value row strides say how
// far apart rows are, Nk how many are filled). Legend as in attention.ts.
//
// Split-K: the key length of every (b, kv head) is cut into
// params.decodeSplits chunks; items (b, kv head, chunk) are shared out to
// threads in contiguous runs. An item handles all G·Nq query rows of the kv
// head's G query heads at once, so each key/value row is read from memory
// once per item (GQA/MQA decode reads the cache once, not G times). It
// writes, per row and chunk, the partial (m, l, O): m the chunk's max logit
// (base 2, as in the forward), l = Σ 2^(s − m), O = Σ 2^(s − m)·v
// (unnormalized), to params.partials.
// attentionDecodeMerge, called after every thread finished attentionDecode,
// combines the chunks of each row (split over rows):
//   m = maxₛ mₛ,  l = Σₛ lₛ·2^(mₛ − m),  O = Σₛ Oₛ·2^(mₛ − m) / l,  LSE = ln 2·m + ln l.
import {
  A_BATCH,
  A_CAUSAL,
  A_DECODE_SPLITS,
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
  A_PARTIALS,
  A_QUERY,
  A_QUERY_LENGTH,
  A_QUERY_STRIDE_BATCH,
  A_SCALE,
  A_VALUE,
  A_VALUE_STRIDE_BATCH,
  A_VALUE_STRIDE_ROW,
  A_WINDOW_LEFT,
  A_WINDOW_RIGHT,
  paramF32,
  paramI32,
  paramPtr,
} from './attention-params';
import {
  align64,
  gemmRescale,
  packRows,
  roundUp4,
} from './attention-gemm';
import {
  dropoutRow,
  dropoutRowKey,
  dropoutThreshold,
  hasScoreModifiers,
  inverseSum,
  LN2,
  LOG2E,
  lsePtr,
  modifyRow,
  rowHi,
  rowLo,
  rowPtr,
  softmaxStep,
  threadScratch,
  tileCols,
} from './attention-tile';
import { fma, shareStart } from './simd';

// @ts-ignore: decorator
@inline function splitsOf(p: usize): i32 {
  return max(1, paramI32(p, A_DECODE_SPLITS));
}

/** Bytes of params.partials: B·H·Nq·decodeSplits records of (m, l, O[D]) f32. */
export function attentionDecodePartialsBytes(p: usize): usize {
  const rows = <usize>paramI32(p, A_BATCH) * paramI32(p, A_NUM_HEADS) * paramI32(p, A_QUERY_LENGTH);
  return rows * splitsOf(p) * (paramI32(p, A_HEAD_DIM) + 2) * 4;
}

/** Per-thread scratch bytes of attentionDecode: S [R][Bc] · O [R][Dp] · m, l, alpha [R] · Vp [Bc][Dp] when D % 4, R = G·Nq. */
export function attentionDecodeScratchBytes(p: usize): usize {
  const R = <usize>(paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS)) * paramI32(p, A_QUERY_LENGTH);
  const Bc = <usize>tileCols(p);
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = <usize>roundUp4(D);
  let at: usize = 64;
  at = align64(at + R * Bc * 4);
  at = align64(at + R * Dp * 4);
  at = align64(at + R * 12);
  if (D & 3) at = align64(at + Bc * Dp * 4);
  return at;
}

// @ts-ignore: decorator
@inline function partialPtr(p: usize, b: i32, h: i32, i: i32, split: i32): usize {
  const row = (b * paramI32(p, A_NUM_HEADS) + h) * paramI32(p, A_QUERY_LENGTH) + i;
  return paramPtr(p, A_PARTIALS) + (<usize>(row * splitsOf(p) + split) * (paramI32(p, A_HEAD_DIM) + 2) << 2);
}

export function attentionDecode(p: usize, tid: i32, nthreads: i32): void {
  const splits = splitsOf(p);
  const Hk = paramI32(p, A_NUM_KV_HEADS);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const items = paramI32(p, A_BATCH) * Hk * splits;
  const scratch = threadScratch(p, tid);
  const end = shareStart(items, tid + 1, nthreads);
  for (let item = shareStart(items, tid, nthreads); item < end; item++) {
    const split = item % splits;
    const group = item / splits;
    decodeChunk(p, scratch, group / Hk, group % Hk, split, shareStart(Nk, split, splits), shareStart(Nk, split + 1, splits));
  }
}

function decodeChunk(p: usize, scratch: usize, b: i32, hk: i32, split: i32, c0: i32, c1: i32): void {
  const Bc = tileCols(p);
  const D = paramI32(p, A_HEAD_DIM);
  const Dp = roundUp4(D);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const Nk = paramI32(p, A_KEY_LENGTH);
  const G = paramI32(p, A_NUM_HEADS) / paramI32(p, A_NUM_KV_HEADS);
  const R = G * Nq;
  const offset = Nk - Nq;
  const causal = paramI32(p, A_CAUSAL) != 0;
  const wl = paramI32(p, A_WINDOW_LEFT);
  const wr = paramI32(p, A_WINDOW_RIGHT);
  const scale = paramF32(p, A_SCALE) * LOG2E; // base-2 logits (see exp2x4)
  const ldk = <usize>paramI32(p, A_KEY_STRIDE_ROW) << 2;
  const ldv = <usize>paramI32(p, A_VALUE_STRIDE_ROW) << 2;
  const ldq = <usize>paramI32(p, A_QUERY_STRIDE_BATCH + 2) << 2;
  const ldD = <usize>Dp << 2;

  let at = scratch;
  const S = at;
  at = align64(at + <usize>(R * Bc) * 4);
  const O = at;
  at = align64(at + <usize>(R * Dp) * 4);
  const mRow = at;
  const lRow = mRow + (<usize>R << 2);
  const alpha = lRow + (<usize>R << 2);
  at = align64(at + <usize>R * 12);
  const Vp = D & 3 ? at : 0;

  memory.fill(O, 0, <usize>(R * Dp) << 2);
  for (let r = 0; r < R; r++) {
    store<f32>(mRow + (<usize>r << 2), -Infinity);
    store<f32>(lRow + (<usize>r << 2), 0);
  }
  // keys of the chunk any row sees (rows i = 0..Nq−1 of every head share lo/hi)
  const jStart = max(c0, rowLo(0, offset, wl));
  const jEnd = min(c1 - 1, rowHi(Nq - 1, offset, causal, wr, Nk));
  const modifiers = hasScoreModifiers(p);
  const dropP = paramF32(p, A_DROPOUT_P);
  const threshold = dropoutThreshold(dropP);
  const keepScale: f32 = dropP < 1 ? 1 / (1 - dropP) : 0;
  const seed = <u32>paramI32(p, A_DROPOUT_SEED);
  const q0 = rowPtr(p, A_QUERY, A_QUERY_STRIDE_BATCH, b, hk * G, 0);
  const ldh = <usize>paramI32(p, A_QUERY_STRIDE_BATCH + 1) << 2;

  for (let j0 = jStart; j0 <= jEnd; j0 += Bc) {
    const jn = min(Bc, jEnd + 1 - j0);
    const Np = roundUp4(jn);
    const ldS = <usize>Np << 2;
    const k = rowPtr(p, A_KEY, A_KEY_STRIDE_BATCH, b, hk, j0);
    // S[r][jj] = scale·q_r·k_{j0+jj}: rows two at a time, then one
    let r = 0;
    for (; r + 2 <= R; r += 2) {
      const qa = q0 + <usize>(r / Nq) * ldh + <usize>(r % Nq) * ldq;
      const qb = q0 + <usize>((r + 1) / Nq) * ldh + <usize>((r + 1) % Nq) * ldq;
      scoreRows2(qa, qb, k, ldk, jn, D, S + <usize>r * ldS, ldS, scale);
    }
    if (r < R) scoreRow1(q0 + <usize>(r / Nq) * ldh + <usize>(r % Nq) * ldq, k, ldk, jn, D, S + <usize>r * ldS, scale);

    for (r = 0; r < R; r++) {
      const i = r % Nq;
      const lo = rowLo(i, offset, wl);
      const hi = min(rowHi(i, offset, causal, wr, Nk), j0 + jn - 1);
      const full = jn == Np && lo <= j0 && hi >= j0 + jn - 1;
      if (modifiers || !full) modifyRow(p, S + <usize>r * ldS, 0, b, hk * G + r / Nq, i, j0, Np, lo, hi, !full);
    }
    softmaxStep(S, ldS, R, Np, mRow, lRow, alpha);
    if (threshold) {
      for (r = 0; r < R; r++) dropoutRow(S + <usize>r * ldS, Np, dropoutRowKey(seed, b, hk * G + r / Nq, r % Nq), j0, threshold, keepScale);
    }
    // O = alpha·O + P·V
    let v = rowPtr(p, A_VALUE, A_VALUE_STRIDE_BATCH, b, hk, j0);
    let ldvTile = ldv;
    if (Vp) {
      packRows(v, ldv, jn, jn, D, Vp, 1);
      v = Vp;
      ldvTile = ldD;
    }
    gemmRescale(S, ldS, 4, R, v, ldvTile, Dp, jn, O, ldD, alpha);
  }

  for (let r = 0; r < R; r++) {
    const out = partialPtr(p, b, hk * G + r / Nq, r % Nq, split);
    store<f32>(out, load<f32>(mRow + (<usize>r << 2)));
    store<f32>(out, load<f32>(lRow + (<usize>r << 2)), 4);
    memory.copy(out + 8, O + <usize>r * ldD, <usize>D << 2);
  }
}

/** Combines the chunks' partial (m, l, O) of every query row into O and LSE; rows split over threads. */
export function attentionDecodeMerge(p: usize, tid: i32, nthreads: i32): void {
  const H = paramI32(p, A_NUM_HEADS);
  const Nq = paramI32(p, A_QUERY_LENGTH);
  const D = paramI32(p, A_HEAD_DIM);
  const splits = splitsOf(p);
  const rows = paramI32(p, A_BATCH) * H * Nq;
  const record = <usize>(D + 2) << 2;
  const lse = paramPtr(p, A_LOG_SUM_EXP);
  const end = shareStart(rows, tid + 1, nthreads);
  for (let row = shareStart(rows, tid, nthreads); row < end; row++) {
    const i = row % Nq;
    const b = row / (H * Nq);
    const h = (row / Nq) % H;
    const part = partialPtr(p, b, h, i, 0);
    const out = rowPtr(p, A_OUTPUT, A_OUTPUT_STRIDE_BATCH, b, h, i);
    let m: f32 = -Infinity;
    for (let s = 0; s < splits; s++) m = max(m, load<f32>(part + <usize>s * record));
    memory.fill(out, 0, <usize>D << 2);
    let l: f32 = 0;
    if (m != -Infinity) {
      for (let s = 0; s < splits; s++) {
        const ps = part + <usize>s * record;
        const ms = load<f32>(ps);
        if (ms == -Infinity) continue;
        const w = Mathf.exp2(ms - m);
        l += w * load<f32>(ps, 4);
        const ws = f32x4.splat(w);
        let d = 0;
        for (; d + 4 <= D; d += 4) {
          const o = <usize>d << 2;
          v128.store(out + o, fma(v128.load(ps + 8 + o), ws, v128.load(out + o)));
        }
        for (; d < D; d++) {
          const o = <usize>d << 2;
          store<f32>(out + o, load<f32>(out + o) + w * load<f32>(ps + 8 + o));
        }
      }
      const inv = inverseSum(l);
      for (let d = 0; d < D; d++) store<f32>(out + (<usize>d << 2), load<f32>(out + (<usize>d << 2)) * inv);
    }
    if (lse) store<f32>(lsePtr(p, b, h, i), l == 0 ? -Infinity : LN2 * m + Mathf.log(l));
  }
}

// ---------------------------------------------------------------------------
// Score rows by dot products along D (K read row-major, no packing: each key
// is used once per row pair, so packing would cost as much as the work).
// ---------------------------------------------------------------------------

/** Horizontal sums of four vectors: [Σa, Σb, Σc, Σd]. */
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

/** Scalar tail: Σ_{d ≥ D&~3} q[d]·k[d]. */
// @ts-ignore: decorator
@inline function dotTail(q: usize, k: usize, D: i32): f32 {
  let s: f32 = 0;
  for (let d = D & ~3; d < D; d++) s += load<f32>(q + (<usize>d << 2)) * load<f32>(k + (<usize>d << 2));
  return s;
}

/** out0[jj] = scale·qa·k_jj, out1[jj] = scale·qb·k_jj for jj < jn (out1 = out0 + ldOut). */
function scoreRows2(qa: usize, qb: usize, k: usize, ldk: usize, jn: i32, D: i32, out0: usize, ldOut: usize, scale: f32): void {
  const D4 = D & ~3;
  const sc = f32x4.splat(scale);
  const out1 = out0 + ldOut;
  let j = 0;
  for (; j + 4 <= jn; j += 4) {
    const k0 = k + <usize>j * ldk;
    const k1 = k0 + ldk;
    const k2 = k1 + ldk;
    const k3 = k2 + ldk;
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    let b0 = a0;
    let b1 = a0;
    let b2 = a0;
    let b3 = a0;
    for (let d = 0; d < D4; d += 4) {
      const o = <usize>d << 2;
      const x = v128.load(qa + o);
      const y = v128.load(qb + o);
      const v0 = v128.load(k0 + o);
      a0 = fma(x, v0, a0);
      b0 = fma(y, v0, b0);
      const v1 = v128.load(k1 + o);
      a1 = fma(x, v1, a1);
      b1 = fma(y, v1, b1);
      const v2 = v128.load(k2 + o);
      a2 = fma(x, v2, a2);
      b2 = fma(y, v2, b2);
      const v3 = v128.load(k3 + o);
      a3 = fma(x, v3, a3);
      b3 = fma(y, v3, b3);
    }
    let sa = sum4(a0, a1, a2, a3);
    let sb = sum4(b0, b1, b2, b3);
    if (D4 < D) {
      sa = f32x4.add(sa, f32x4(dotTail(qa, k0, D), dotTail(qa, k1, D), dotTail(qa, k2, D), dotTail(qa, k3, D)));
      sb = f32x4.add(sb, f32x4(dotTail(qb, k0, D), dotTail(qb, k1, D), dotTail(qb, k2, D), dotTail(qb, k3, D)));
    }
    v128.store(out0 + (<usize>j << 2), f32x4.mul(sa, sc));
    v128.store(out1 + (<usize>j << 2), f32x4.mul(sb, sc));
  }
  for (; j < jn; j++) {
    const kj = k + <usize>j * ldk;
    store<f32>(out0 + (<usize>j << 2), scale * dotFull(qa, kj, D));
    store<f32>(out1 + (<usize>j << 2), scale * dotFull(qb, kj, D));
  }
}

/** out[jj] = scale·q·k_jj for jj < jn: eight keys at a time (8 accumulators hide the FMA latency). */
function scoreRow1(q: usize, k: usize, ldk: usize, jn: i32, D: i32, out: usize, scale: f32): void {
  const D4 = D & ~3;
  const sc = f32x4.splat(scale);
  let j = 0;
  for (; j + 8 <= jn; j += 8) {
    const k0 = k + <usize>j * ldk;
    const k4 = k0 + 4 * ldk;
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    let a4 = a0;
    let a5 = a0;
    let a6 = a0;
    let a7 = a0;
    for (let d = 0; d < D4; d += 4) {
      const o = <usize>d << 2;
      const x = v128.load(q + o);
      a0 = fma(x, v128.load(k0 + o), a0);
      a1 = fma(x, v128.load(k0 + ldk + o), a1);
      a2 = fma(x, v128.load(k0 + 2 * ldk + o), a2);
      a3 = fma(x, v128.load(k0 + 3 * ldk + o), a3);
      a4 = fma(x, v128.load(k4 + o), a4);
      a5 = fma(x, v128.load(k4 + ldk + o), a5);
      a6 = fma(x, v128.load(k4 + 2 * ldk + o), a6);
      a7 = fma(x, v128.load(k4 + 3 * ldk + o), a7);
    }
    let s0 = sum4(a0, a1, a2, a3);
    let s1 = sum4(a4, a5, a6, a7);
    if (D4 < D) {
      s0 = f32x4.add(s0, f32x4(dotTail(q, k0, D), dotTail(q, k0 + ldk, D), dotTail(q, k0 + 2 * ldk, D), dotTail(q, k0 + 3 * ldk, D)));
      s1 = f32x4.add(s1, f32x4(dotTail(q, k4, D), dotTail(q, k4 + ldk, D), dotTail(q, k4 + 2 * ldk, D), dotTail(q, k4 + 3 * ldk, D)));
    }
    v128.store(out + (<usize>j << 2), f32x4.mul(s0, sc));
    v128.store(out + (<usize>j << 2), f32x4.mul(s1, sc), 16);
  }
  for (; j < jn; j++) store<f32>(out + (<usize>j << 2), scale * dotFull(q, k + <usize>j * ldk, D));
}

// @ts-ignore: decorator
@inline function dotFull(q: usize, k: usize, D: i32): f32 {
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= D; d += 4) acc = fma(v128.load(q + (<usize>d << 2)), v128.load(k + (<usize>d << 2)), acc);
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3) + dotTail(q, k, D);
}
