// GEMM tiles of the attention kernels: one register-blocked micro-kernel
// over arbitrary operand layouts, and the packing that feeds it.
// Legend as in attention.ts:
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
import { fma, hsum } from './simd';

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
// 11 live v128, under V8's ~13), then 4 × 4; leftover rows 1 × 24/16/4
// (1 × 32 spills: V8 hoists all eight B loads above the FMAs).
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
    for (; n + 24 <= N; n += 24) block1x24(a0, aK, b + (<usize>n << 2), ldb, K, cm + (<usize>n << 2), init, al);
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
@inline function block1x24(p0: usize, aK: usize, pb: usize, ldb: usize, K: i32, pc: usize, init: i32, alpha: usize): void {
  const s = init == INIT_RESCALE ? v128.load32_splat(alpha) : f32x4.splat(1);
  let c0 = initAcc(pc, 0, init, s);
  let c1 = initAcc(pc, 16, init, s);
  let c2 = initAcc(pc, 32, init, s);
  let c3 = initAcc(pc, 48, init, s);
  let c4 = initAcc(pc, 64, init, s);
  let c5 = initAcc(pc, 80, init, s);
  for (let k = 0; k < K; k++) {
    const x = v128.load32_splat(p0);
    c0 = fma(x, v128.load(pb), c0);
    c1 = fma(x, v128.load(pb, 16), c1);
    c2 = fma(x, v128.load(pb, 32), c2);
    c3 = fma(x, v128.load(pb, 48), c3);
    c4 = fma(x, v128.load(pb, 64), c4);
    c5 = fma(x, v128.load(pb, 80), c5);
    p0 += aK;
    pb += ldb;
  }
  v128.store(pc, c0);
  v128.store(pc, c1, 16);
  v128.store(pc, c2, 32);
  v128.store(pc, c3, 48);
  v128.store(pc, c4, 64);
  v128.store(pc, c5, 80);
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
