// Softmax and log-softmax along the middle axis of [outer, axisSize, inner],
// and their backward (reference: src/backend/js/reduce.ts).
//   forward   y = e^{x − max} / Σ e^{x − max}     log: y = x − max − log Σ e^{x − max}
//   backward  dx = y∘(dy − Σ dy∘y)                log: dx = dy − e^y·Σ dy
// A row that is all −∞ uses max = 0, like the reference. Sums of
// exponentials and dot products accumulate in float64.
//
// inner == 1: rows, vectorised along the row; threads split the rows.
// inner > 1: rows are streamed into per-column running values
// (assembly/columns.ts); threads split (outer × column chunks).
import { CHUNK, chunkWidth, columnMaxes, columnScratchBytes } from './columns';
import { at, loadN, storeN } from './lanes';
import { log64, vexp } from './math';
import { expSumRow, promoteHigh, rowDot64, rowMax, rowSum64 } from './rows';
import { shareStart } from './simd';

// ---- rows (inner == 1) ----

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

// ---- columns (inner > 1): a chunk of w columns at x, rows `inner` floats apart ----
// scratch: sums (f64 × CHUNK), then m (f32 × CHUNK), then aux (f32 × CHUNK)

// @ts-ignore: decorator
@inline function cols(p: usize, c: i32, w: i32): v128 {
  return c + 4 <= w ? v128.load(at(p, c)) : loadN(at(p, c), w - c);
}

// @ts-ignore: decorator
@inline function storeCols(p: usize, c: i32, v: v128, w: i32): void {
  if (c + 4 <= w) v128.store(at(p, c), v);
  else storeN(at(p, c), v, w - c);
}

/** sums[c] += the first w − c (≤ 4) lanes of v, in float64. */
// @ts-ignore: decorator
@inline function addSums(sums: usize, c: i32, v: v128, w: i32): void {
  const q = sums + (<usize>c << 3);
  if (c + 4 <= w) {
    v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(v)));
    v128.store(q, f64x2.add(v128.load(q, 16), promoteHigh(v)), 16);
  } else {
    store<f64>(q, load<f64>(q) + <f64>f32x4.extract_lane(v, 0));
    if (w - c > 1) store<f64>(q, load<f64>(q, 8) + <f64>f32x4.extract_lane(v, 1), 8);
    if (w - c > 2) store<f64>(q, load<f64>(q, 16) + <f64>f32x4.extract_lane(v, 2), 16);
  }
}

function softmaxColumns(x: usize, out: usize, inner: i32, axis: i32, w: i32, log: bool, scratch: usize): void {
  const sums = scratch;
  const m = scratch + CHUNK * 8;
  const aux = m + CHUNK * 4;
  const stride = <usize>inner << 2;
  columnMaxes(x, inner, axis, w, m);
  // a column that is all −∞ uses max 0 (the reference's rule)
  for (let c = 0; c < w; c++) if (load<f32>(at(m, c)) == -Infinity) store<f32>(at(m, c), 0);
  memory.fill(sums, 0, <usize>w << 3);
  const w8 = w & ~7;
  for (let k = 0, p = x, q = out; k < axis; k++, p += stride, q += stride) {
    let c = 0;
    for (; c < w8; c += 8) {
      // two vectors at a time: exp is latency-bound
      const e0 = vexp(f32x4.sub(v128.load(at(p, c)), v128.load(at(m, c))));
      const e1 = vexp(f32x4.sub(v128.load(at(p, c), 16), v128.load(at(m, c), 16)));
      if (!log) {
        v128.store(at(q, c), e0);
        v128.store(at(q, c), e1, 16);
      }
      addSums(sums, c, e0, w);
      addSums(sums, c + 4, e1, w);
    }
    for (; c < w; c += 4) {
      const e = vexp(f32x4.sub(cols(p, c, w), cols(m, c, w)));
      if (!log) storeCols(q, c, e, w);
      addSums(sums, c, e, w);
    }
  }
  // aux = 1/Σ (softmax) or log Σ (log-softmax)
  for (let c = 0; c < w; c++) {
    const sum = load<f64>(sums + (<usize>c << 3));
    store<f32>(at(aux, c), log ? logSum(sum) : <f32>(1 / sum));
  }
  for (let k = 0, p = x, q = out; k < axis; k++, p += stride, q += stride) {
    for (let c = 0; c < w; c += 4) {
      const y = log ? f32x4.sub(f32x4.sub(cols(p, c, w), cols(m, c, w)), cols(aux, c, w)) : f32x4.mul(cols(q, c, w), cols(aux, c, w));
      storeCols(q, c, y, w);
    }
  }
}

