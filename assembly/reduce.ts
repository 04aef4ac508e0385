// Sum and max over the middle axis of x viewed as [outer, axisSize, inner]
// (reference: src/backend/js/reduce.ts). Sums accumulate in float64 like
// the reference, so a gradient summed over a broadcast loses nothing.
//
// inner == 1: each output is a contiguous row, vectorised along it; threads
// split the rows. inner > 1: vectorised over inner, walking the axis with
// stride inner; threads split (outer × 16-column blocks).
import { at } from './lanes';
import { promoteHigh, rowMax, rowSum64 } from './rows';
import { shareStart } from './simd';

const SUM = 0;

/** Sums `width` (≤ 16) columns starting at x over `axis` rows of stride `inner` into out. */
function columnSums(x: usize, out: usize, axis: i32, inner: i32, width: i32): void {
  const stride = <usize>inner << 2;
  let c = 0;
  for (; c + 8 <= width; c += 8) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    let p = at(x, c);
    for (let k = 0; k < axis; k++, p += stride) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
      a1 = f64x2.add(a1, promoteHigh(v0));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
      a3 = f64x2.add(a3, promoteHigh(v1));
    }
    const o = at(out, c);
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5), 16);
  }
  for (; c + 4 <= width; c += 4) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let p = at(x, c);
    for (let k = 0; k < axis; k++, p += stride) {
      const v = v128.load(p);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, promoteHigh(v));
    }
    v128.store(at(out, c), v128.shuffle<f32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
  }
  for (; c < width; c++) {
    let s: f64 = 0;
    let p = at(x, c);
    for (let k = 0; k < axis; k++, p += stride) s += <f64>load<f32>(p);
    store<f32>(at(out, c), <f32>s);
  }
}

/** Maxima of `width` (≤ 16) columns starting at x over `axis` rows of stride `inner`. */
function columnMaxes(x: usize, out: usize, axis: i32, inner: i32, width: i32): void {
  const stride = <usize>inner << 2;
  let c = 0;
  for (; c + 4 <= width; c += 4) {
    let m = f32x4.splat(-Infinity);
    let nan = f32x4.splat(0);
    let p = at(x, c);
    for (let k = 0; k < axis; k++, p += stride) {
      const v = v128.load(p);
      m = f32x4.pmax(m, v);
      nan = v128.or(nan, f32x4.ne(v, v));
    }
    v128.store(at(out, c), v128.bitselect(f32x4.splat(NaN), m, nan));
  }
  for (; c < width; c++) {
    let m: f32 = -Infinity;
    let p = at(x, c);
    for (let k = 0; k < axis; k++, p += stride) {
      const v = load<f32>(p);
      if (v > m || v != v) m = v;
    }
    store<f32>(at(out, c), m);
  }
}

/** out[o, i] = Σ_k or max_k x[o, k, i]; op 0 = sum, 1 = max. */
export function reduce(op: i32, x: usize, out: usize, outer: i32, axis: i32, inner: i32, tid: i32, nthreads: i32): void {
  if (inner == 1) {
    const end = shareStart(outer, tid + 1, nthreads);
    for (let o = shareStart(outer, tid, nthreads); o < end; o++) {
      const row = at(x, o * axis);
      store<f32>(at(out, o), op == SUM ? <f32>rowSum64(row, axis) : rowMax(row, axis));
    }
    return;
  }
  const blocks = (inner + 15) >> 4;
  const end = shareStart(outer * blocks, tid + 1, nthreads);
  for (let item = shareStart(outer * blocks, tid, nthreads); item < end; item++) {
    const o = item / blocks;
    const c0 = (item - o * blocks) << 4;
    const width = min(16, inner - c0);
    const src = at(x, o * axis * inner + c0);
    const dst = at(out, o * inner + c0);
    if (op == SUM) columnSums(src, dst, axis, inner, width);
    else columnMaxes(src, dst, axis, inner, width);
  }
}
