// LayerNorm and RMSNorm over the last dimension, forward and backward
// (reference: src/backend/js/norm.ts).
//   forward   x̂ = (x − μ)·rstd,  y = x̂·γ + β        (RMSNorm: μ = 0, no β)
//   backward  dβ = Σ_rows dy,  dγ = Σ_rows dy∘x̂,  dx̂ = dy∘γ,
//             dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂∘x̂))   (RMSNorm: no mean(dx̂))
// The mean is summed from x − x[0], so a row far from zero (x ≈ 1000 ± 1)
// loses nothing to float32 sums; μ is then applied as two floats (hi + lo).
// Row sums run as independent float32 chains and meet in float64.
//
// Threads split the rows. dγ and dβ sum over rows, so each thread adds its
// rows into its own partial row in scratch (float32 for FLUSH_ROWS rows, then
// into float64), and normGradReduce sums the partials with threads
// splitting the columns: no two threads write one element.
import { at, elementShare, keepLanes, loadN, storeN } from './lanes';
import { accumulate64, lanes64, promoteHigh } from './rows';
import { fma, shareStart } from './simd';

// @ts-ignore: decorator
@inline function load4(p: usize, count: i32): v128 {
  return count >= 4 ? v128.load(p) : loadN(p, count);
}

// @ts-ignore: decorator
@inline function store4(p: usize, v: v128, count: i32): void {
  if (count >= 4) v128.store(p, v);
  else storeN(p, v, count);
}

/** Σ (p[c] − shift) over the row in float32 (four independent chains), returned as float64. */
function rowSumShifted(p: usize, cols: i32, shift: f32): f64 {
  const s = f32x4.splat(shift);
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const q = at(p, c);
    a0 = f32x4.add(a0, f32x4.sub(v128.load(q), s));
    a1 = f32x4.add(a1, f32x4.sub(v128.load(q, 16), s));
    a2 = f32x4.add(a2, f32x4.sub(v128.load(q, 32), s));
    a3 = f32x4.add(a3, f32x4.sub(v128.load(q, 48), s));
  }
  for (; c < cols; c += 4) a0 = f32x4.add(a0, keepLanes(f32x4.sub(load4(at(p, c), cols - c), s), cols - c));
  return lanes64(accumulate64(accumulate64(f64x2.splat(0), f32x4.add(a0, a1)), f32x4.add(a2, a3)));
}

/** Σ ((p[c] − hi) − lo)² over the row, four independent float32 chains. */
function rowSumSquares(p: usize, cols: i32, hi: v128, lo: v128): f64 {
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const q = at(p, c);
    const d0 = f32x4.sub(f32x4.sub(v128.load(q), hi), lo);
    const d1 = f32x4.sub(f32x4.sub(v128.load(q, 16), hi), lo);
    const d2 = f32x4.sub(f32x4.sub(v128.load(q, 32), hi), lo);
    const d3 = f32x4.sub(f32x4.sub(v128.load(q, 48), hi), lo);
    a0 = fma(d0, d0, a0);
    a1 = fma(d1, d1, a1);
    a2 = fma(d2, d2, a2);
    a3 = fma(d3, d3, a3);
  }
  for (; c < cols; c += 4) {
    const d = keepLanes(f32x4.sub(f32x4.sub(load4(at(p, c), cols - c), hi), lo), cols - c);
    a0 = fma(d, d, a0);
  }
  return lanes64(accumulate64(accumulate64(f64x2.splat(0), f32x4.add(a0, a1)), f32x4.add(a2, a3)));
}

/**
 * y = norm(x)·γ + β per row of `cols`; writes μ (0 for RMSNorm) and rstd per row.
 * beta = 0 when there is none; rms = 1 for RMSNorm. The mean is summed from
 * x − x[0], so rows far from zero keep their precision in float32.
 */
