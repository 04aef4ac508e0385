// Building blocks of the attention kernels: one register-blocked GEMM
// micro-kernel over arbitrary operand layouts, packing, the softmax row
// passes, the score modifiers (softcap, ALiBi, mask, causal/window) and the
// dropout hash. Legend as in attention.ts:
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
import {
  A_ALIBI_SLOPES,
  A_BLOCK_COLS,
  A_BLOCK_ROWS,
  A_LOG_SUM_EXP,
  A_NUM_HEADS,
  A_SCRATCH,
  A_SCRATCH_STRIDE,
  A_KEY_LENGTH,
  A_MASK,
  A_MASK_KIND,
  A_MASK_STRIDE_BATCH,
  A_MASK_STRIDE_HEAD,
  A_MASK_STRIDE_KEY,
  A_MASK_STRIDE_QUERY,
  A_QUERY_LENGTH,
  A_SOFTCAP,
  MASK_ADDITIVE,
  MASK_BOOL,
  MASK_NONE,
  paramF32,
  paramI32,
  paramPtr,
} from './attention-params';
import { exp2x4, fma, hsum, tanh4 } from './simd';

/** log2(e) and ln(2): the kernels keep logits in base 2 (see exp2x4). */
export const LOG2E: f32 = 1.4426950408889634;
export const LN2: f32 = 0.6931471805599453;

export const INIT_ZERO: i32 = 0; // C = A·B
export const INIT_ACCUMULATE: i32 = 1; // C += A·B
export const INIT_RESCALE: i32 = 2; // C = alpha[m]·C + A·B (online softmax)

// @ts-ignore: decorator
@inline export function roundUp4(n: i32): i32 {
  return (n + 3) & ~3;
}

// @ts-ignore: decorator
@inline export function align64(n: usize): usize {
  return (n + 63) & ~(<usize>63);
}

// ---------------------------------------------------------------------------
// GEMM micro-kernel
//
// C[m][n] = init(C) + Σ_{k<K} A(m,k)·B[k][n]   for m < M, n < N (N % 4 == 0)
// A(m,k) = f32 at a + m·aRow + k·aK: row-major A has aK = 4, a transposed one
//   (Aᵀ stored [k][m]) has aRow = 4, so Pᵀ·dO needs no copy. All M rows are read.
// B row k: N floats at b + k·ldb, read with v128 loads. C row m at c + m·ldc.
// Rows go 4 at a time × 8 columns (8 accumulators + 2 B vectors + 1 splat =
// 11 live v128, under V8's ~13), then 4 × 4; leftover rows 1 × 32/16/4.
// One entry point per init mode, so the mode folds away at compile time:
//   gemmZero        C = A·B
//   gemmAccumulate  C += A·B
//   gemmRescale     C = alpha[m]·C + A·B   (the online softmax's O update)
// ---------------------------------------------------------------------------

export function gemmZero(a: usize, aRow: usize, aK: usize, M: i32, b: usize, ldb: usize, N: i32, K: i32, c: usize, ldc: usize): void {
  gemmBody(a, aRow, aK, M, b, ldb, N, K, c, ldc, INIT_ZERO, 0);
}

export function gemmAccumulate(a: usize, aRow: usize, aK: usize, M: i32, b: usize, ldb: usize, N: i32, K: i32, c: usize, ldc: usize): void {
  gemmBody(a, aRow, aK, M, b, ldb, N, K, c, ldc, INIT_ACCUMULATE, 0);
}

export function gemmRescale(a: usize, aRow: usize, aK: usize, M: i32, b: usize, ldb: usize, N: i32, K: i32, c: usize, ldc: usize, alpha: usize): void {
  gemmBody(a, aRow, aK, M, b, ldb, N, K, c, ldc, INIT_RESCALE, alpha);
}

