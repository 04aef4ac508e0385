// Softmax and log-softmax along the middle axis of [outer, axisSize, inner],
// and their backward (reference: src/backend/js/reduce.ts).
//   forward   y = e^{x − max} / Σ e^{x − max}     log: y = x − max − log Σ e^{x − max}
//   backward  dx = y∘(dy − Σ dy∘y)                log: dx = dy − e^y·Σ dy
// A row that is all −∞ uses max = 0, like the reference. Sums of
// exponentials and dot products accumulate in float64.
//
// inner == 1: rows, vectorised along the row; threads split the rows.
// inner > 1: vectorised over 4 columns at a time, walking the axis with
// stride inner; threads split (outer × 16-column blocks).
import { at, loadN, storeN } from './lanes';
import { log64, vexp } from './math';
import { accumulate64, demote4, lanes64, rowDot64, rowMax, rowSum64 } from './rows';
import { shareStart } from './simd';

// ---- rows (inner == 1) ----

/** Σ e^{x − m} over the row, also storing the exponentials at out unless out is 0. */
function expSumRow(x: usize, out: usize, n: i32, m: f32): f64 {
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
    const kept = count == 4 ? e : v128.and(e, laneMask(count));
    if (out) {
      if (count == 4) v128.store(at(out, i), e);
      else storeN(at(out, i), e, count);
    }
    acc0 = accumulate64(acc0, kept);
  }
  return lanes64(f64x2.add(acc0, acc1));
}

/** All-ones in the first `count` lanes. */
// @ts-ignore: decorator
@inline function laneMask(count: i32): v128 {
  return i32x4.gt_s(i32x4.splat(count), i32x4(0, 1, 2, 3));
}

/** log Σ for a float64 sum of exponentials: −∞ for 0 (a row of −∞), NaN for NaN. */
function logSum(sum: f64): f32 {
  return sum > 0 && sum < Infinity ? <f32>log64(sum) : sum == 0 ? -Infinity : NaN;
}

function softmaxRow(x: usize, out: usize, n: i32, log: bool): void {
  let m = rowMax(x, n);
  if (m == -Infinity) m = 0;
  if (!log) {
    const inv = f32x4.splat(<f32>(1 / expSumRow(x, out, n, m)));
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(at(out, i), f32x4.mul(v128.load(at(out, i)), inv));
    for (; i < n; i++) store<f32>(at(out, i), load<f32>(at(out, i)) * f32x4.extract_lane(inv, 0));
    return;
  }
  const sum = expSumRow(x, 0, n, m);
  // log Σ: −∞ when the row is all −∞ (the output is then NaN, as in the reference)
  const vm = f32x4.splat(m);
  const vls = f32x4.splat(logSum(sum));
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), f32x4.sub(f32x4.sub(v128.load(at(x, i)), vm), vls));
  if (i < n) storeN(at(out, i), f32x4.sub(f32x4.sub(loadN(at(x, i), n - i), vm), vls), n - i);
}

function softmaxGradRow(y: usize, dy: usize, dx: usize, n: i32, log: bool): void {
  let i = 0;
  if (!log) {
    const dot = f32x4.splat(<f32>rowDot64(dy, y, n));
    for (; i + 4 <= n; i += 4) {
      v128.store(at(dx, i), f32x4.mul(v128.load(at(y, i)), f32x4.sub(v128.load(at(dy, i)), dot)));
    }
    if (i < n) storeN(at(dx, i), f32x4.mul(loadN(at(y, i), n - i), f32x4.sub(loadN(at(dy, i), n - i), dot)), n - i);
    return;
  }
  const sum = f32x4.splat(<f32>rowSum64(dy, n));
  for (; i + 4 <= n; i += 4) {
    v128.store(at(dx, i), f32x4.sub(v128.load(at(dy, i)), f32x4.mul(vexp(v128.load(at(y, i))), sum)));
  }
  if (i < n) storeN(at(dx, i), f32x4.sub(loadN(at(dy, i), n - i), f32x4.mul(vexp(loadN(at(y, i), n - i)), sum)), n - i);
}

// ---- columns (inner > 1): `width` ≤ 4 columns at p, rows `stride` bytes apart ----

// @ts-ignore: decorator
@inline function loadCols(p: usize, width: i32): v128 {
  return width == 4 ? v128.load(p) : loadN(p, width);
}

// @ts-ignore: decorator
@inline function storeCols(p: usize, v: v128, width: i32): void {
  if (width == 4) v128.store(p, v);
  else storeN(p, v, width);
}