export function norm(
  x: usize, gamma: usize, beta: usize, out: usize, mean: usize, rstd: usize,
  rows: i32, cols: i32, eps: f64, rms: i32, tid: i32, nthreads: i32,
): void {
  const end = shareStart(rows, tid + 1, nthreads);
  for (let r = shareStart(rows, tid, nthreads); r < end; r++) {
    const row = at(x, r * cols);
    const y = at(out, r * cols);
    let mu: f64 = 0;
    if (!rms) {
      const x0 = load<f32>(row);
      mu = <f64>x0 + rowSumShifted(row, cols, x0) / <f64>cols;
    }
    // μ as hi + lo floats: x − hi is exact near μ, so x − μ keeps its bits
    const muHi = <f32>mu;
    const vHi = f32x4.splat(muHi);
    const vLo = f32x4.splat(<f32>(mu - <f64>muHi));
    const rs = 1 / Math.sqrt(rowSumSquares(row, cols, vHi, vLo) / <f64>cols + eps);
    store<f32>(at(mean, r), muHi);
    store<f32>(at(rstd, r), <f32>rs);
    const vrs = f32x4.splat(<f32>rs);
    let c = 0;
    for (; c + 8 <= cols; c += 8) {
      const q = at(row, c);
      const xhat0 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(q), vHi), vLo), vrs);
      const xhat1 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(q, 16), vHi), vLo), vrs);
      const b0 = beta ? v128.load(at(beta, c)) : f32x4.splat(0);
      const b1 = beta ? v128.load(at(beta, c), 16) : f32x4.splat(0);
      v128.store(at(y, c), fma(xhat0, v128.load(at(gamma, c)), b0));
      v128.store(at(y, c), fma(xhat1, v128.load(at(gamma, c), 16), b1), 16);
    }
    for (; c < cols; c += 4) {
      const count = cols - c;
      const xhat = f32x4.mul(f32x4.sub(f32x4.sub(load4(at(row, c), count), vHi), vLo), vrs);
      const b = beta ? load4(at(beta, c), count) : f32x4.splat(0);
      store4(at(y, c), fma(xhat, load4(at(gamma, c), count), b), count);
    }
  }
}

/** Rows summed into the float32 partials before they are added to the float64 ones. */
const FLUSH_ROWS = 32;

// @ts-ignore: decorator
@inline function groups(cols: i32): usize {
  return <usize>((cols + 3) >> 2);
}

/**
 * Bytes of partial dγ, dβ one thread of normGrad uses: per 4 columns, a
 * 64-byte float64 group (4 dγ, 4 dβ) that the reduction reads, then a
 * 32-byte float32 group (4 dγ, 4 dβ) that collects up to FLUSH_ROWS rows.
 */
export function normPartialBytes(cols: i32): i32 {
  return <i32>(groups(cols) * 96 + 63) & ~63;
}

/** Adds the float32 partials into the float64 ones and clears them. */
function flushPartials(part: usize, cols: i32): void {
  const part32 = part + groups(cols) * 64;
  for (let gI: usize = 0; gI < groups(cols); gI++) {
    const q = part + (gI << 6);
    const q32 = part32 + (gI << 5);
    const g = v128.load(q32);
    const b = v128.load(q32, 16);
    v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(g)));
    v128.store(q, f64x2.add(v128.load(q, 16), promoteHigh(g)), 16);
    v128.store(q, f64x2.add(v128.load(q, 32), f64x2.promote_low_f32x4(b)), 32);
    v128.store(q, f64x2.add(v128.load(q, 48), promoteHigh(b)), 48);
    v128.store(q32, f32x4.splat(0));
    v128.store(q32, f32x4.splat(0), 16);
  }
}

/**
 * dx for this thread's rows, and its partial dγ, dβ in
 * partials + tid·normPartialBytes(cols) (summed by normGradReduce).
 */