function softmaxGradColumns(y: usize, dy: usize, dx: usize, inner: i32, axis: i32, w: i32, log: bool, scratch: usize): void {
  const sums = scratch;
  const dot = scratch + CHUNK * 8;
  const stride = <usize>inner << 2;
  memory.fill(sums, 0, <usize>w << 3);
  for (let k = 0, py = y, pd = dy; k < axis; k++, py += stride, pd += stride) {
    for (let c = 0; c < w; c += 4) {
      const g = log ? cols(pd, c, w) : f32x4.mul(cols(pd, c, w), cols(py, c, w));
      addSums(sums, c, g, w);
    }
  }
  for (let c = 0; c < w; c++) store<f32>(at(dot, c), <f32>load<f64>(sums + (<usize>c << 3)));
  for (let k = 0, py = y, pd = dy, q = dx; k < axis; k++, py += stride, pd += stride, q += stride) {
    for (let c = 0; c < w; c += 4) {
      const yv = cols(py, c, w);
      const d = cols(pd, c, w);
      const s = cols(dot, c, w);
      storeCols(q, c, log ? f32x4.sub(d, f32x4.mul(vexp(yv), s)) : f32x4.mul(yv, f32x4.sub(d, s)), w);
    }
  }
}

// ---- kernels ----

/**
 * Softmax (log = 1: log-softmax) along the axis of x viewed as [outer, axis, inner].
 * scratch: columnScratchBytes() per thread (used when inner > 1).
 */
export function softmax(
  x: usize, out: usize, outer: i32, axis: i32, inner: i32, log: i32, scratch: usize, tid: i32, nthreads: i32,
): void {
  if (inner == 1) {
    const end = shareStart(outer, tid + 1, nthreads);
    for (let o = shareStart(outer, tid, nthreads); o < end; o++) softmaxRow(at(x, o * axis), at(out, o * axis), axis, log != 0);
    return;
  }
  const width = chunkWidth(inner, nthreads);
  const chunks = (inner + width - 1) / width;
  const mine = scratch + <usize>(tid * columnScratchBytes());
  const end = shareStart(outer * chunks, tid + 1, nthreads);
  for (let item = shareStart(outer * chunks, tid, nthreads); item < end; item++) {
    const o = item / chunks;
    const c0 = (item - o * chunks) * width;
    const offset = o * axis * inner + c0;
    softmaxColumns(at(x, offset), at(out, offset), inner, axis, min(width, inner - c0), log != 0, mine);
  }
}

/** dx from y = softmax(x) (log = 1: log-softmax) and dy, same layout and scratch as softmax. */
export function softmaxGrad(
  y: usize, dy: usize, dx: usize, outer: i32, axis: i32, inner: i32, log: i32, scratch: usize, tid: i32, nthreads: i32,
): void {
  if (inner == 1) {
    const end = shareStart(outer, tid + 1, nthreads);
    for (let o = shareStart(outer, tid, nthreads); o < end; o++) {
      softmaxGradRow(at(y, o * axis), at(dy, o * axis), at(dx, o * axis), axis, log != 0);
    }
    return;
  }
  const width = chunkWidth(inner, nthreads);
  const chunks = (inner + width - 1) / width;
  const mine = scratch + <usize>(tid * columnScratchBytes());
  const end = shareStart(outer * chunks, tid + 1, nthreads);
  for (let item = shareStart(outer * chunks, tid, nthreads); item < end; item++) {
    const o = item / chunks;
    const c0 = (item - o * chunks) * width;
    const offset = o * axis * inner + c0;
    softmaxGradColumns(at(y, offset), at(dy, offset), at(dx, offset), inner, axis, min(width, inner - c0), log != 0, mine);
  }
}
