// Data movement: the strided copy behind permute/slice/pad/concat/expand,
// and embedding lookup with its scatter-add backward (references:
// src/backend/js/copy.ts, embedding.ts). Elements are moved as 32-bit
// words, so float32 and int32 tensors copy alike.
import { at, elementShare } from './lanes';
import { shareStart } from './simd';

/** One run of the copy: n words from src (stride ss) to dst (stride ds). */
function copyRun(src: usize, ss: i32, dst: usize, ds: i32, n: i32): void {
  if (ss == 1 && ds == 1) {
    memory.copy(dst, src, <usize>n << 2);
  } else if (ds == 1) {
    // gather four at a time
    let i = 0;
    const step = <usize>ss << 2;
    let p = src;
    for (; i + 4 <= n; i += 4) {
      let v = v128.load32_zero(p);
      v = v128.load32_lane(p + step, v, 1);
      v = v128.load32_lane(p + 2 * step, v, 2);
      v = v128.load32_lane(p + 3 * step, v, 3);
      v128.store(at(dst, i), v);
      p += 4 * step;
    }
    for (; i < n; i++, p += step) store<u32>(at(dst, i), load<u32>(p));
  } else {
    for (let i = 0; i < n; i++) store<u32>(at(dst, i * ds), load<u32>(at(src, i * ss)));
  }
}

/**
 * A band of a transpose: dst[r·ds4 + c] = src[r + c·ss5] for r < rows, c < cols
 * (src contiguous along r, dst along c), moved as 4×4 blocks: four
 * 16-byte column loads, a register transpose, four 16-byte row stores.
 */
function transposeBand(src: usize, ss5: i32, dst: usize, ds4: i32, rows: i32, cols: i32): void {
  const sStep = <usize>ss5 << 2;
  const dStep = <usize>ds4 << 2;
  const rows4 = rows & ~3;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const s0 = src + <usize>c * sStep;
    const d0 = at(dst, c);
    for (let r = 0; r < rows4; r += 4) {
      const s = at(s0, r);
      const a = v128.load(s);
      const b = v128.load(s + sStep);
      const e = v128.load(s + 2 * sStep);
      const f = v128.load(s + 3 * sStep);
      const ab0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5);
      const ab1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
      const ef0 = v128.shuffle<i32>(e, f, 0, 4, 1, 5);
      const ef1 = v128.shuffle<i32>(e, f, 2, 6, 3, 7);
      const d = d0 + <usize>r * dStep;
      v128.store(d, v128.shuffle<i64>(ab0, ef0, 0, 2));
      v128.store(d + dStep, v128.shuffle<i64>(ab0, ef0, 1, 3));
      v128.store(d + 2 * dStep, v128.shuffle<i64>(ab1, ef1, 0, 2));
      v128.store(d + 3 * dStep, v128.shuffle<i64>(ab1, ef1, 1, 3));
    }
  }
  // leftover columns, then leftover rows
  for (; c < cols; c++) {
    for (let r = 0; r < rows4; r++) store<u32>(at(dst, c) + <usize>r * dStep, load<u32>(at(src, r) + <usize>c * sStep));
  }
  for (let r = rows4; r < rows; r++) copyRun(at(src, r), ss5, dst + <usize>r * dStep, 1, cols);
}

/**
 * out[dst + Σ idx_d·ds_d] = x[src + Σ idx_d·ss_d] over the rank-6 index space
 * n0..n5 (merged and padded by the wrapper; src and dst already include their
 * offsets). Threads split the elements in index order.
 */
