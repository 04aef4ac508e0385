// Linear: y = x·Wᵀ + b over the last dimension, W stored [out, in] (PyTorch's layout).

import { reshape } from '../ops/shape.js';
import { rand, zeros } from '../tensor/create.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { linear } from './functional.js';
import { type InitOptions, Module } from './module.js';

export interface LinearOptions extends InitOptions {
  /** Adds a learned bias (default true). */
  bias?: boolean;
  /** Scales the Xavier-uniform initial weights (default 1). */
  gain?: number;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, n] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`Linear: ${name} must be a positive integer, got ${n}`);
    }
    const dtype = options.dtype ?? 'float32';
    // Xavier/Glorot uniform: U(±gain·√(6 / (in + out))).
    const bound = (options.gain ?? 1) * Math.sqrt(6 / (inFeatures + outFeatures));
    const init = rand([outFeatures, inFeatures], { seed: options.seed, dtype, low: -bound, high: bound });
    this.weight = this.registerParameter('weight', init, 'weight');
    this.bias = options.bias === false ? null : this.registerParameter('bias', zeros([outFeatures], dtype), 'bias');
  }

  /** x [..., inFeatures] → [..., outFeatures]. */
  forward(x: Tensor): Tensor {
    const inFeatures = x.shape[x.rank - 1];
    if (x.rank < 1 || inFeatures !== this.inFeatures) {
      throw new Error(`Linear: input must be [..., ${this.inFeatures}], got ${formatShape(x.shape)}`);
    }
    const rows = x.rank === 2 ? x : reshape(x, [-1, this.inFeatures]);
    const y = linear(rows, this.weight, this.bias);
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
  }
}
