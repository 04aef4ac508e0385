// LayerNorm and RMSNorm over the last dimension, with the fused backward
// in the kernels (see src/backend/js/norm.ts for the formulas).

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions } from './checks.js';

function normOp(name: string, x: Tensor, gamma: Tensor, beta: Tensor | null, eps: number): Tensor {
  checkInputs(name, beta ? { x, gamma, beta } : { x, gamma });
  const cols = x.shape[x.rank - 1] ?? 1;
  for (const [label, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== cols)) {
      throw new Error(`${name}: ${label} must have shape [${cols}] to match x ${formatShape(x.shape)}, got ${formatShape(t.shape)}`);
    }
  }
  const p = { rows: x.size / Math.max(cols, 1), cols, eps, rms: beta === null };
  const y = Tensor.empty(x.shape, x.dtype);
  const mean = Tensor.empty([p.rows], x.dtype);
  const rstd = Tensor.empty([p.rows], x.dtype);
  kernelFor('norm', [x, gamma])(x, gamma, beta, y, mean, rstd, p);
  const inputs = beta ? [x, gamma, beta] : [x, gamma];
  return record(
    name,
    inputs,
    y,
    (dy) => {
      const dx = Tensor.empty(x.shape, x.dtype);
      const dgamma = Tensor.empty(gamma.shape, gamma.dtype);
      const dbeta = beta ? Tensor.empty(beta.shape, beta.dtype) : null;
      kernelFor('normGrad', [x, dy])(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, p);
      return dbeta ? [dx, dgamma, dbeta] : [dx, dgamma];
    },
    [mean, rstd],
  );
}

const KEYS = ['eps'];

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, options: { eps?: number } = {}): Tensor {
  checkOptions('layerNorm', options, KEYS);
  return normOp('layerNorm', x, gamma, beta, options.eps ?? 1e-5);
}

export function rmsNorm(x: Tensor, gamma: Tensor, options: { eps?: number } = {}): Tensor {
  checkOptions('rmsNorm', options, KEYS);
  return normOp('rmsNorm', x, gamma, null, options.eps ?? 1e-6);
}
