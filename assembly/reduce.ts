// Sum and max over the middle axis of x viewed as [outer, axisSize, inner]
// (reference: src/backend/js/reduce.ts). Sums accumulate in float64 like
// the reference, so a gradient summed over a broadcast loses nothing.
//
// inner == 1: each output is a contiguous row, vectorised along it; threads
// split the rows. inner > 1: rows are streamed into per-column running
// values (assembly/columns.ts); threads split (outer × column chunks).
import { chunkWidth, columnMaxes, columnScratchBytes, columnSums64 } from './columns';
import { at } from './lanes';
import { demote4, rowMax, rowSum64 } from './rows';
import { shareStart } from './simd';

export { columnScratchBytes } from './columns';

const SUM = 0;

/**
 * out[o, i] = Σ_k or max_k x[o, k, i]; op 0 = sum, 1 = max. scratch: a
 * block of columnScratchBytes() per thread (used when inner > 1).
 */
export function reduce(
  op: i32, x: usize, out: usize, outer: i32, axis: i32, inner: i32, scratch: usize, tid: i32, nthreads: i32,
): void {
  if (inner == 1) {
    const end = shareStart(outer, tid + 1, nthreads);
    for (let o = shareStart(outer, tid, nthreads); o < end; o++) {
      const row = at(x, o * axis);
      store<f32>(at(out, o), op == SUM ? <f32>rowSum64(row, axis) : rowMax(row, axis));
    }
    return;
  }
  const width = chunkWidth(inner, nthreads);
  const chunks = (inner + width - 1) / width;
  const sums = scratch + <usize>(tid * columnScratchBytes());
  const end = shareStart(outer * chunks, tid + 1, nthreads);
  for (let item = shareStart(outer * chunks, tid, nthreads); item < end; item++) {
    const o = item / chunks;
    const c0 = (item - o * chunks) * width;
    const w = min(width, inner - c0);
    const src = at(x, o * axis * inner + c0);
    const dst = at(out, o * inner + c0);
    if (op != SUM) {
      columnMaxes(src, inner, axis, w, dst);
      continue;
    }
    columnSums64(src, inner, axis, w, sums);
    let c = 0;
    for (; c + 4 <= w; c += 4) {
      const q = sums + (<usize>c << 3);
      v128.store(at(dst, c), demote4(v128.load(q), v128.load(q, 16)));
    }
    for (; c < w; c++) store<f32>(at(dst, c), <f32>load<f64>(sums + (<usize>c << 3)));
  }
}
