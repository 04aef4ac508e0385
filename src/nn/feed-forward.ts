// The position-wise feed-forward block of a transformer:
//   gelu:   y = W₂·dropout(gelu(W₁x + b₁)) + b₂
//   swiglu: y = W_down·dropout(silu(W_gate·x) ∘ W_up·x)   (Shazeer 2020; Llama)

import { mul } from '../ops/binary.js';
import { gelu, relu, silu } from '../ops/unary.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { type InitOptions, Module, seedSequence } from './module.js';

export type FeedForwardActivation = 'gelu' | 'relu' | 'swiglu';

export interface FeedForwardConfig {
  dim: number;
  /** Hidden width (default 4·dim; for swiglu, commonly 8/3·dim). */
  hiddenDim?: number;
  activation?: FeedForwardActivation;
  /** Biases on the projections (default true; swiglu layers usually go without). */
  bias?: boolean;
  /** Dropout on the hidden activations (default 0). */
  dropout?: number;
}

export class FeedForward extends Module {
  readonly activation: FeedForwardActivation;
  readonly hiddenDim: number;
  /** gelu/relu: fc1; swiglu: gate. */
  private readonly inProjection: Linear;
  private readonly upProjection: Linear | null;
  private readonly outProjection: Linear;
  private readonly dropout: Dropout;

  constructor(config: FeedForwardConfig, options: InitOptions = {}) {
    super();
    const { dim } = config;
    this.activation = config.activation ?? 'gelu';
    if (!['gelu', 'relu', 'swiglu'].includes(this.activation)) {
      throw new Error(`FeedForward: activation must be 'gelu', 'relu' or 'swiglu', got '${this.activation}'`);
    }
    this.hiddenDim = config.hiddenDim ?? 4 * dim;
    const nextSeed = seedSequence(options.seed);
    const linear = (i: number, o: number) => new Linear(i, o, { bias: config.bias ?? true, seed: nextSeed(), dtype: options.dtype });
    if (this.activation === 'swiglu') {
      this.inProjection = this.registerModule('gate', linear(dim, this.hiddenDim));
      this.upProjection = this.registerModule('up', linear(dim, this.hiddenDim));
      this.outProjection = this.registerModule('down', linear(this.hiddenDim, dim));
    } else {
      this.inProjection = this.registerModule('fc1', linear(dim, this.hiddenDim));
      this.upProjection = null;
      this.outProjection = this.registerModule('fc2', linear(this.hiddenDim, dim));
    }
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout ?? 0));
  }

  /** x [..., dim] → [..., dim]. */
  forward(x: Tensor): Tensor {
    const h = this.inProjection.forward(x);
    let a: Tensor;
    if (this.upProjection) a = mul(silu(h), this.upProjection.forward(x));
    else a = this.activation === 'gelu' ? gelu(h) : relu(h);
    return this.outProjection.forward(this.dropout.forward(a));
  }
}
