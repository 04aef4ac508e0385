// Row helpers shared by the reduction, softmax and loss kernels (not
// kernels themselves, so assembly/index.ts does not re-export this file).
import { at, keepLanes, loadN, storeN } from './lanes';
import { vexp } from './math';

// @ts-ignore: decorator
@inline export function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Σ p[0..n) in float64. */
export function rowSum64(p: usize, n: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v0 = v128.load(at(p, i));
    const v1 = v128.load(at(p, i), 16);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
    a1 = f64x2.add(a1, promoteHigh(v0));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
    a3 = f64x2.add(a3, promoteHigh(v1));
  }
  const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) sum += <f64>load<f32>(at(p, i));
  return sum;
}

/** max p[0..n) with the reference's semantics: NaN if any element is NaN, −∞ when n = 0. */
export function rowMax(p: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  let nan = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v0 = v128.load(at(p, i));
    const v1 = v128.load(at(p, i), 16);
    m0 = f32x4.pmax(m0, v0);
    m1 = f32x4.pmax(m1, v1);
    nan = v128.or(nan, v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)));
  }
  m0 = f32x4.pmax(m0, m1);
  let m = max(max(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)), max(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
  for (; i < n; i++) {
    const v = load<f32>(at(p, i));
    if (v > m || v != v) m = v;
    if (v != v) break;
  }
  return v128.any_true(nan) ? NaN : m;
}

/** Σ a[i]·b[i] over [0, n) with float32 products summed in float64. */
export function rowDot64(a: usize, b: usize, n: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i)));
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, promoteHigh(v));
  }
  const s = f64x2.add(a0, a1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) sum += <f64>(load<f32>(at(a, i)) * load<f32>(at(b, i)));
  return sum;
}

/** Adds the four lanes of v to the two float64 lanes of acc. */
// @ts-ignore: decorator
@inline export function accumulate64(acc: v128, v: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(v), promoteHigh(v)));
}

/** Sum of the two lanes. */
// @ts-ignore: decorator
@inline export function lanes64(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

/** Four float32 lanes from two float64 pairs (lo: lanes 0–1, hi: lanes 2–3). */
// @ts-ignore: decorator
@inline export function demote4(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Σ e^{x − m} over the row, also storing the exponentials at out unless out is 0. */
export function expSumRow(x: usize, out: usize, n: i32, m: f32): f64 {
  const vm = f32x4.splat(m);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const e0 = vexp(f32x4.sub(v128.load(at(x, i)), vm));
    const e1 = vexp(f32x4.sub(v128.load(at(x, i), 16), vm));
    if (out) {
      v128.store(at(out, i), e0);
      v128.store(at(out, i), e1, 16);
    }
    acc0 = accumulate64(acc0, e0);
    acc1 = accumulate64(acc1, e1);
  }
  for (; i < n; i += 4) {
    const count = min(4, n - i);
    const e = vexp(f32x4.sub(count == 4 ? v128.load(at(x, i)) : loadN(at(x, i), count), vm));
    const kept = keepLanes(e, count);
    if (out) {
      if (count == 4) v128.store(at(out, i), e);
      else storeN(at(out, i), e, count);
    }
    acc0 = accumulate64(acc0, kept);
  }
  return lanes64(f64x2.add(acc0, acc1));
}
