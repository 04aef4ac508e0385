// Elementwise math and activations: one kernel (unary) with its derivative
// kernel (unaryGrad), so every function here has the same two-line backward.

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import type { UnaryOp } from '../backend/kernels.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions } from './checks.js';

export function unaryOp(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  checkInputs(op, { x });
  const y = Tensor.empty(x.shape, x.dtype);
  const p = { op, alpha };
  kernelFor('unary', [x])(x, y, p);
  return record(op, [x], y, (dy) => {
    const dx = Tensor.empty(x.shape, x.dtype);
    kernelFor('unaryGrad', [x, dy])(x, y, dy, dx, p);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const square = (x: Tensor): Tensor => unaryOp('square', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** GELU with the exact erf form (PyTorch's default); `approximate: 'tanh'` gives the tanh form. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  checkOptions('gelu', options, ['approximate']);
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh')
    throw new Error(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}
export const silu = (x: Tensor): Tensor => unaryOp('silu', x);

export const addScalar = (x: Tensor, c: number): Tensor => unaryOp('addScalar', x, c);
export const mulScalar = (x: Tensor, c: number): Tensor => unaryOp('mulScalar', x, c);
export const powScalar = (x: Tensor, c: number): Tensor => unaryOp('powScalar', x, c);
/** c − x */
export const rsubScalar = (x: Tensor, c: number): Tensor => unaryOp('rsubScalar', x, c);
/** c / x */
export const rdivScalar = (x: Tensor, c: number): Tensor => unaryOp('rdivScalar', x, c);