// @ts-ignore: decorator
@inline function gemmBody(
  a: usize,
  aRow: usize,
  aK: usize,
  M: i32,
  b: usize,
  ldb: usize,
  N: i32,
  K: i32,
  c: usize,
  ldc: usize,
  init: i32,
  alpha: usize,
): void {
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const a0 = a + <usize>m * aRow;
    const cm = c + <usize>m * ldc;
    const al = alpha + (<usize>m << 2);
    let n = 0;
    for (; n + 8 <= N; n += 8) block4x8(a0, aRow, aK, b + (<usize>n << 2), ldb, K, cm + (<usize>n << 2), ldc, init, al);
    if (n < N) block4x4(a0, aRow, aK, b + (<usize>n << 2), ldb, K, cm + (<usize>n << 2), ldc, init, al);
  }
  for (; m < M; m++) {
    const a0 = a + <usize>m * aRow;
    const cm = c + <usize>m * ldc;
    const al = alpha + (<usize>m << 2);
    let n = 0;
    for (; n + 32 <= N; n += 32) block1x32(a0, aK, b + (<usize>n << 2), ldb, K, cm + (<usize>n << 2), init, al);
    for (; n + 16 <= N; n += 16) block1x16(a0, aK, b + (<usize>n << 2), ldb, K, cm + (<usize>n << 2), init, al);
    for (; n < N; n += 4) block1x4(a0, aK, b + (<usize>n << 2), ldb, K, cm + (<usize>n << 2), init, al);
  }
}

// @ts-ignore: decorator
@inline function initAcc(pc: usize, offset: usize, init: i32, scale: v128): v128 {
  if (init == INIT_ZERO) return f32x4.splat(0);
  const v = v128.load(pc + offset);
  return init == INIT_RESCALE ? f32x4.mul(v, scale) : v;
}

// @ts-ignore: decorator
@inline function block4x8(
  pa: usize,
  aRow: usize,
  aK: usize,
  pb: usize,
  ldb: usize,
  K: i32,
  pc: usize,
  ldc: usize,
  init: i32,
  alpha: usize,
): void {
  const pc1 = pc + ldc;
  const pc2 = pc1 + ldc;
  const pc3 = pc2 + ldc;
  let s0 = f32x4.splat(1);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  if (init == INIT_RESCALE) {
    s0 = v128.load32_splat(alpha);
    s1 = v128.load32_splat(alpha, 4);
    s2 = v128.load32_splat(alpha, 8);
    s3 = v128.load32_splat(alpha, 12);
  }
  let c00 = initAcc(pc, 0, init, s0);
  let c01 = initAcc(pc, 16, init, s0);
  let c10 = initAcc(pc1, 0, init, s1);
  let c11 = initAcc(pc1, 16, init, s1);
  let c20 = initAcc(pc2, 0, init, s2);
  let c21 = initAcc(pc2, 16, init, s2);
  let c30 = initAcc(pc3, 0, init, s3);
  let c31 = initAcc(pc3, 16, init, s3);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = fma(x, b0, c00);
    c01 = fma(x, b1, c01);
    x = v128.load32_splat(pa + aRow);
    c10 = fma(x, b0, c10);
    c11 = fma(x, b1, c11);
    x = v128.load32_splat(pa + 2 * aRow);
    c20 = fma(x, b0, c20);
    c21 = fma(x, b1, c21);
    x = v128.load32_splat(pa + 3 * aRow);
    c30 = fma(x, b0, c30);
    c31 = fma(x, b1, c31);
    pa += aK;
    pb += ldb;
  }
  v128.store(pc, c00);
  v128.store(pc, c01, 16);
  v128.store(pc1, c10);
  v128.store(pc1, c11, 16);
  v128.store(pc2, c20);
  v128.store(pc2, c21, 16);
  v128.store(pc3, c30);
  v128.store(pc3, c31, 16);
}

// @ts-ignore: decorator
@inline function block4x4(
  pa: usize,
  aRow: usize,
  aK: usize,
  pb: usize,
  ldb: usize,
  K: i32,
  pc: usize,
  ldc: usize,
  init: i32,
  alpha: usize,
): void {
  const pc1 = pc + ldc;
  const pc2 = pc1 + ldc;
  const pc3 = pc2 + ldc;
  let s0 = f32x4.splat(1);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  if (init == INIT_RESCALE) {
    s0 = v128.load32_splat(alpha);
    s1 = v128.load32_splat(alpha, 4);
    s2 = v128.load32_splat(alpha, 8);
    s3 = v128.load32_splat(alpha, 12);
  }
  let c0 = initAcc(pc, 0, init, s0);
  let c1 = initAcc(pc1, 0, init, s1);
  let c2 = initAcc(pc2, 0, init, s2);
  let c3 = initAcc(pc3, 0, init, s3);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    c0 = fma(v128.load32_splat(pa), b0, c0);
    c1 = fma(v128.load32_splat(pa + aRow), b0, c1);
    c2 = fma(v128.load32_splat(pa + 2 * aRow), b0, c2);
    c3 = fma(v128.load32_splat(pa + 3 * aRow), b0, c3);
    pa += aK;
    pb += ldb;
  }
  v128.store(pc, c0);
  v128.store(pc1, c1);
  v128.store(pc2, c2);
  v128.store(pc3, c3);
}

