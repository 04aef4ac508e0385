// Shared SIMD helpers. RELAXED is a compile-time constant set by
// scripts/build-wasm.mjs (--use RELAXED=0|1): the relaxed build fuses
// multiply-add into one instruction (an FMA on x86), the plain build uses
// f32x4.mul + f32x4.add. Dead branches are removed at compile time.

// @ts-ignore: decorator
@inline export function fma(a: v128, b: v128, c: v128): v128 {
  if (RELAXED) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** The [start, end) share of `count` items that thread `tid` of `nthreads` owns. */
// @ts-ignore: decorator
@inline export function shareStart(count: i32, tid: i32, nthreads: i32): i32 {
  return <i32>((<i64>count * tid) / nthreads);
}
