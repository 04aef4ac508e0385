import type { Tensor } from '../../tensor/tensor.js';

export function embedding(weight: Tensor, indices: Tensor, out: Tensor): void {
  const W = weight.view();
  const I = indices.view();
  const Y = out.view();
  const dim = weight.shape[1];
  for (let i = 0; i < I.length; i++) {
    const row = I[i];
    for (let c = 0; c < dim; c++) Y[i * dim + c] = W[row * dim + c];
  }
}

export function embeddingGrad(indices: Tensor, dy: Tensor, dweight: Tensor): void {
  const I = indices.view();
  const DY = dy.view();
  const DW = dweight.view();
  const dim = dweight.shape[1];
  for (let i = 0; i < I.length; i++) {
    const row = I[i];
    for (let c = 0; c < dim; c++) DW[row * dim + c] += DY[i * dim + c];
  }
}