// @ts-ignore: decorator
@inline function block1x32(p0: usize, aK: usize, pb: usize, ldb: usize, K: i32, pc: usize, init: i32, alpha: usize): void {
  const s = init == INIT_RESCALE ? v128.load32_splat(alpha) : f32x4.splat(1);
  let c0 = initAcc(pc, 0, init, s);
  let c1 = initAcc(pc, 16, init, s);
  let c2 = initAcc(pc, 32, init, s);
  let c3 = initAcc(pc, 48, init, s);
  let c4 = initAcc(pc, 64, init, s);
  let c5 = initAcc(pc, 80, init, s);
  let c6 = initAcc(pc, 96, init, s);
  let c7 = initAcc(pc, 112, init, s);
  for (let k = 0; k < K; k++) {
    const x = v128.load32_splat(p0);
    c0 = fma(x, v128.load(pb), c0);
    c1 = fma(x, v128.load(pb, 16), c1);
    c2 = fma(x, v128.load(pb, 32), c2);
    c3 = fma(x, v128.load(pb, 48), c3);
    c4 = fma(x, v128.load(pb, 64), c4);
    c5 = fma(x, v128.load(pb, 80), c5);
    c6 = fma(x, v128.load(pb, 96), c6);
    c7 = fma(x, v128.load(pb, 112), c7);
    p0 += aK;
    pb += ldb;
  }
  v128.store(pc, c0);
  v128.store(pc, c1, 16);
  v128.store(pc, c2, 32);
  v128.store(pc, c3, 48);
  v128.store(pc, c4, 64);
  v128.store(pc, c5, 80);
  v128.store(pc, c6, 96);
  v128.store(pc, c7, 112);
}

// @ts-ignore: decorator
@inline function block1x16(p0: usize, aK: usize, pb: usize, ldb: usize, K: i32, pc: usize, init: i32, alpha: usize): void {
  const s = init == INIT_RESCALE ? v128.load32_splat(alpha) : f32x4.splat(1);
  let c0 = initAcc(pc, 0, init, s);
  let c1 = initAcc(pc, 16, init, s);
  let c2 = initAcc(pc, 32, init, s);
  let c3 = initAcc(pc, 48, init, s);
  for (let k = 0; k < K; k++) {
    const x = v128.load32_splat(p0);
    c0 = fma(x, v128.load(pb), c0);
    c1 = fma(x, v128.load(pb, 16), c1);
    c2 = fma(x, v128.load(pb, 32), c2);
    c3 = fma(x, v128.load(pb, 48), c3);
    p0 += aK;
    pb += ldb;
  }
  v128.store(pc, c0);
  v128.store(pc, c1, 16);
  v128.store(pc, c2, 32);
  v128.store(pc, c3, 48);
}

// @ts-ignore: decorator
@inline function block1x4(p0: usize, aK: usize, pb: usize, ldb: usize, K: i32, pc: usize, init: i32, alpha: usize): void {
  const s = init == INIT_RESCALE ? v128.load32_splat(alpha) : f32x4.splat(1);
  let c0 = initAcc(pc, 0, init, s);
  for (let k = 0; k < K; k++) {
    c0 = fma(v128.load32_splat(p0), v128.load(pb), c0);
    p0 += aK;
    pb += ldb;
  }
  v128.store(pc, c0);
}

// ---------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------

/**
 * dst[d][j] = f·src[j][d] for j < rows, d < D; dst[d][j] = 0 for rows ≤ j < rowsPad.
 * src rows at src + j·ldSrc (contiguous D floats); dst rows at dst + d·ldDst.
 */
