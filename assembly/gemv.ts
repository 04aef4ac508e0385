// Matrix–vector products and GEMMs with a few rows (M ≤ 4): C = A·B (+ C),
// f32, row-major, `batch` independent products, without packing. gemm.ts
// packs B into panels, which pays when the panel serves many rows of A; at
// M = 1 the packing moves as many bytes as the product reads and the
// product runs at a quarter of its speed ([1, 512]·[512, 512]: 7.7 GFLOP/s
// through gemm.ts). Here B is read once, in place, straight into the FMAs.
//
// M rows of A and C · N columns of B and C · K the reduction dimension
// B row-major [K, N]: C rows are sums of B rows scaled by A's entries
//   (1 × 32, 2 × 16 or 4 × 8 columns at a time: 8 accumulators).
// B transposed [N, K] (x·Wᵀ of a Linear): each C entry is a dot product of
//   contiguous rows (1 × 8 or 4 × 2 entries at a time: 8 accumulators, one
//   4-way horizontal sum per 4 entries at the end).
// A row past M−1 aliases row M−1 (computed, never stored), so M = 3 runs the
// 4-row code. transA (A stored [K, M]) is taken only with a row-major B.
//
// Threads own disjoint column ranges (64 columns at a time) of every batch.
import { fma, shareStart } from './simd';

const CHUNK = 64;

/** C = A·B (+ C when accumulate) for M ≤ 4; batch strides in elements (0 broadcasts). */
export function gemvSmall(
  a: usize, b: usize, c: usize,
  batch: i32, M: i32, N: i32, K: i32,
  batchStrideA: i32, batchStrideB: i32, batchStrideC: i32,
  transA: i32, transB: i32, accumulate: i32,
  tid: i32, nthreads: i32,
): void {
  const chunks = (N + CHUNK - 1) / CHUNK;
  const items = batch * chunks;
  const end = shareStart(items, tid + 1, nthreads);
  // element strides in bytes: A(m, k) = a + m·aRow + k·aK
  const aRow: usize = transA ? 4 : <usize>K << 2;
  const aK: usize = transA ? <usize>M << 2 : 4;
  const ldb = <usize>(transB ? K : N) << 2;
  const ldc = <usize>N << 2;
  for (let item = shareStart(items, tid, nthreads); item < end; item++) {
    const bi = item / chunks;
    const n0 = (item % chunks) * CHUNK;
    const n1 = min(N, n0 + CHUNK);
    const ab = a + ((<usize>bi * batchStrideA) << 2);
    const bb = b + ((<usize>bi * batchStrideB) << 2);
    const cb = c + ((<usize>bi * batchStrideC) << 2);
    if (K <= 0) {
      if (!accumulate) for (let m = 0; m < M; m++) memory.fill(cb + <usize>m * ldc + (<usize>n0 << 2), 0, <usize>(n1 - n0) << 2);
      continue;
    }
    if (transB) dotColumns(ab, aRow, M, bb, ldb, K, cb, ldc, n0, n1, accumulate != 0);
    else axpyColumns(ab, aRow, aK, M, bb, ldb, K, cb, ldc, n0, n1, accumulate != 0);
  }
}

// @ts-ignore: decorator
@inline function put(p: usize, v: v128, add: bool): void {
  v128.store(p, add ? f32x4.add(v128.load(p), v) : v);
}

// @ts-ignore: decorator
@inline function putScalar(p: usize, v: f32, add: bool): void {
  store<f32>(p, add ? load<f32>(p) + v : v);
}

/** Row r of A, aliased to row M − 1 past the end. */
// @ts-ignore: decorator
@inline function rowOf(a: usize, aRow: usize, r: i32, M: i32): usize {
  return a + <usize>min(r, M - 1) * aRow;
}

// ---------------------------------------------------------------------------
// B row-major: C[m][n0:n1] = Σ_k A(m, k)·B[k][n0:n1]
// ---------------------------------------------------------------------------

