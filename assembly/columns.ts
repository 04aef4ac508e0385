// The inner > 1 case of the axis kernels (reduce, softmax): x viewed as
// [outer, axis, inner] and reduced along the axis, column by column.
// Walking one column block down the axis touches a new 4 KiB page per row
// once inner is large, so these kernels stream whole row segments instead:
// a thread owns a chunk of ≤ CHUNK columns of one outer index and keeps a
// running value per column (float64 sums in its scratch, maxima in place).
// Long contiguous segments matter: a new 4 KiB page every few lines defeats
// the hardware prefetcher, so CHUNK is as wide as the per-column state
// allows (64 KiB per thread, in L2).
import { at, loadN, storeN } from './lanes';
import { promoteHigh } from './rows';

/** Columns per work item, at most. */
export const CHUNK = 4096;

/**
 * Scratch bytes each thread of a column kernel needs: per column a float64
 * (sums) and two float32 (max, and 1/Σ or log Σ). Layout: [f64 × CHUNK][f32 × CHUNK][f32 × CHUNK].
 */
export function columnScratchBytes(): i32 {
  return CHUNK * 16;
}

/**
 * Columns per work item: the inner extent split over the threads, rounded up
 * to 16 (one cache line), at most CHUNK.
 */
export function chunkWidth(inner: i32, nthreads: i32): i32 {
  return min(CHUNK, max(16, (((inner + nthreads - 1) / nthreads + 15) >> 4) << 4));
}

/** sums[c] = Σ_k x[k·inner + c] in float64, for c < width. */
export function columnSums64(x: usize, inner: i32, axis: i32, width: i32, sums: usize): void {
  memory.fill(sums, 0, <usize>width << 3);
  const stride = <usize>inner << 2;
  const w4 = width & ~3;
  for (let k = 0, row = x; k < axis; k++, row += stride) {
    let c = 0;
    for (; c < w4; c += 4) {
      const v = v128.load(at(row, c));
      const q = sums + (<usize>c << 3);
      v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(v)));
      v128.store(q, f64x2.add(v128.load(q, 16), promoteHigh(v)), 16);
    }
    for (; c < width; c++) {
      const q = sums + (<usize>c << 3);
      store<f64>(q, load<f64>(q) + <f64>load<f32>(at(row, c)));
    }
  }
}

/** The reference's running max: v replaces m when v > m or v is NaN, so a NaN sticks. */
// @ts-ignore: decorator
@inline export function maxStep(m: v128, v: v128): v128 {
  return v128.bitselect(v, m, v128.or(f32x4.gt(v, m), f32x4.ne(v, v)));
}

/** out[c] = max_k x[k·inner + c] for c < width (−∞ when axis = 0, NaN when any is NaN). */
export function columnMaxes(x: usize, inner: i32, axis: i32, width: i32, out: usize): void {
  const stride = <usize>inner << 2;
  const w4 = width & ~3;
  for (let c = 0; c < width; c++) store<f32>(at(out, c), -Infinity);
  for (let k = 0, row = x; k < axis; k++, row += stride) {
    let c = 0;
    for (; c < w4; c += 4) v128.store(at(out, c), maxStep(v128.load(at(out, c)), v128.load(at(row, c))));
    if (c < width) storeN(at(out, c), maxStep(loadN(at(out, c), width - c), loadN(at(row, c), width - c)), width - c);
  }
}
