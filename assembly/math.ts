// SIMD transcendental functions for the elementwise, softmax and loss
// kernels (f32x4 lanes), and the scalar f64 log/exp/pow behind powScalar.
// No lookup tables: AssemblyScript's own Math.exp/log/pow read tables from
// static data, which would land in the tensor heap's first pages.
//
// Largest relative errors measured against float64 references rounded to
// float32 (2·10^6 points per function, relaxed build; src/backend/js is the
// reference, with an exact erfc for gelu's tail):
//   vexp      1.2e-7 (1 ulp) on [−87, 89]; denormal results within 1 denormal ulp
//   vlog      1.2e-7 on [1e-30, 1e30], denormal inputs included
//   vtanh     1.2e-7 (polynomial below 0.625, else 1 − 2/(e^{2|x|} + 1))
//   sigmoid   2.4e-7 and silu 2.4e-7, from e = e^{−|x|}, so neither tail cancels
//   gelu      3.9e-7 on [−12, 8]: Φ(x) = ½·erfc(−x/√2), erfc(z) = t·Q(t)·e^{−z²},
//             t = 1/(1 + z/2), Q a degree-9 fit of relative error 2e-8 on
//             z ∈ [0, 10]; e^{−x²/2} is taken from x² split exactly into
//             hi + lo, so the tail keeps its relative accuracy down to 1e-38
//   geluTanh  x·σ(2u): 4.7e-7 for x ≥ −2, 2.2e-6 at x = −5 (the float32 rounding of 2u)
import { fma } from './simd';

const LOG2E: f32 = 1.44269504088896341;
/** ln 2 = C1 + C2; C1 has 9 significant bits, so n·C1 is exact for |n| < 2^15. */
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;
/** 1.5·2^23: adding it rounds a float below 2^22 to an integer kept in the low mantissa bits. */
const MAGIC: f32 = 12582912.0;
/** Inside [FAST_LO, FAST_HI], 2^n is a normal float and e^x is one: one scale factor suffices. */
const FAST_LO: f32 = -87.33;
const FAST_HI: f32 = 88.3;
/** Below, e^x rounds to 0 in float32; above, to +∞. */
const WIDE_LO: f32 = -104.0;
const WIDE_HI: f32 = 89.0;

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

/** e^r for |r| ≤ ln2/2: 1 + r + r²·P(r) (Cephes expf). */
// @ts-ignore: decorator
@inline function expPoly(r: v128): v128 {
  let p = fma(splat(1.9875691500e-4), r, splat(1.3981999507e-3));
  p = fma(p, r, splat(8.3334519073e-3));
  p = fma(p, r, splat(4.1665795894e-2));
  p = fma(p, r, splat(1.6666665459e-1));
  p = fma(p, r, splat(5.0000001201e-1));
  return f32x4.add(fma(p, f32x4.mul(r, r), r), splat(1.0));
}

/** 2^n for integer lanes n in [−126, 127]. */
// @ts-ignore: decorator
@inline function pow2i(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

/**
 * e^(hi + lo) where lo is small against hi (|lo| ≤ 2^-10·|hi| or < 0.1).
 * Lanes outside the fast range take expWide.
 */
// @ts-ignore: decorator
@inline export function vexp2(hi: v128, lo: v128): v128 {
  if (v128.any_true(v128.or(f32x4.lt(hi, splat(FAST_LO)), f32x4.gt(hi, splat(FAST_HI))))) return expWide(hi, lo);
  const t = fma(hi, splat(LOG2E), splat(MAGIC));
  const n = f32x4.sub(t, splat(MAGIC));
  let r = fma(n, splat(-C1), hi);
  r = f32x4.add(fma(n, splat(-C2), r), lo);
  return f32x4.mul(expPoly(r), pow2i(i32x4.sub(t, i32x4.splat(0x4b400000))));
}

/** e^x lane-wise; NaN stays NaN, −∞ gives 0, +∞ gives +∞. */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  if (v128.any_true(v128.or(f32x4.lt(x, splat(FAST_LO)), f32x4.gt(x, splat(FAST_HI))))) return expWide(x, f32x4.splat(0));
  const t = fma(x, splat(LOG2E), splat(MAGIC));
  const n = f32x4.sub(t, splat(MAGIC));
  let r = fma(n, splat(-C1), x);
  r = fma(n, splat(-C2), r);
  return f32x4.mul(expPoly(r), pow2i(i32x4.sub(t, i32x4.splat(0x4b400000))));
}

/**
 * The slow path of vexp/vexp2 for vectors with a lane outside the fast range:
 * 2^n is applied as 2^(n>>1)·2^(n−n>>1) so that results near the top stay
 * finite and results in the denormal range are rounded once. Lanes below
 * WIDE_LO are computed from 0 and then zeroed (no denormal arithmetic).
 */