function axpyColumns(a: usize, aRow: usize, aK: usize, M: i32, b: usize, ldb: usize, K: i32, c: usize, ldc: usize, n0: i32, n1: i32, add: bool): void {
  let n = n0;
  if (M == 1) {
    for (; n + 32 <= n1; n += 32) axpy1x32(a, aK, b + (<usize>n << 2), ldb, K, c + (<usize>n << 2), add);
  } else if (M == 2) {
    for (; n + 16 <= n1; n += 16) axpy2x16(a, aRow, aK, b + (<usize>n << 2), ldb, K, c + (<usize>n << 2), ldc, add);
  } else {
    for (let m0 = 0; m0 < M; m0 += 4) {
      const rows = min(4, M - m0);
      for (let j = n; j + 8 <= n1; j += 8) axpy4x8(a + <usize>m0 * aRow, aRow, aK, rows, b + (<usize>j << 2), ldb, K, c + <usize>m0 * ldc + (<usize>j << 2), ldc, add);
    }
    n += (n1 - n) & ~7;
  }
  // leftover columns: 4 at a time, then one by one
  for (; n < n1; n++) {
    const four = n + 4 <= n1;
    for (let m = 0; m < M; m++) {
      const am = a + <usize>m * aRow;
      if (four) {
        let acc = f32x4.splat(0);
        for (let k = 0; k < K; k++) acc = fma(v128.load32_splat(am + <usize>k * aK), v128.load(b + <usize>k * ldb + (<usize>n << 2)), acc);
        put(c + <usize>m * ldc + (<usize>n << 2), acc, add);
      } else {
        let s: f32 = 0;
        for (let k = 0; k < K; k++) s += load<f32>(am + <usize>k * aK) * load<f32>(b + <usize>k * ldb + (<usize>n << 2));
        putScalar(c + <usize>m * ldc + (<usize>n << 2), s, add);
      }
    }
    if (four) n += 3;
  }
}

function axpy1x32(a: usize, aK: usize, b: usize, ldb: usize, K: i32, c: usize, add: bool): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let k = 0; k < K; k++) {
    const x = v128.load32_splat(a + <usize>k * aK);
    const r = b + <usize>k * ldb;
    c0 = fma(x, v128.load(r), c0);
    c1 = fma(x, v128.load(r, 16), c1);
    c2 = fma(x, v128.load(r, 32), c2);
    c3 = fma(x, v128.load(r, 48), c3);
    c4 = fma(x, v128.load(r, 64), c4);
    c5 = fma(x, v128.load(r, 80), c5);
    c6 = fma(x, v128.load(r, 96), c6);
    c7 = fma(x, v128.load(r, 112), c7);
  }
  put(c, c0, add); put(c + 16, c1, add); put(c + 32, c2, add); put(c + 48, c3, add);
  put(c + 64, c4, add); put(c + 80, c5, add); put(c + 96, c6, add); put(c + 112, c7, add);
}

function axpy2x16(a: usize, aRow: usize, aK: usize, b: usize, ldb: usize, K: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  const a1 = a + aRow;
  for (let k = 0; k < K; k++) {
    const r = b + <usize>k * ldb;
    const b0 = v128.load(r), b1 = v128.load(r, 16), b2 = v128.load(r, 32), b3 = v128.load(r, 48);
    const x0 = v128.load32_splat(a + <usize>k * aK);
    c00 = fma(x0, b0, c00); c01 = fma(x0, b1, c01); c02 = fma(x0, b2, c02); c03 = fma(x0, b3, c03);
    const x1 = v128.load32_splat(a1 + <usize>k * aK);
    c10 = fma(x1, b0, c10); c11 = fma(x1, b1, c11); c12 = fma(x1, b2, c12); c13 = fma(x1, b3, c13);
  }
  put(c, c00, add); put(c + 16, c01, add); put(c + 32, c02, add); put(c + 48, c03, add);
  const d = c + ldc;
  put(d, c10, add); put(d + 16, c11, add); put(d + 32, c12, add); put(d + 48, c13, add);
}

