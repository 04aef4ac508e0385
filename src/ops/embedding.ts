// Embedding lookup: out[..., :] = weight[indices[...], :].
//   backward: dweight[indices[i]] += dout[i]  (rows hit twice accumulate)

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs } from './checks.js';

export function embedding(weight: Tensor, indices: Tensor): Tensor {
  checkInputs('embedding', { weight });
  checkInputs('embedding', { indices }, ['int32']);
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [vocab, dim], got ${formatShape(weight.shape)}`);
  const [vocab, dim] = weight.shape;
  const idx = indices.view();
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= vocab) {
      throw new Error(`embedding: index ${idx[i]} at position ${i} is out of range for a vocabulary of ${vocab}`);
    }
  }
  const out = Tensor.empty([...indices.shape, dim], weight.dtype);
  kernelFor('embedding', [weight])(weight, indices, out);
  return record(
    'embedding',
    [weight],
    out,
    (dy) => {
      const dw = Tensor.empty(weight.shape, weight.dtype);
      dw.view().fill(0);
      kernelFor('embeddingGrad', [dy, dw])(indices, dy, dw);
      return [dw];
    },
    [indices],
  );
}