function softmaxColumns(x: usize, out: usize, axis: i32, stride: usize, width: i32, log: bool): void {
  let m = f32x4.splat(-Infinity);
  let nan = f32x4.splat(0);
  for (let k = 0, p = x; k < axis; k++, p += stride) {
    const v = loadCols(p, width);
    m = f32x4.pmax(m, v);
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  m = v128.bitselect(f32x4.splat(NaN), m, nan);
  m = v128.andnot(m, f32x4.eq(m, f32x4.splat(-Infinity)));
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let k = 0, p = x, q = out; k < axis; k++, p += stride, q += stride) {
    const e = vexp(f32x4.sub(loadCols(p, width), m));
    if (!log) storeCols(q, e, width);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
  }
  const sum = demote4(lo, hi);
  if (!log) {
    const inv = f32x4.div(f32x4.splat(1), sum);
    for (let k = 0, q = out; k < axis; k++, q += stride) storeCols(q, f32x4.mul(loadCols(q, width), inv), width);
    return;
  }
  // log of the float64 sums (a sum just above 1 must not round to 1 first)
  const ls = f32x4(
    logSum(f64x2.extract_lane(lo, 0)),
    logSum(f64x2.extract_lane(lo, 1)),
    logSum(f64x2.extract_lane(hi, 0)),
    logSum(f64x2.extract_lane(hi, 1)),
  );
  for (let k = 0, p = x, q = out; k < axis; k++, p += stride, q += stride) {
    storeCols(q, f32x4.sub(f32x4.sub(loadCols(p, width), m), ls), width);
  }
}

function softmaxGradColumns(y: usize, dy: usize, dx: usize, axis: i32, stride: usize, width: i32, log: bool): void {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let k = 0, py = y, pd = dy; k < axis; k++, py += stride, pd += stride) {
    const g = log ? loadCols(pd, width) : f32x4.mul(loadCols(pd, width), loadCols(py, width));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(g));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 2, 3)));
  }
  const dot = demote4(lo, hi);
  for (let k = 0, py = y, pd = dy, q = dx; k < axis; k++, py += stride, pd += stride, q += stride) {
    const yv = loadCols(py, width);
    const d = loadCols(pd, width);
    storeCols(q, log ? f32x4.sub(d, f32x4.mul(vexp(yv), dot)) : f32x4.mul(yv, f32x4.sub(d, dot)), width);
  }
}

// ---- kernels ----

/** Softmax (log = 1: log-softmax) along the axis of x viewed as [outer, axis, inner]. */
export function softmax(x: usize, out: usize, outer: i32, axis: i32, inner: i32, log: i32, tid: i32, nthreads: i32): void {
  if (inner == 1) {
    const end = shareStart(outer, tid + 1, nthreads);
    for (let o = shareStart(outer, tid, nthreads); o < end; o++) softmaxRow(at(x, o * axis), at(out, o * axis), axis, log != 0);
    return;
  }
  const blocks = (inner + 15) >> 4;
  const stride = <usize>inner << 2;
  const end = shareStart(outer * blocks, tid + 1, nthreads);
  for (let item = shareStart(outer * blocks, tid, nthreads); item < end; item++) {
    const o = item / blocks;
    const c1 = min(inner, ((item - o * blocks) << 4) + 16);
    for (let c = (item - o * blocks) << 4; c < c1; c += 4) {
      const offset = o * axis * inner + c;
      softmaxColumns(at(x, offset), at(out, offset), axis, stride, min(4, c1 - c), log != 0);
    }
  }
}

/** dx from y = softmax(x) (log = 1: log-softmax) and dy, same layout as softmax. */
export function softmaxGrad(
  y: usize, dy: usize, dx: usize, outer: i32, axis: i32, inner: i32, log: i32, tid: i32, nthreads: i32,
): void {
  if (inner == 1) {
    const end = shareStart(outer, tid + 1, nthreads);
    for (let o = shareStart(outer, tid, nthreads); o < end; o++) {
      softmaxGradRow(at(y, o * axis), at(dy, o * axis), at(dx, o * axis), axis, log != 0);
    }
    return;
  }
  const blocks = (inner + 15) >> 4;
  const stride = <usize>inner << 2;
  const end = shareStart(outer * blocks, tid + 1, nthreads);
  for (let item = shareStart(outer * blocks, tid, nthreads); item < end; item++) {
    const o = item / blocks;
    const c1 = min(inner, ((item - o * blocks) << 4) + 16);
    for (let c = (item - o * blocks) << 4; c < c1; c += 4) {
      const offset = o * axis * inner + c;
      softmaxGradColumns(at(y, offset), at(dy, offset), at(dx, offset), axis, stride, min(4, c1 - c), log != 0);
    }
  }
}
