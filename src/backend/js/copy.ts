import type { Tensor } from '../../tensor/tensor.js';
import type { CopyParams } from '../kernels.js';

/** The one strided copy behind permute, slice, pad, concat and broadcast expansion. */
export function copy(x: Tensor, out: Tensor, p: CopyParams): void {
  const X = x.view();
  const Y = out.view();
  const rank = p.shape.length;
  let total = 1;
  for (const d of p.shape) total *= d;
  const idx = new Array<number>(rank).fill(0);
  let src = p.srcOffset;
  let dst = p.dstOffset;
  for (let n = 0; n < total; n++) {
    Y[dst] = X[src];
    for (let d = rank - 1; d >= 0; d--) {
      src += p.srcStrides[d];
      dst += p.dstStrides[d];
      if (++idx[d] < p.shape[d]) break;
      src -= p.srcStrides[d] * p.shape[d];
      dst -= p.dstStrides[d] * p.shape[d];
      idx[d] = 0;
    }
  }
}
