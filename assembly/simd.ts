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

/**
 * 2^u lane-wise for u ≤ 127: u = n + f with n an integer, |f| ≤ 1/2, and a
 * degree-6 polynomial for 2^f; relative error ≤ 2e-7. Lanes below −126
 * (−∞ included) give exactly 0. About 25% cheaper than a Cody-Waite e^x
 * (Cephes expf) in V8, with a shorter dependency chain: the attention kernels
 * keep their logits in base 2 (scores pre-scaled by log2 e) to use it.
 */
// @ts-ignore: decorator
@inline export function exp2x4(u: v128): v128 {
  const uc = f32x4.pmax(u, f32x4.splat(-126.0));
  // t = u + 1.5·2^23 rounds to an integer n held in t's low mantissa bits
  const t = f32x4.add(uc, f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  const f = f32x4.sub(uc, n);
  // 2^f ≈ c0 + c1 f + … + c6 f^6 (relative minimax fit on [−1/2, 1/2]), Estrin's scheme
  const f2 = f32x4.mul(f, f);
  const a = fma(f32x4.splat(0.6931471824645996), f, f32x4.splat(1.0));
  const b = fma(f32x4.splat(0.05550328642129898), f, f32x4.splat(0.24022646248340607));
  const c = fma(f32x4.splat(0.0013399930903688073), f, f32x4.splat(0.009618489071726799));
  const f4 = f32x4.mul(f2, f2);
  const p = fma(f4, fma(f2, f32x4.splat(0.00015345810970757157), c), fma(f2, b, a));
  const pow2n = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  // 0 below −126 (and for −∞); NaN stays NaN (andnot of u < −126, which is false for NaN)
  return v128.andnot(f32x4.mul(p, pow2n), f32x4.lt(u, f32x4.splat(-126.0)));
}

/** tanh lane-wise: (1 − e^{−2|x|}) / (1 + e^{−2|x|}) with x's sign; absolute error ≤ 3e-7. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const e = exp2x4(f32x4.mul(f32x4.abs(x), f32x4.splat(-2.8853900817779268))); // −2·log2(e)
  const t = f32x4.div(f32x4.sub(f32x4.splat(1.0), e), f32x4.add(f32x4.splat(1.0), e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}