function axpy4x8(a: usize, aRow: usize, aK: usize, rows: i32, b: usize, ldb: usize, K: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const a0 = a, a1 = rowOf(a, aRow, 1, rows), a2 = rowOf(a, aRow, 2, rows), a3 = rowOf(a, aRow, 3, rows);
  for (let k = 0; k < K; k++) {
    const r = b + <usize>k * ldb;
    const b0 = v128.load(r), b1 = v128.load(r, 16);
    const o = <usize>k * aK;
    const x0 = v128.load32_splat(a0 + o);
    c00 = fma(x0, b0, c00); c01 = fma(x0, b1, c01);
    const x1 = v128.load32_splat(a1 + o);
    c10 = fma(x1, b0, c10); c11 = fma(x1, b1, c11);
    const x2 = v128.load32_splat(a2 + o);
    c20 = fma(x2, b0, c20); c21 = fma(x2, b1, c21);
    const x3 = v128.load32_splat(a3 + o);
    c30 = fma(x3, b0, c30); c31 = fma(x3, b1, c31);
  }
  put(c, c00, add); put(c + 16, c01, add);
  if (rows > 1) { put(c + ldc, c10, add); put(c + ldc + 16, c11, add); }
  if (rows > 2) { put(c + 2 * ldc, c20, add); put(c + 2 * ldc + 16, c21, add); }
  if (rows > 3) { put(c + 3 * ldc, c30, add); put(c + 3 * ldc + 16, c31, add); }
}

// ---------------------------------------------------------------------------
// B transposed: C[m][n] = Σ_k A[m][k]·B[n][k] (A row-major: transA is not sent here with M > 1)
// ---------------------------------------------------------------------------

/** The four lane sums of x, y, z, w as one vector [Σx, Σy, Σz, Σw]. */
// @ts-ignore: decorator
@inline function sum4(x: v128, y: v128, z: v128, w: v128): v128 {
  const xy = f32x4.add(i32x4.shuffle(x, y, 0, 4, 1, 5), i32x4.shuffle(x, y, 2, 6, 3, 7)); // x02 y02 x13 y13
  const zw = f32x4.add(i32x4.shuffle(z, w, 0, 4, 1, 5), i32x4.shuffle(z, w, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(xy, zw, 0, 1, 4, 5), i32x4.shuffle(xy, zw, 2, 3, 6, 7));
}

function dotColumns(a: usize, aRow: usize, M: i32, b: usize, ldb: usize, K: i32, c: usize, ldc: usize, n0: i32, n1: i32, add: bool): void {
  const K4 = K & ~3;
  let n = n0;
  if (M == 1) {
    for (; n + 8 <= n1; n += 8) dot1x8(a, b + <usize>n * ldb, ldb, K, K4, c + (<usize>n << 2), add);
  } else {
    for (let m0 = 0; m0 < M; m0 += 4) {
      const rows = min(4, M - m0);
      for (let j = n; j + 2 <= n1; j += 2) dot4x2(a + <usize>m0 * aRow, aRow, rows, b + <usize>j * ldb, ldb, K, K4, c + <usize>m0 * ldc + (<usize>j << 2), ldc, add);
    }
    n += (n1 - n) & ~1;
  }
  for (; n < n1; n++) {
    const bn = b + <usize>n * ldb;
    for (let m = 0; m < M; m++) putScalar(c + <usize>m * ldc + (<usize>n << 2), dot(a + <usize>m * aRow, bn, K, K4), add);
  }
}

/** Σ_k x[k]·y[k]. */
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, K: i32, K4: i32): f32 {
  let acc = f32x4.splat(0);
  for (let k = 0; k < K4; k += 4) acc = fma(v128.load(x + (<usize>k << 2)), v128.load(y + (<usize>k << 2)), acc);
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (let k = K4; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(y + (<usize>k << 2));
  return s;
}

/** The K % 4 leftover terms of row x against rows y..y+3·ldb, as lanes. */
// @ts-ignore: decorator
@inline function tail4(x: usize, y: usize, ldb: usize, K: i32, K4: i32): v128 {
  let t = f32x4.splat(0);
  for (let k = K4; k < K; k++) {
    const o = <usize>k << 2;
    const y4 = f32x4(load<f32>(y + o), load<f32>(y + ldb + o), load<f32>(y + 2 * ldb + o), load<f32>(y + 3 * ldb + o));
    t = fma(v128.load32_splat(x + o), y4, t);
  }
  return t;
}

function dot1x8(a: usize, b: usize, ldb: usize, K: i32, K4: i32, c: usize, add: bool): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const b4 = b + 4 * ldb;
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    const x = v128.load(a + o);
    c0 = fma(x, v128.load(b + o), c0);
    c1 = fma(x, v128.load(b + ldb + o), c1);
    c2 = fma(x, v128.load(b + 2 * ldb + o), c2);
    c3 = fma(x, v128.load(b + 3 * ldb + o), c3);
    c4 = fma(x, v128.load(b4 + o), c4);
    c5 = fma(x, v128.load(b4 + ldb + o), c5);
    c6 = fma(x, v128.load(b4 + 2 * ldb + o), c6);
    c7 = fma(x, v128.load(b4 + 3 * ldb + o), c7);
  }
  let lo = sum4(c0, c1, c2, c3);
  let hi = sum4(c4, c5, c6, c7);
  if (K4 < K) {
    lo = f32x4.add(lo, tail4(a, b, ldb, K, K4));
    hi = f32x4.add(hi, tail4(a, b4, ldb, K, K4));
  }
  put(c, lo, add);
  put(c + 16, hi, add);
}