export function packTransposed(src: usize, ldSrc: usize, rows: i32, rowsPad: i32, D: i32, dst: usize, ldDst: usize, f: f32): void {
  const fs = f32x4.splat(f);
  let j = 0;
  for (; j + 4 <= rows; j += 4) {
    const s0 = src + <usize>j * ldSrc;
    const s1 = s0 + ldSrc;
    const s2 = s1 + ldSrc;
    const s3 = s2 + ldSrc;
    const dj = dst + (<usize>j << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      const r0 = v128.load(s0 + o);
      const r1 = v128.load(s1 + o);
      const r2 = v128.load(s2 + o);
      const r3 = v128.load(s3 + o);
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const pd = dj + <usize>d * ldDst;
      v128.store(pd, f32x4.mul(i32x4.shuffle(t0, t2, 0, 1, 4, 5), fs));
      v128.store(pd + ldDst, f32x4.mul(i32x4.shuffle(t0, t2, 2, 3, 6, 7), fs));
      v128.store(pd + 2 * ldDst, f32x4.mul(i32x4.shuffle(t1, t3, 0, 1, 4, 5), fs));
      v128.store(pd + 3 * ldDst, f32x4.mul(i32x4.shuffle(t1, t3, 2, 3, 6, 7), fs));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      const pd = dj + <usize>d * ldDst;
      store<f32>(pd, f * load<f32>(s0 + o));
      store<f32>(pd, f * load<f32>(s1 + o), 4);
      store<f32>(pd, f * load<f32>(s2 + o), 8);
      store<f32>(pd, f * load<f32>(s3 + o), 12);
    }
  }
  for (; j < rowsPad; j++) {
    const sj = src + <usize>j * ldSrc;
    const dj = dst + (<usize>j << 2);
    const valid = j < rows;
    for (let d = 0; d < D; d++) store<f32>(dj + <usize>d * ldDst, valid ? f * load<f32>(sj + (<usize>d << 2)) : 0);
  }
}

/**
 * dst[r][d] = f·src[r][d] for r < rows, d < D; zero for D ≤ d < Dp and rows ≤ r < rowsPad.
 * Dp = roundUp4(D); dst rows are Dp floats apart.
 */
export function packRows(src: usize, ldSrc: usize, rows: i32, rowsPad: i32, D: i32, dst: usize, f: f32): void {
  const Dp = roundUp4(D);
  const fs = f32x4.splat(f);
  for (let r = 0; r < rowsPad; r++) {
    const pd = dst + <usize>(r * Dp) * 4;
    if (r >= rows) {
      memory.fill(pd, 0, <usize>Dp << 2);
      continue;
    }
    const ps = src + <usize>r * ldSrc;
    let d = 0;
    for (; d + 4 <= D; d += 4) v128.store(pd + (<usize>d << 2), f32x4.mul(v128.load(ps + (<usize>d << 2)), fs));
    for (; d < D; d++) store<f32>(pd + (<usize>d << 2), f * load<f32>(ps + (<usize>d << 2)));
    for (; d < Dp; d++) store<f32>(pd + (<usize>d << 2), 0);
  }
}

/** dst[r][d] = f·src[r][d] for r < rows, d < D (dst rows ldDst bytes apart, src rows Dp floats apart). */
export function storeRows(src: usize, rows: i32, D: i32, dst: usize, ldDst: usize, f: f32): void {
  const Dp = roundUp4(D);
  const fs = f32x4.splat(f);
  for (let r = 0; r < rows; r++) {
    const ps = src + <usize>(r * Dp) * 4;
    const pd = dst + <usize>r * ldDst;
    let d = 0;
    for (; d + 4 <= D; d += 4) v128.store(pd + (<usize>d << 2), f32x4.mul(v128.load(ps + (<usize>d << 2)), fs));
    for (; d < D; d++) store<f32>(pd + (<usize>d << 2), f * load<f32>(ps + (<usize>d << 2)));
  }
}

/** dst[r][d] += f·src[r][d] for r < rows, d < D (layouts as storeRows). */
export function addRows(src: usize, rows: i32, D: i32, dst: usize, ldDst: usize, f: f32): void {
  const Dp = roundUp4(D);
  const fs = f32x4.splat(f);
  for (let r = 0; r < rows; r++) {
    const ps = src + <usize>(r * Dp) * 4;
    const pd = dst + <usize>r * ldDst;
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(pd + o, fma(v128.load(ps + o), fs, v128.load(pd + o)));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(pd + o, load<f32>(pd + o) + f * load<f32>(ps + o));
    }
  }
}

