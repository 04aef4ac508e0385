// softmax and logSoftmax along one axis (max-subtracted, so large logits stay finite).
//   backward: softmax     dx = y∘(dy − Σ dy∘y)
//             logSoftmax  dx = dy − softmax(x)·Σ dy

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { normalizeAxis, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs } from './checks.js';

function softmaxOp(name: string, x: Tensor, axis: number, log: boolean): Tensor {
  checkInputs(name, { x });
  const a = normalizeAxis(axis, x.rank, name);
  const p = { outer: sizeOf(x.shape.slice(0, a)), axisSize: x.shape[a] ?? 1, inner: sizeOf(x.shape.slice(a + 1)), log };
  const y = Tensor.empty(x.shape, x.dtype);
  kernelFor('softmax', [x])(x, y, p);
  return record(name, [x], y, (dy) => {
    const dx = Tensor.empty(x.shape, x.dtype);
    kernelFor('softmaxGrad', [y, dy])(y, dy, dx, p);
    return [dx];
  });
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp('softmax', x, axis, false);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp('logSoftmax', x, axis, true);
}
