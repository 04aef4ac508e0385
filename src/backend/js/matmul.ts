import type { Tensor } from '../../tensor/tensor.js';
import type { MatmulParams } from '../kernels.js';

/** The reference: a plain triple loop per batch matrix, accumulating in the element type. */
export function matmul(a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void {
  const A = a.view();
  const B = b.view();
  const C = out.view();
  const { M, N, K } = p;
  for (let batch = 0; batch < p.batch; batch++) {
    const aOff = batch * p.batchStrideA;
    const bOff = batch * p.batchStrideB;
    const cOff = batch * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = A[aOff + (p.transA ? k * M + i : i * K + k)] as number;
          const bv = B[bOff + (p.transB ? j * K + k : k * N + j)] as number;
          s += av * bv;
        }
        C[cOff + i * N + j] = p.accumulate ? (C[cOff + i * N + j] as number) + s : s;
      }
    }
  }
}