/** Σ_d x[d]·y[d] for d < D. */
export function dotRow(x: usize, y: usize, D: i32): f32 {
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= D; d += 4) acc = fma(v128.load(x + (<usize>d << 2)), v128.load(y + (<usize>d << 2)), acc);
  let s = hsum(acc);
  for (; d < D; d++) s += load<f32>(x + (<usize>d << 2)) * load<f32>(y + (<usize>d << 2));
  return s;
}

// ---------------------------------------------------------------------------
// Softmax passes
// ---------------------------------------------------------------------------

/** max over the lanes (pmax: no NaN handling, scores are never NaN). */
// @ts-ignore: decorator
@inline function lanesMax(v: v128): f32 {
  const t = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.pmax(t, i32x4.shuffle(t, t, 1, 0, 3, 2)), 0);
}

/**
 * One online-softmax step over rows r < rows of the tile S of base-2 logits
 * (rows ldS bytes apart, n % 4 == 0 columns), with the running max m[r] and sum l[r]:
 *   m' = max(m, maxⱼ S),  alpha = 2^(m − m'),  S ← 2^(S − m'),  l ← alpha·l + Σⱼ S,  m ← m'.
 * A row that has seen no key yet (m' = −∞) gets S ← 0 and alpha = 1.
 * Two passes (all maxima, then all exponentials) so that one row's exp
 * chain overlaps the next row's instead of waiting on its max reduction.
 */
export function softmaxStep(S: usize, ldS: usize, rows: i32, n: i32, m: usize, l: usize, alpha: usize): void {
  for (let r = 0; r < rows; r++) {
    const s = S + <usize>r * ldS;
    const ro = <usize>r << 2;
    let m0 = f32x4.splat(-Infinity);
    let m1 = m0;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      m0 = f32x4.pmax(m0, v128.load(s + (<usize>j << 2)));
      m1 = f32x4.pmax(m1, v128.load(s + (<usize>j << 2), 16));
    }
    if (j < n) m0 = f32x4.pmax(m0, v128.load(s + (<usize>j << 2)));
    const mOld = load<f32>(m + ro);
    const mx = lanesMax(f32x4.pmax(m0, m1));
    const mNew = mx > mOld ? mx : mOld;
    // alpha = 2^(m − m'): 0 when m = −∞; 1 (O is still 0) when m' = −∞
    store<f32>(alpha + ro, mNew == -Infinity ? 1 : f32x4.extract_lane(exp2x4(f32x4.splat(mOld - mNew)), 0));
    store<f32>(m + ro, mNew);
  }
  for (let r = 0; r < rows; r++) {
    const s = S + <usize>r * ldS;
    const ro = <usize>r << 2;
    const mNew = load<f32>(m + ro);
    if (mNew == -Infinity) {
      memory.fill(s, 0, <usize>n << 2);
      continue;
    }
    store<f32>(l + ro, load<f32>(l + ro) * load<f32>(alpha + ro) + expRowSum(s, n, mNew));
  }
}

/** s[j] = 2^(s[j] − m) in place for j < n (n % 4 == 0); returns Σ_j s[j]. */
// @ts-ignore: decorator
@inline export function expRowSum(s: usize, n: i32, m: f32): f32 {
  const ms = f32x4.splat(m);
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const p = s + (<usize>j << 2);
    const e0 = exp2x4(f32x4.sub(v128.load(p), ms));
    const e1 = exp2x4(f32x4.sub(v128.load(p, 16), ms));
    v128.store(p, e0);
    v128.store(p, e1, 16);
    a0 = f32x4.add(a0, e0);
    a1 = f32x4.add(a1, e1);
  }
  if (j < n) {
    const p = s + (<usize>j << 2);
    const e0 = exp2x4(f32x4.sub(v128.load(p), ms));
    v128.store(p, e0);
    a0 = f32x4.add(a0, e0);
  }
  return hsum(f32x4.add(a0, a1));
}

// ---------------------------------------------------------------------------
// Dropout: a counter-based hash of (seed, b, h, i, j), independent of tiling
// and threads. Mirrors dropoutHash in src/backend/js/attention.ts bit for bit:
//   rowKey = fmix(fmix(fmix(fmix(seed ^ 0x9E3779B9) + b) + h) + i)
//   hash   = fmix(rowKey + j·0x9E3779B9)
//   keep   ⇔ (hash >>> 8) ≥ floor(p·2^24)   (kept values scaled by 1/(1 − p))
// fmix is MurmurHash3's 32-bit finalizer.
// ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function fmix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x85ebca6b;
  x ^= x >>> 13;
  x *= 0xc2b2ae35;
  x ^= x >>> 16;
  return x;
}

