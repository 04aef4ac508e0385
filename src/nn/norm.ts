// Normalisation layers over the last dimension: LayerNorm (γ, β) and RMSNorm (γ).

import { layerNorm, rmsNorm } from '../ops/norm.js';
import { ones, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type InitOptions, Module } from './module.js';

export interface NormOptions extends InitOptions {
  eps?: number;
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: NormOptions = {},
  ) {
    super();
    checkDim('LayerNorm', dim);
    this.eps = options.eps ?? 1e-5;
    this.weight = this.registerParameter('weight', ones([dim], options.dtype), 'norm');
    this.bias = this.registerParameter('bias', zeros([dim], options.dtype), 'norm');
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, { eps: this.eps });
  }
}

export class RMSNorm extends Module {
  readonly weight: Tensor;
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: NormOptions = {},
  ) {
    super();
    checkDim('RMSNorm', dim);
    this.eps = options.eps ?? 1e-6;
    this.weight = this.registerParameter('weight', ones([dim], options.dtype), 'norm');
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, { eps: this.eps });
  }
}

export type NormKind = 'layer' | 'rms';

/** The norm layer a config names. */
export function createNorm(kind: NormKind, dim: number, options: NormOptions = {}): LayerNorm | RMSNorm {
  if (kind === 'layer') return new LayerNorm(dim, options);
  if (kind === 'rms') return new RMSNorm(dim, options);
  throw new Error(`norm: expected 'layer' or 'rms', got '${kind}'`);
}

function checkDim(layer: string, dim: number): void {
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${layer}: dim must be a positive integer, got ${dim}`);
}
