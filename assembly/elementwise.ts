import { shareStart } from './simd';

/** out[i] = a[i] + b[i] for contiguous, same-length f32 arrays. */
export function addSame(a: usize, b: usize, out: usize, n: i32, tid: i32, nthreads: i32): void {
  const start = shareStart(n, tid, nthreads) & ~3;
  const end = tid == nthreads - 1 ? n : shareStart(n, tid + 1, nthreads) & ~3;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}