function expWide(hi: v128, lo: v128): v128 {
  const under = f32x4.lt(hi, splat(WIDE_LO));
  const xc = f32x4.pmin(v128.andnot(hi, under), splat(WIDE_HI)); // pmin keeps NaN
  const t = fma(xc, splat(LOG2E), splat(MAGIC));
  const nf = f32x4.sub(t, splat(MAGIC));
  let r = fma(nf, splat(-C1), xc);
  r = f32x4.add(fma(nf, splat(-C2), r), v128.andnot(lo, under));
  const n = i32x4.sub(t, i32x4.splat(0x4b400000));
  const n1 = i32x4.shr_s(n, 1);
  const y = f32x4.mul(f32x4.mul(expPoly(r), pow2i(n1)), pow2i(i32x4.sub(n, n1)));
  return v128.andnot(y, under);
}

/** Natural log lane-wise (Cephes logf); 0 → −∞, x < 0 → NaN, +∞ → +∞, denormals exact. */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  // scale denormals up by 2^23
  const tiny = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, tiny);
  // x = m·2^e with m in [0.5, 1)
  let e = i32x4.sub(i32x4.shr_u(xs, 23), i32x4.add(i32x4.splat(126), v128.and(tiny, i32x4.splat(23))));
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // m < √½: use 2m − 1 and e − 1, else m − 1; so the polynomial argument is in [√½ − 1, √2 − 1]
  const low = f32x4.lt(m, splat(0.707106781186547524));
  e = i32x4.add(e, low); // low lanes are −1
  m = f32x4.sub(f32x4.add(m, v128.and(m, low)), splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = fma(splat(7.0376836292e-2), m, splat(-1.1514610310e-1));
  p = fma(p, m, splat(1.1676998740e-1));
  p = fma(p, m, splat(-1.2420140846e-1));
  p = fma(p, m, splat(1.4249322787e-1));
  p = fma(p, m, splat(-1.6668057665e-1));
  p = fma(p, m, splat(2.0000714765e-1));
  p = fma(p, m, splat(-2.4999993993e-1));
  p = fma(p, m, splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = fma(ef, splat(C2), y);
  y = fma(z, splat(-0.5), y);
  let r = f32x4.add(m, y);
  r = fma(ef, splat(C1), r);
  // specials: +∞ and NaN → themselves, x < 0 (−∞ too) → NaN, ±0 → −∞
  r = v128.bitselect(x, r, i32x4.ge_u(x, i32x4.splat(0x7f800000)));
  r = v128.bitselect(f32x4.splat(NaN), r, f32x4.lt(x, splat(0)));
  return v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, splat(0)));
}

/** tanh lane-wise (Cephes tanhf): x + x³·P(x²) below 0.625, else 1 − 2/(e^{2|x|} + 1). */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = fma(splat(-5.70498872745e-3), z, splat(2.06390887954e-2));
  p = fma(p, z, splat(-5.37397155531e-2));
  p = fma(p, z, splat(1.33314422036e-1));
  p = fma(p, z, splat(-3.33332819422e-1));
  const small = fma(f32x4.mul(p, z), x, x);
  // tanh(10) rounds to 1 in float32; clamping keeps vexp on its fast path (pmin keeps NaN)
  const e = vexp(f32x4.mul(f32x4.pmin(ax, splat(10.0)), splat(2.0)));
  let big = f32x4.sub(splat(1.0), f32x4.div(splat(2.0), f32x4.add(e, splat(1.0))));
  big = v128.or(big, v128.and(x, i32x4.splat(<i32>0x80000000)));
  return v128.bitselect(small, big, f32x4.lt(ax, splat(0.625)));
}

/**
 * The parts of a sigmoid that never cancel: e = e^{−|x|} and d = 1/(1 + e),
 * so σ(x) = x ≥ 0 ? d : e·d and 1 − σ(x) = x ≥ 0 ? e·d : d.
 */
// @ts-ignore: decorator
@inline export function sigmoidParts(x: v128): v128 {
  return vexp(f32x4.neg(f32x4.abs(x)));
}

// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const e = sigmoidParts(x);
  const d = f32x4.div(splat(1.0), f32x4.add(splat(1.0), e));
  return v128.bitselect(d, f32x4.mul(e, d), f32x4.ge(x, splat(0)));
}

