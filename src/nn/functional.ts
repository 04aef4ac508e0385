// Fused building blocks for the layers (differentiable, js reference and wasm alike).
//
//   linear:   Y = X·Wᵀ + b in one GEMM: Y is first filled with b (a broadcast
//             copy) and the GEMM accumulates onto it, so the bias costs no
//             extra pass over Y and no second tensor.
//   backward: dX = dY·W,  dW = dYᵀ·X,  db = Σ_rows dY  (dX skipped when X needs no gradient)

import { needsGrad, record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** x [M, K], weight [N, K], bias [N] or null → [M, N]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [M, K] = x.shape as [number, number];
  const [N, K2] = weight.shape as [number, number];
  if (x.rank !== 2 || weight.rank !== 2 || K !== K2 || (bias && (bias.rank !== 1 || bias.shape[0] !== N))) {
    throw new Error(
      `linear: expected x [M, K], weight [N, K], bias [N]; got x ${formatShape(x.shape)}, weight ${formatShape(weight.shape)}${bias ? `, bias ${formatShape(bias.shape)}` : ''}`,
    );
  }
  if (x.dtype !== weight.dtype || (bias && bias.dtype !== weight.dtype)) {
    throw new Error(`linear: x is ${x.dtype}, weight ${weight.dtype}${bias ? `, bias ${bias.dtype}` : ''}; they must match`);
  }
  const out = Tensor.empty([M, N], x.dtype);
  if (bias) kernelFor('copy', [bias])(bias, out, { shape: [M, N], srcStrides: [0, 1], srcOffset: 0, dstStrides: [N, 1], dstOffset: 0 });
  kernelFor('matmul', [x, weight])(x, weight, out, {
    batch: 1,
    M,
    N,
    K,
    batchStrideA: 0,
    batchStrideB: 0,
    transA: false,
    transB: true,
    accumulate: bias !== null,
  });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('linear', inputs, out, (dY) => {
    const dX = needsGrad(x) ? matmul(dY, weight) : null;
    const dW = matmul(dY, x, { transposeA: true });
    return bias ? [dX, dW, sum(dY, 0)] : [dX, dW];
  });
}