export function copy(
  src: usize, dst: usize,
  n0: i32, n1: i32, n2: i32, n3: i32, n4: i32, n5: i32,
  ss0: i32, ss1: i32, ss2: i32, ss3: i32, ss4: i32, ss5: i32,
  ds0: i32, ds1: i32, ds2: i32, ds3: i32, ds4: i32, ds5: i32,
  tid: i32, nthreads: i32,
): void {
  // A transpose of the last two dimensions: threads split the outer rows and
  // 4-row bands of dimension 4 and move 4×4 tiles.
  if (ss4 == 1 && ds5 == 1 && ss5 != 1 && n4 >= 4 && n5 >= 4) {
    const outerCount = n0 * n1 * n2 * n3;
    const bands = (n4 + 31) >> 5;
    const end = shareStart(outerCount * bands, tid + 1, nthreads);
    for (let item = shareStart(outerCount * bands, tid, nthreads); item < end; item++) {
      let q = item / bands;
      const band = item - q * bands;
      const i3 = q % n3; q /= n3;
      const i2 = q % n2; q /= n2;
      const i1 = q % n1; q /= n1;
      const os = q * ss0 + i1 * ss1 + i2 * ss2 + i3 * ss3 + (band << 5);
      const od = q * ds0 + i1 * ds1 + i2 * ds2 + i3 * ds3 + (band << 5) * ds4;
      transposeBand(at(src, os), ss5, at(dst, od), ds4, min(32, n4 - (band << 5)), n5);
    }
    return;
  }
  const total = n0 * n1 * n2 * n3 * n4 * n5;
  const start = elementShare(total, tid, nthreads);
  const end = elementShare(total, tid + 1, nthreads);
  if (start >= end) return;
  let row = start / n5;
  let col = start - row * n5;
  let i4 = row % n4; row /= n4;
  let i3 = row % n3; row /= n3;
  let i2 = row % n2; row /= n2;
  let i1 = row % n1; row /= n1;
  const i0 = row;
  let os = i0 * ss0 + i1 * ss1 + i2 * ss2 + i3 * ss3 + i4 * ss4;
  let od = i0 * ds0 + i1 * ds1 + i2 * ds2 + i3 * ds3 + i4 * ds4;
  let pos = start;
  for (;;) {
    const len = min(n5 - col, end - pos);
    copyRun(at(src, os + col * ss5), ss5, at(dst, od + col * ds5), ds5, len);
    pos += len;
    if (pos >= end) break;
    col = 0;
    os += ss4; od += ds4;
    if (++i4 < n4) continue;
    i4 = 0; os += ss3 - ss4 * n4; od += ds3 - ds4 * n4;
    if (++i3 < n3) continue;
    i3 = 0; os += ss2 - ss3 * n3; od += ds2 - ds3 * n3;
    if (++i2 < n2) continue;
    i2 = 0; os += ss1 - ss2 * n2; od += ds1 - ds2 * n2;
    if (++i1 < n1) continue;
    i1 = 0; os += ss0 - ss1 * n1; od += ds0 - ds1 * n1;
  }
}

/** out[i, :] = weight[indices[i], :] for i < n (indices int32, checked by the op); threads split i. */
export function embedding(weight: usize, indices: usize, out: usize, n: i32, dim: i32, tid: i32, nthreads: i32): void {
  const bytes = <usize>dim << 2;
  const end = shareStart(n, tid + 1, nthreads);
  for (let i = shareStart(n, tid, nthreads); i < end; i++) {
    memory.copy(out + <usize>i * bytes, weight + <usize>load<i32>(at(indices, i)) * bytes, bytes);
  }
}

/**
 * dweight[indices[i], :] += dy[i, :] for i < n, in index order (as the
 * reference). Threads split the columns on 16-float boundaries, so no two
 * write the same element or cache line.
 */
export function embeddingGrad(indices: usize, dy: usize, dweight: usize, n: i32, dim: i32, tid: i32, nthreads: i32): void {
  const c0 = elementShare(dim, tid, nthreads);
  const c1 = elementShare(dim, tid + 1, nthreads);
  if (c0 >= c1) return;
  const bytes = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const g = dy + <usize>i * bytes;
    const w = dweight + <usize>load<i32>(at(indices, i)) * bytes;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      v128.store(w + o, f32x4.add(v128.load(w + o), v128.load(g + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(w + o, load<f32>(w + o) + load<f32>(g + o));
    }
  }
}