/** e^{−x²/2}, with x² split exactly so the result keeps full relative accuracy. */
// @ts-ignore: decorator
@inline export function vexpHalfSquare(x: v128): v128 {
  const xh = v128.and(x, i32x4.splat(<i32>0xfffff000)); // 12 significant bits: xh² is exact
  const xl = f32x4.sub(x, xh);
  const hi = f32x4.mul(f32x4.mul(xh, xh), splat(-0.5));
  const lo = f32x4.mul(f32x4.mul(xl, f32x4.add(x, xh)), splat(-0.5));
  return vexp2(hi, lo);
}

/** e^{z²}·erfc(z)/t with t = 1/(1 + z/2), z ≥ 0 (relative error ≤ 1.3e-7 for z ≤ 10). */
// @ts-ignore: decorator
@inline function erfcScaled(t: v128): v128 {
  let q = fma(splat(0.01228333730250597), t, splat(-0.12325195968151093));
  q = fma(q, t, splat(0.42892247438430786));
  q = fma(q, t, splat(-0.670015275478363));
  q = fma(q, t, splat(0.42126893997192383));
  q = fma(q, t, splat(-0.09831515699625015));
  q = fma(q, t, splat(0.2255411446094513));
  q = fma(q, t, splat(0.23864494264125824));
  q = fma(q, t, splat(0.2828570306301117));
  return fma(q, t, splat(0.2820644974708557));
}

/** The standard normal CDF Φ(x), given ex = e^{−x²/2} (vexpHalfSquare), which its derivative reuses. */
// @ts-ignore: decorator
@inline export function normalCdf(x: v128, ex: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), splat(0.707106781186547524));
  const t = f32x4.div(splat(1.0), fma(z, splat(0.5), splat(1.0)));
  const halfErfc = f32x4.mul(f32x4.mul(f32x4.mul(t, erfcScaled(t)), ex), splat(0.5));
  return v128.bitselect(halfErfc, f32x4.sub(splat(1.0), halfErfc), f32x4.lt(x, splat(0)));
}

// ---- scalar float64, for powScalar and the per-row scalars of crossEntropy ----

const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;

/** ln x for finite x > 0, ~1e-16 relative: ln x = e·ln2 + 2·atanh((m − 1)/(m + 1)), m in [√½, √2). */
export function log64(x: f64): f64 {
  let bits = reinterpret<u64>(x);
  let e = <i32>(bits >> 52) - 1023;
  if (e == -1023) {
    // denormal
    bits = reinterpret<u64>(x * 18014398509481984.0); // 2^54
    e = <i32>(bits >> 52) - 1023 - 54;
  }
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1.0 / 23;
  p = p * s2 + 1.0 / 21;
  p = p * s2 + 1.0 / 19;
  p = p * s2 + 1.0 / 17;
  p = p * s2 + 1.0 / 15;
  p = p * s2 + 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  const ef = <f64>e;
  return ef * LN2_HI + (ef * LN2_LO + 2 * s * (1 + s2 * p));
}

/** e^y rounded for float32 use: +∞ above 89, 0 below −104 (where float32 rounds them anyway). */
export function exp64(y: f64): f64 {
  if (y != y) return y;
  if (y > 89) return Infinity;
  if (y < -104) return 0;
  const n = nearest<f64>(y * 1.4426950408889634);
  const r = y - n * LN2_HI - n * LN2_LO;
  let p = 1.0 / 6227020800; // 1/13!
  p = p * r + 1.0 / 479001600;
  p = p * r + 1.0 / 39916800;
  p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1;
  p = p * r + 1;
  return p * reinterpret<f64>(<u64>(<i64>n + 1023) << 52);
}

/** x ** a with JavaScript's special cases, accurate well beyond float32 (powScalar). */
export function pow64(x: f64, a: f64): f64 {
  if (a == 0) return 1;
  if (a != a || x != x) return NaN;
  const ax = abs<f64>(x);
  if (abs<f64>(a) == Infinity) {
    if (ax == 1) return NaN;
    return (ax > 1) == (a > 0) ? Infinity : 0;
  }
  const integer = floor<f64>(a) == a;
  if (integer && abs<f64>(a) <= 1048576) {
    // binary powering: at most 40 float64 products
    let n = <i64>abs<f64>(a);
    let base = x;
    let acc: f64 = 1;
    while (n > 0) {
      if (n & 1) acc *= base;
      base *= base;
      n >>= 1;
    }
    return a < 0 ? 1 / acc : acc;
  }
  const odd = integer && abs<f64>(a) < 9007199254740992 && floor<f64>(a * 0.5) * 2 != a;
  let r: f64;
  if (ax == 0) r = a > 0 ? 0 : Infinity;
  else if (ax == Infinity) r = a > 0 ? Infinity : 0;
  else if (x < 0 && !integer) return NaN;
  else r = exp64(a * log64(ax));
  return x < 0 || (x == 0 && 1 / x < 0) ? (odd ? -r : r) : r;
}
