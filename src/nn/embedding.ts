// Embedding: a lookup table [numEmbeddings, dim] indexed by int32 ids.

import { embedding } from '../ops/embedding.js';
import { randn } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type InitOptions, Module } from './module.js';

export interface EmbeddingOptions extends InitOptions {
  /** Standard deviation of the normal initial values (default 1, PyTorch's). */
  std?: number;
}

export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    for (const [name, n] of [
      ['numEmbeddings', numEmbeddings],
      ['dim', dim],
    ] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`Embedding: ${name} must be a positive integer, got ${n}`);
    }
    const init = randn([numEmbeddings, dim], { seed: options.seed, dtype: options.dtype, std: options.std ?? 1 });
    this.weight = this.registerParameter('weight', init, 'embedding');
  }

  /** ids (int32, any shape) → [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') throw new Error(`Embedding: ids must be int32, got ${ids.dtype}`);
    return embedding(this.weight, ids);
  }
}
