// Dropout with a seed: element i is kept when a hash of (seed, i) clears p
// (src/backend/kernels.ts), so the backward regenerates the same mask
// instead of storing it.  backward: dx = dy·keep/(1−p)

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { rngFor } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions, optionKeys } from './checks.js';

export interface DropoutOptions {
  /** Drop probability in [0, 1). */
  p: number;
  /** Same seed, same mask. Drawn from the global generator when absent. */
  seed?: number;
  /** When false (evaluation), dropout is the identity. */
  training?: boolean;
}

const KEYS = optionKeys<DropoutOptions>({ p: true, seed: true, training: true });

export function dropout(x: Tensor, options: DropoutOptions): Tensor {
  if (options === undefined) throw new Error('dropout: options { p } are required (the drop probability)');
  checkOptions('dropout', options, KEYS);
  checkInputs('dropout', { x });
  const { p } = options;
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (options.training === false || p === 0) return x;
  const params = { p, seed: options.seed ?? rngFor(undefined).nextU32() };
  const y = Tensor.empty(x.shape, x.dtype);
  kernelFor('dropout', [x])(x, y, params);
  return record('dropout', [x], y, (dy) => {
    const dx = Tensor.empty(x.shape, x.dtype);
    kernelFor('dropout', [dy])(dy, dx, params);
    return [dx];
  });
}
