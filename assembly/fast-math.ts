// Lane-wise math with its constants broadcast from memory. V8 builds every
// v128.const (an f32x4.splat of a literal) afresh at each use inside a loop,
// several instructions apiece, and a polynomial kernel spends most of its
// time there; v128.load32_splat of a constant in the module's static data is
// one instruction (a broadcast load from L1). Binaryen cannot fold these loads
// back into constants (the memory is imported), so they stay loads.
// Measured (one thread, relaxed build, Zen 5, bench/small-kernels.ts):
// gelu 2.9 → 1.6 ns/element and its gradient 2.9 → 1.6, same results bit
// for bit up to the order of two exact scalings.
//
// gelu(x) = x·Φ(x), Φ(x) = ½·erfc(−x/√2), with erfc(z) = t·Q(t)·e^{−z²},
// t = 1/(1 + z/2) (math.ts has the derivation and the error bounds: 3.9e-7
// relative on [−12, 8]; the tail keeps its relative accuracy down to 1e-38).
import { vexp2 } from './math';
import { fma } from './simd';

// Slot numbers of the table below.
const EXP_FAST_LO = 0; // −87.33: below, e^x leaves the one-scale fast path
const LOG2E = 1;
const MAGIC = 2; // 1.5·2^23
const NEG_C1 = 3; // −ln 2 split: C1 + C2
const NEG_C2 = 4;
const EXP_P = 5; // 6 coefficients of Cephes expf's polynomial, highest first
const ONE = 11;
const HALF_SQRT1_2 = 12; // 1/(2√2): t = 1/(1 + |x|/(2√2))
const ERFC_Q = 13; // 10 coefficients of Q(t)/2, highest first
const NEG_HALF = 23;
const INV_SQRT_2PI = 24;
const EXP2_P = 25; // exp2x4's polynomial (simd.ts): 7 coefficients, then −126
const NEG_126 = 32;

const TABLE = memory.data<f32>([
  -87.33, 1.44269504088896341, 12582912.0, -0.693359375, 2.12194440e-4,
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
  1.0,
  0.35355339059327373,
  // math.ts's erfcScaled coefficients halved (exact), so Q(t)·t·e^{−z²} is ½·erfc directly
  0.01228333730250597 * 0.5, -0.12325195968151093 * 0.5, 0.42892247438430786 * 0.5, -0.670015275478363 * 0.5,
  0.42126893997192383 * 0.5, -0.09831515699625015 * 0.5, 0.2255411446094513 * 0.5, 0.23864494264125824 * 0.5,
  0.2828570306301117 * 0.5, 0.2820644974708557 * 0.5,
  -0.5, 0.3989422804014327,
  // 2^f on [−1/2, 1/2]: c0..c6 as exp2x4 in simd.ts
  1.0, 0.6931471824645996, 0.24022646248340607, 0.05550328642129898, 0.009618489071726799, 0.0013399930903688073,
  0.00015345810970757157,
  -126.0,
], 16);

/** The constant in slot i, in every lane. */
// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load32_splat(TABLE + (<usize>i << 2));
}

/**
 * 2^u lane-wise, the same function as exp2x4 (simd.ts) with its constants
 * loaded: relative error ≤ 2e-7; lanes below −126 (−∞ too) give 0, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function exp2Fast(u: v128): v128 {
  const uc = f32x4.pmax(u, k(NEG_126)); // pmax keeps a NaN u
  const t = f32x4.add(uc, k(MAGIC));
  const n = f32x4.sub(t, k(MAGIC));
  const f = f32x4.sub(uc, n);
  const f2 = f32x4.mul(f, f);
  const a = fma(k(EXP2_P + 1), f, k(EXP2_P));
  const b = fma(k(EXP2_P + 3), f, k(EXP2_P + 2));
  const c = fma(k(EXP2_P + 5), f, k(EXP2_P + 4));
  const f4 = f32x4.mul(f2, f2);
  const p = fma(f4, fma(f2, k(EXP2_P + 6), c), fma(f2, b, a));
  const pow2n = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, pow2n), f32x4.lt(u, k(NEG_126)));
}

/** e^{−x²/2}, x² split exactly (as math.ts's vexpHalfSquare); lanes past the fast range take math.ts's vexp2. */
// @ts-ignore: decorator
@inline function expHalfSquare(x: v128): v128 {
  const xh = v128.and(x, i32x4.splat(<i32>0xfffff000)); // 12 significant bits: xh² is exact
  const xl = f32x4.sub(x, xh);
  const hi = f32x4.mul(f32x4.mul(xh, xh), k(NEG_HALF));
  const lo = f32x4.mul(f32x4.mul(xl, f32x4.add(x, xh)), k(NEG_HALF));
  // hi ≤ 0 (or NaN, which the fast path carries through); ±∞ lanes have hi = −∞
  if (v128.any_true(f32x4.lt(hi, k(EXP_FAST_LO)))) return vexp2(hi, lo);
  const t = fma(hi, k(LOG2E), k(MAGIC));
  const n = f32x4.sub(t, k(MAGIC));
  let r = fma(n, k(NEG_C1), hi);
  r = f32x4.add(fma(n, k(NEG_C2), r), lo);
  let p = fma(k(EXP_P), r, k(EXP_P + 1));
  p = fma(p, r, k(EXP_P + 2));
  p = fma(p, r, k(EXP_P + 3));
  p = fma(p, r, k(EXP_P + 4));
  p = fma(p, r, k(EXP_P + 5));
  p = f32x4.add(fma(p, f32x4.mul(r, r), r), k(ONE));
  // 2^n: n + 127 in the exponent field (t holds n in its low mantissa bits)
  return f32x4.mul(p, i32x4.shl(i32x4.sub(t, i32x4.splat(0x4b400000 - 127)), 23));
}

/** Φ(x) given ex = e^{−x²/2}. */
// @ts-ignore: decorator
@inline function normalCdf(x: v128, ex: v128): v128 {
  const t = f32x4.div(k(ONE), fma(f32x4.abs(x), k(HALF_SQRT1_2), k(ONE)));
  let q = fma(k(ERFC_Q), t, k(ERFC_Q + 1));
  q = fma(q, t, k(ERFC_Q + 2));
  q = fma(q, t, k(ERFC_Q + 3));
  q = fma(q, t, k(ERFC_Q + 4));
  q = fma(q, t, k(ERFC_Q + 5));
  q = fma(q, t, k(ERFC_Q + 6));
  q = fma(q, t, k(ERFC_Q + 7));
  q = fma(q, t, k(ERFC_Q + 8));
  q = fma(q, t, k(ERFC_Q + 9));
  const halfErfc = f32x4.mul(f32x4.mul(t, q), ex); // ½·erfc(|x|/√2) = Φ(−|x|)
  return v128.bitselect(halfErfc, f32x4.sub(k(ONE), halfErfc), f32x4.lt(x, f32x4.splat(0)));
}

/** gelu(x) = x·Φ(x) lane-wise. */
// @ts-ignore: decorator
@inline export function geluFast(x: v128): v128 {
  return f32x4.mul(x, normalCdf(x, expHalfSquare(x)));
}

/** gelu′(x) = Φ(x) + x·φ(x) lane-wise. */
// @ts-ignore: decorator
@inline export function geluDerivativeFast(x: v128): v128 {
  const ex = expHalfSquare(x);
  return f32x4.add(f32x4.mul(f32x4.mul(x, ex), k(INV_SQRT_2PI)), normalCdf(x, ex));
}