function dot4x2(a: usize, aRow: usize, rows: i32, b: usize, ldb: usize, K: i32, K4: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c10 = c00, c20 = c00, c30 = c00, c01 = c00, c11 = c00, c21 = c00, c31 = c00;
  const a0 = a, a1 = rowOf(a, aRow, 1, rows), a2 = rowOf(a, aRow, 2, rows), a3 = rowOf(a, aRow, 3, rows);
  const b1 = b + ldb;
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    const y0 = v128.load(b + o), y1 = v128.load(b1 + o);
    const x0 = v128.load(a0 + o);
    c00 = fma(x0, y0, c00); c01 = fma(x0, y1, c01);
    const x1 = v128.load(a1 + o);
    c10 = fma(x1, y0, c10); c11 = fma(x1, y1, c11);
    const x2 = v128.load(a2 + o);
    c20 = fma(x2, y0, c20); c21 = fma(x2, y1, c21);
    const x3 = v128.load(a3 + o);
    c30 = fma(x3, y0, c30); c31 = fma(x3, y1, c31);
  }
  // column j's four rows as lanes
  let s0 = sum4(c00, c10, c20, c30);
  let s1 = sum4(c01, c11, c21, c31);
  for (let k = K4; k < K; k++) {
    const o = <usize>k << 2;
    const x = f32x4(load<f32>(a0 + o), load<f32>(a1 + o), load<f32>(a2 + o), load<f32>(a3 + o));
    s0 = fma(x, v128.load32_splat(b + o), s0);
    s1 = fma(x, v128.load32_splat(b1 + o), s1);
  }
  putScalar(c, f32x4.extract_lane(s0, 0), add);
  putScalar(c + 4, f32x4.extract_lane(s1, 0), add);
  if (rows > 1) { putScalar(c + ldc, f32x4.extract_lane(s0, 1), add); putScalar(c + ldc + 4, f32x4.extract_lane(s1, 1), add); }
  if (rows > 2) { putScalar(c + 2 * ldc, f32x4.extract_lane(s0, 2), add); putScalar(c + 2 * ldc + 4, f32x4.extract_lane(s1, 2), add); }
  if (rows > 3) { putScalar(c + 3 * ldc, f32x4.extract_lane(s0, 3), add); putScalar(c + 3 * ldc + 4, f32x4.extract_lane(s1, 3), add); }
}