export function dropoutRowKey(seed: u32, b: i32, h: i32, i: i32): u32 {
  let k = fmix32(seed ^ 0x9e3779b9);
  k = fmix32(k + <u32>b);
  k = fmix32(k + <u32>h);
  return fmix32(k + <u32>i);
}

/** Hashes of keys j..j+3 of the row whose key is rowKey. */
// @ts-ignore: decorator
@inline export function dropoutHash4(rowKey: u32, j: i32): v128 {
  const golden = i32x4.splat(0x9e3779b9);
  let x = i32x4.add(i32x4.splat(rowKey), i32x4.mul(i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3)), golden));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x85ebca6b));
  x = v128.xor(x, i32x4.shr_u(x, 13));
  x = i32x4.mul(x, i32x4.splat(0xc2b2ae35));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** floor(p·2^24): a key is kept when (hash >>> 8) ≥ this. */
// @ts-ignore: decorator
@inline export function dropoutThreshold(p: f32): i32 {
  return p <= 0 ? 0 : p >= 1 ? 0x1000000 : <i32>Math.floor(<f64>p * 16777216.0);
}

/** Per-lane multiplier: keepScale where key j0+jj.. is kept, 0 where dropped. */
// @ts-ignore: decorator
@inline export function dropoutFactor4(rowKey: u32, j: i32, threshold: i32, keepScale: v128): v128 {
  const keep = i32x4.ge_s(i32x4.shr_u(dropoutHash4(rowKey, j), 8), i32x4.splat(threshold));
  return v128.and(keepScale, keep);
}

/** s[jj] *= keepScale or 0 as the dropout hash of key j0 + jj decides (jj < n, n % 4 == 0). */
export function dropoutRow(s: usize, n: i32, rowKey: u32, j0: i32, threshold: i32, keepScale: f32): void {
  const ks = f32x4.splat(keepScale);
  for (let j = 0; j < n; j += 4) {
    const p = s + (<usize>j << 2);
    v128.store(p, f32x4.mul(v128.load(p), dropoutFactor4(rowKey, j0 + j, threshold, ks)));
  }
}

// ---------------------------------------------------------------------------
// Which keys a query row sees (bottom-right aligned, i' = i + Nk − Nq):
//   lo(i) = max(0, i' − windowLeft)        (0 when windowLeft = −1)
//   hi(i) = min(Nk − 1, i' if causal, i' + windowRight if windowRight ≥ 0)
// Both are non-decreasing in i, so a block of rows i0..i1−1 sees keys within
// [lo(i0), hi(i1 − 1)], and every row sees all of [lo(i1−1), hi(i0)].
// ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline export function rowLo(i: i32, offset: i32, windowLeft: i32): i32 {
  return windowLeft >= 0 ? max(0, i + offset - windowLeft) : 0;
}

// @ts-ignore: decorator
@inline export function rowHi(i: i32, offset: i32, causal: bool, windowRight: i32, Nk: i32): i32 {
  let hi = Nk - 1;
  if (causal) hi = min(hi, i + offset);
  if (windowRight >= 0) hi = min(hi, i + offset + windowRight);
  return hi;
}

/** Does the params block ask for score changes beyond the positional mask (softcap, ALiBi, mask)? */
export function hasScoreModifiers(p: usize): bool {
  return paramF32(p, A_SOFTCAP) > 0 || paramPtr(p, A_ALIBI_SLOPES) != 0 || (paramI32(p, A_MASK_KIND) != MASK_NONE && paramPtr(p, A_MASK) != 0);
}

/**
 * Turns the n (% 4 == 0) scores s[jj] = log2(e)·scale·q_i·k_{j0+jj} of query
 * row (b, h, i) into the (base-2) logits the softmax sees, in this order
 * (every step in natural units times log2 e):
 *   softcap  s ← c·tanh(s/c)              (g[jj] ← 1 − tanh², the derivative, when g ≠ 0)
 *   ALiBi    s ← s − slope_h·|i' − j|      (= slope·(j − i') on every key a causal row sees)
 *   mask     s ← s + mask  |  s ← −∞ where the keep-mask is 0
 *   window   s ← −∞ for j < lo or j > hi  (only when `positional`; also masks padding columns)
 */
