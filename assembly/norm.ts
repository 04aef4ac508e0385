// LayerNorm and RMSNorm over the last dimension, forward and backward
// (reference: src/backend/js/norm.ts).
//   forward   x̂ = (x − μ)·rstd,  y = x̂·γ + β        (RMSNorm: μ = 0, no β)
//   backward  dβ = Σ_rows dy,  dγ = Σ_rows dy∘x̂,  dx̂ = dy∘γ,
//             dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂∘x̂))   (RMSNorm: no mean(dx̂))
// Row sums accumulate in float64, so a row with a large offset keeps its
// mean exactly; μ is then applied as two floats (hi + lo).
//
// Threads split the rows. dγ and dβ sum over rows, so each thread adds
// its rows into its own float64 partial row in scratch, and normGradReduce
// then sums the partials with threads splitting the columns.
import { at, elementShare, loadN, storeN } from './lanes';
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

/** Zero lanes past `count`, so a partial vector adds nothing to a sum. */
// @ts-ignore: decorator
@inline function keepLanes(v: v128, count: i32): v128 {
  return count >= 4 ? v : v128.and(v, i32x4.gt_s(i32x4.splat(count), i32x4(0, 1, 2, 3)));
}

/**
 * y = norm(x)·γ + β per row of `cols`; writes μ (0 for RMSNorm) and rstd per row.
 * beta = 0 when there is none; rms = 1 for RMSNorm.
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
      let acc = f64x2.splat(0);
      for (let c = 0; c < cols; c += 4) acc = accumulate64(acc, load4(at(row, c), cols - c));
      mu = lanes64(acc) / cols;
    }
    const muHi = <f32>mu;
    const vHi = f32x4.splat(muHi);
    const vLo = f32x4.splat(<f32>(mu - <f64>muHi));
    let sq = f64x2.splat(0);
    for (let c = 0; c < cols; c += 4) {
      const d = keepLanes(f32x4.sub(f32x4.sub(load4(at(row, c), cols - c), vHi), vLo), cols - c);
      sq = accumulate64(sq, f32x4.mul(d, d));
    }
    const rs = 1 / Math.sqrt(lanes64(sq) / cols + eps);
    store<f32>(at(mean, r), muHi);
    store<f32>(at(rstd, r), <f32>rs);
    const vrs = f32x4.splat(<f32>rs);
    for (let c = 0; c < cols; c += 4) {
      const count = cols - c;
      const xhat = f32x4.mul(f32x4.sub(f32x4.sub(load4(at(row, c), count), vHi), vLo), vrs);
      const b = beta ? load4(at(beta, c), count) : f32x4.splat(0);
      store4(at(y, c), fma(xhat, load4(at(gamma, c), count), b), count);
    }
  }
}

/** Bytes of the float64 partial dγ and dβ rows one thread of normGrad uses. */
export function normPartialBytes(cols: i32): i32 {
  return ((cols * 8 + 63) & ~63) * 2;
}

/**
 * dx for this thread's rows, and its partial dγ, dβ in
 * partials + tid·normPartialBytes(cols) (float64; dβ only when hasBeta).
 */
export function normGrad(
  x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize, dx: usize, partials: usize,
  rows: i32, cols: i32, rms: i32, hasBeta: i32, tid: i32, nthreads: i32,
): void {
  const pg = partials + <usize>(tid * normPartialBytes(cols));
  const pb = pg + <usize>(normPartialBytes(cols) >> 1);
  memory.fill(pg, 0, <usize>normPartialBytes(cols));
  const end = shareStart(rows, tid + 1, nthreads);
  for (let r = shareStart(rows, tid, nthreads); r < end; r++) {
    const xr = at(x, r * cols);
    const dyr = at(dy, r * cols);
    const dxr = at(dx, r * cols);
    const mu = f32x4.splat(load<f32>(at(mean, r)));
    const rsScalar = load<f32>(at(rstd, r));
    const rs = f32x4.splat(rsScalar);
    let sumDxhat = f64x2.splat(0);
    let sumDxhatXhat = f64x2.splat(0);
    for (let c = 0; c < cols; c += 4) {
      const count = cols - c;
      const g = load4(at(dyr, c), count);
      const xhat = f32x4.mul(f32x4.sub(load4(at(xr, c), count), mu), rs);
      const dxhat = keepLanes(f32x4.mul(g, load4(at(gamma, c), count)), count);
      sumDxhat = accumulate64(sumDxhat, dxhat);
      sumDxhatXhat = accumulate64(sumDxhatXhat, f32x4.mul(dxhat, xhat));
      // partial dγ += dy∘x̂, dβ += dy (lanes past cols add zeros into padding)
      const gx = keepLanes(f32x4.mul(g, xhat), count);
      const o = <usize>c << 3;
      v128.store(pg + o, f64x2.add(v128.load(pg + o), f64x2.promote_low_f32x4(gx)));
      v128.store(pg + o, f64x2.add(v128.load(pg + o, 16), promoteHigh(gx)), 16);
      if (hasBeta) {
        const gb = keepLanes(g, count);
        v128.store(pb + o, f64x2.add(v128.load(pb + o), f64x2.promote_low_f32x4(gb)));
        v128.store(pb + o, f64x2.add(v128.load(pb + o, 16), promoteHigh(gb)), 16);
      }
    }
    const m1 = f32x4.splat(rms ? 0 : <f32>(lanes64(sumDxhat) / cols));
    const m2 = f32x4.splat(<f32>(lanes64(sumDxhatXhat) / cols));
    for (let c = 0; c < cols; c += 4) {
      const count = cols - c;
      const xhat = f32x4.mul(f32x4.sub(load4(at(xr, c), count), mu), rs);
      const dxhat = f32x4.mul(load4(at(dyr, c), count), load4(at(gamma, c), count));
      store4(at(dxr, c), f32x4.mul(rs, f32x4.sub(f32x4.sub(dxhat, m1), f32x4.mul(xhat, m2))), count);
    }
  }
}

/** dγ[c] = Σ_t partial dγ of thread t (and dβ when hasBeta) for the first `parts` threads' partials. */
export function normGradReduce(
  partials: usize, dgamma: usize, dbeta: usize, cols: i32, parts: i32, hasBeta: i32, tid: i32, nthreads: i32,
): void {
  const start = elementShare(cols, tid, nthreads);
  const end = elementShare(cols, tid + 1, nthreads);
  const stride = <usize>normPartialBytes(cols);
  const half = stride >> 1;
  for (let c = start; c < end; c++) {
    let g: f64 = 0;
    let b: f64 = 0;
    for (let t = 0; t < parts; t++) {
      const p = partials + <usize>t * stride + (<usize>c << 3);
      g += load<f64>(p);
      b += load<f64>(p + half);
    }
    store<f32>(at(dgamma, c), <f32>g);
    if (hasBeta) store<f32>(at(dbeta, c), <f32>b);
  }
}