export function normGrad(
  x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize, dx: usize, partials: usize,
  rows: i32, cols: i32, rms: i32, tid: i32, nthreads: i32,
): void {
  const part = partials + <usize>(tid * normPartialBytes(cols));
  const part32 = part + groups(cols) * 64;
  memory.fill(part, 0, <usize>normPartialBytes(cols));
  const start = shareStart(rows, tid, nthreads);
  const end = shareStart(rows, tid + 1, nthreads);
  for (let r = start; r < end; r++) {
    const xr = at(x, r * cols);
    const dyr = at(dy, r * cols);
    const dxr = at(dx, r * cols);
    const mu = f32x4.splat(load<f32>(at(mean, r)));
    const rs = f32x4.splat(load<f32>(at(rstd, r)));
    // Σ dx̂ and Σ dx̂∘x̂ (float32 chains), and dγ += dy∘x̂, dβ += dy into the float32 partials
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let t0 = s0;
    let t1 = s0;
    let c = 0;
    for (; c + 8 <= cols; c += 8) {
      const g0 = v128.load(at(dyr, c));
      const g1 = v128.load(at(dyr, c), 16);
      const xhat0 = f32x4.mul(f32x4.sub(v128.load(at(xr, c)), mu), rs);
      const xhat1 = f32x4.mul(f32x4.sub(v128.load(at(xr, c), 16), mu), rs);
      const dxhat0 = f32x4.mul(g0, v128.load(at(gamma, c)));
      const dxhat1 = f32x4.mul(g1, v128.load(at(gamma, c), 16));
      s0 = f32x4.add(s0, dxhat0);
      s1 = f32x4.add(s1, dxhat1);
      t0 = fma(dxhat0, xhat0, t0);
      t1 = fma(dxhat1, xhat1, t1);
      const q = part32 + (<usize>c << 3);
      v128.store(q, fma(g0, xhat0, v128.load(q)));
      v128.store(q, f32x4.add(v128.load(q, 16), g0), 16);
      v128.store(q, fma(g1, xhat1, v128.load(q, 32)), 32);
      v128.store(q, f32x4.add(v128.load(q, 48), g1), 48);
    }
    for (; c < cols; c += 4) {
      const count = cols - c;
      const g = keepLanes(load4(at(dyr, c), count), count);
      const xhat = f32x4.mul(f32x4.sub(load4(at(xr, c), count), mu), rs);
      const dxhat = f32x4.mul(g, load4(at(gamma, c), count));
      s0 = f32x4.add(s0, dxhat);
      t0 = fma(dxhat, xhat, t0);
      const q = part32 + (<usize>c << 3);
      v128.store(q, fma(g, xhat, v128.load(q)));
      v128.store(q, f32x4.add(v128.load(q, 16), g), 16);
    }
    const m1 = f32x4.splat(rms ? 0 : <f32>(lanes64(accumulate64(f64x2.splat(0), f32x4.add(s0, s1))) / <f64>cols));
    const m2 = f32x4.splat(<f32>(lanes64(accumulate64(f64x2.splat(0), f32x4.add(t0, t1))) / <f64>cols));
    c = 0;
    for (; c + 8 <= cols; c += 8) {
      const xhat0 = f32x4.mul(f32x4.sub(v128.load(at(xr, c)), mu), rs);
      const xhat1 = f32x4.mul(f32x4.sub(v128.load(at(xr, c), 16), mu), rs);
      const dxhat0 = f32x4.mul(v128.load(at(dyr, c)), v128.load(at(gamma, c)));
      const dxhat1 = f32x4.mul(v128.load(at(dyr, c), 16), v128.load(at(gamma, c), 16));
      v128.store(at(dxr, c), f32x4.mul(rs, f32x4.sub(f32x4.sub(dxhat0, m1), f32x4.mul(xhat0, m2))));
      v128.store(at(dxr, c), f32x4.mul(rs, f32x4.sub(f32x4.sub(dxhat1, m1), f32x4.mul(xhat1, m2))), 16);
    }
    for (; c < cols; c += 4) {
      const count = cols - c;
      const xhat = f32x4.mul(f32x4.sub(load4(at(xr, c), count), mu), rs);
      const dxhat = f32x4.mul(load4(at(dyr, c), count), load4(at(gamma, c), count));
      store4(at(dxr, c), f32x4.mul(rs, f32x4.sub(f32x4.sub(dxhat, m1), f32x4.mul(xhat, m2))), count);
    }
    if ((r - start) % FLUSH_ROWS == FLUSH_ROWS - 1 || r == end - 1) flushPartials(part, cols);
  }
}

/** dγ[c] = Σ_t partial dγ of thread t (and dβ when hasBeta) over the first `parts` threads' partials. */
export function normGradReduce(
  partials: usize, dgamma: usize, dbeta: usize, cols: i32, parts: i32, hasBeta: i32, tid: i32, nthreads: i32,
): void {
  const first = elementShare(cols, tid, nthreads);
  const end = elementShare(cols, tid + 1, nthreads);
  const stride = <usize>normPartialBytes(cols);
  for (let c = first; c < end; c++) {
    // column c sits in the 64-byte group c/4: dγ at lane c%4, dβ 32 bytes on
    const offset = (<usize>(c >> 2) << 6) + (<usize>(c & 3) << 3);
    let g: f64 = 0;
    let b: f64 = 0;
    for (let t = 0; t < parts; t++) {
      const p = partials + <usize>t * stride + offset;
      g += load<f64>(p);
      b += load<f64>(p, 32);
    }
    store<f32>(at(dgamma, c), <f32>g);
    if (hasBeta) store<f32>(at(dbeta, c), <f32>b);
  }
}
