// Helpers the non-GEMM kernels share: partial vectors for the 1–3 elements
// left after the last full f32x4, and thread shares cut on cache lines.
import { shareStart } from './simd';

/** The first `n` (1..3) floats at p in the low lanes, zeros above; reads nothing past them. */
// @ts-ignore: decorator
@inline export function loadN(p: usize, n: i32): v128 {
  let v = v128.load32_zero(p);
  if (n > 1) v = v128.load32_lane(p, v, 1, 4);
  if (n > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores the low `n` (1..3) lanes of v at p. */
// @ts-ignore: decorator
@inline export function storeN(p: usize, v: v128, n: i32): void {
  v128.store32_lane(p, v, 0);
  if (n > 1) v128.store32_lane(p, v, 1, 4);
  if (n > 2) v128.store32_lane(p, v, 2, 8);
}

/** All-ones in the first `count` lanes (count ≥ 4: all four). */
// @ts-ignore: decorator
@inline export function laneMask(count: i32): v128 {
  return i32x4.gt_s(i32x4.splat(count), i32x4(0, 1, 2, 3));
}

/** v with the lanes from `count` on zeroed, so a partial vector adds nothing to a sum. */
// @ts-ignore: decorator
@inline export function keepLanes(v: v128, count: i32): v128 {
  return count >= 4 ? v : v128.and(v, laneMask(count));
}

/**
 * Where thread tid's share of `count` elements starts, cut on 16-float
 * (64-byte) boundaries so that no two threads write the same cache line.
 * Thread tid owns [elementShare(count, tid, n), elementShare(count, tid + 1, n)).
 */
// @ts-ignore: decorator
@inline export function elementShare(count: i32, tid: i32, nthreads: i32): i32 {
  return min(count, shareStart((count + 15) >> 4, tid, nthreads) << 4);
}

/** Byte address of element `index` (which may be computed with signed strides) from base. */
// @ts-ignore: decorator
@inline export function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}