export function modifyRow(p: usize, s: usize, g: usize, b: i32, h: i32, i: i32, j0: i32, n: i32, lo: i32, hi: i32, positional: bool): void {
  const Nk = paramI32(p, A_KEY_LENGTH);
  const cap = paramF32(p, A_SOFTCAP) * LOG2E;
  if (cap > 0) {
    const cs = f32x4.splat(cap);
    const inv = f32x4.splat(1 / cap);
    for (let j = 0; j < n; j += 4) {
      const o = <usize>j << 2;
      const t = tanh4(f32x4.mul(v128.load(s + o), inv));
      v128.store(s + o, f32x4.mul(t, cs));
      if (g) v128.store(g + o, f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)));
    }
  }
  const slopes = paramPtr(p, A_ALIBI_SLOPES);
  if (slopes) {
    const negSlope = f32x4.splat(-LOG2E * load<f32>(slopes + (<usize>h << 2)));
    const iq = f32x4.splat(<f32>(i + Nk - paramI32(p, A_QUERY_LENGTH)));
    let jv = f32x4.add(f32x4.splat(<f32>j0), f32x4(0, 1, 2, 3));
    for (let j = 0; j < n; j += 4) {
      const o = <usize>j << 2;
      v128.store(s + o, fma(negSlope, f32x4.abs(f32x4.sub(iq, jv)), v128.load(s + o)));
      jv = f32x4.add(jv, f32x4.splat(4));
    }
  }
  const kind = paramI32(p, A_MASK_KIND);
  const mask = paramPtr(p, A_MASK);
  if (kind != MASK_NONE && mask) {
    const sj = paramI32(p, A_MASK_STRIDE_KEY);
    const rowOffset =
      <usize>b * paramI32(p, A_MASK_STRIDE_BATCH) + <usize>h * paramI32(p, A_MASK_STRIDE_HEAD) + <usize>i * paramI32(p, A_MASK_STRIDE_QUERY);
    // only keys < Nk are read: the mask has no columns for the padding
    const nReal = min(n, Nk - j0);
    let j = 0;
    if (kind == MASK_ADDITIVE) {
      const m = mask + ((rowOffset + <usize>j0 * sj) << 2);
      const log2e = f32x4.splat(LOG2E);
      if (sj == 1) {
        for (; j + 4 <= nReal; j += 4) v128.store(s + (<usize>j << 2), fma(v128.load(m + (<usize>j << 2)), log2e, v128.load(s + (<usize>j << 2))));
      }
      for (; j < nReal; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) + LOG2E * load<f32>(m + ((<usize>j * sj) << 2)));
    } else if (kind == MASK_BOOL) {
      const m = mask + rowOffset + <usize>j0 * sj;
      const ninf = f32x4.splat(-Infinity);
      if (sj == 1) {
        for (; j + 4 <= nReal; j += 4) {
          const bytes = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(m + <usize>j)));
          const o = <usize>j << 2;
          v128.store(s + o, v128.bitselect(ninf, v128.load(s + o), i32x4.eq(bytes, i32x4.splat(0))));
        }
      }
      for (; j < nReal; j++) {
        if (load<u8>(m + <usize>j * sj) == 0) store<f32>(s + (<usize>j << 2), -Infinity);
      }
    }
  }
  if (positional) {
    // keys outside [lo, hi] (an empty range when hi < lo) become −∞
    const a = min(max(lo - j0, 0), n);
    const e = max(min(hi - j0 + 1, n), a);
    for (let j = 0; j < a; j++) store<f32>(s + (<usize>j << 2), -Infinity);
    for (let j = e; j < n; j++) store<f32>(s + (<usize>j << 2), -Infinity);
  }
}

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
@inline export function rowPtr(p: usize, tensor: i32, strideBatch: i32, b: i32, h: i32, i: i32): usize {
  const stride = <usize>paramI32(p, strideBatch) * b + <usize>paramI32(p, strideBatch + 1) * h + <usize>paramI32(p, strideBatch + 2) * i;
  return paramPtr(p, tensor) + (stride << 2);
}

// @ts-ignore: decorator
@inline export function lsePtr(p: usize, b: i32, h: i32, i: i32): usize {
  return paramPtr(p, A_LOG_SUM_EXP) + (<usize>((b * paramI32(p, A_NUM_HEADS) + h) * paramI32(p, A_QUERY_LENGTH) + i) << 2);
}

