// Transformer blocks (Vaswani et al. 2017) and their stacks.
//   pre-norm (default):  x = x + drop(attn(norm₁(x)));  x = x + drop(ffn(norm₂(x)))
//   post-norm:           x = norm₁(x + drop(attn(x)));  x = norm₂(x + drop(ffn(x)))
// The decoder block adds cross-attention to the encoder memory between the two.

import { noGrad } from '../autograd/tape.js';
import { add } from '../ops/binary.js';
import type { KVCache } from '../ops/kv-cache.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  type AttentionCallOptions,
  type AttentionOutput,
  MultiHeadAttention,
  type MultiHeadAttentionConfig,
  type ProjectedKeyValue,
} from './attention.js';
import { DecoderCache } from './decoder-cache.js';
import { Dropout } from './dropout.js';
import { FeedForward, type FeedForwardActivation } from './feed-forward.js';
import { type InitOptions, Module, ModuleList, seedSequence } from './module.js';
import { createNorm, type LayerNorm, type NormKind, type RMSNorm } from './norm.js';

export interface TransformerLayerConfig {
  dim: number;
  numHeads: number;
  numKvHeads?: number;
  headDim?: number;
  /** Feed-forward hidden width (default 4·dim). */
  ffnDim?: number;
  activation?: FeedForwardActivation;
  /** Dropout on the residual branches and inside the feed-forward block (default 0). */
  dropout?: number;
  /** Dropout on the attention weights (default: dropout). */
  attentionDropout?: number;
  bias?: boolean;
  norm?: NormKind;
  /** Pre-norm (default true) or post-norm (false, the original Transformer). */
  normFirst?: boolean;
  eps?: number;
  /** Self-attention options, as MultiHeadAttention's. */
  causal?: boolean;
  window?: MultiHeadAttentionConfig['window'];
  softcap?: number;
  position?: MultiHeadAttentionConfig['position'];
  maxLength?: number;
  ropeBase?: number;
}

export interface EncoderLayerCallOptions {
  mask?: Tensor;
  keyPaddingMask?: Tensor;
  returnAttention?: boolean;
}

function attentionConfig(c: TransformerLayerConfig, causal: boolean): MultiHeadAttentionConfig {
  return {
    dim: c.dim,
    numHeads: c.numHeads,
    numKvHeads: c.numKvHeads,
    headDim: c.headDim,
    bias: c.bias,
    dropout: c.attentionDropout ?? c.dropout ?? 0,
    causal,
    window: c.window,
    softcap: c.softcap,
    position: c.position,
    maxLength: c.maxLength,
    ropeBase: c.ropeBase,
  };
}

function feedForward(c: TransformerLayerConfig, seed: number, dtype: InitOptions['dtype']): FeedForward {
  const config = { dim: c.dim, hiddenDim: c.ffnDim, activation: c.activation, bias: c.bias, dropout: c.dropout };
  return new FeedForward(config, { seed, dtype });
}

/** A residual sub-block: pre-norm x + drop(f(norm(x))) or post-norm norm(x + drop(f(x))). */
function residual(normFirst: boolean, norm: LayerNorm | RMSNorm, drop: Dropout, x: Tensor, f: (h: Tensor) => Tensor): Tensor {
  return normFirst ? add(x, drop.forward(f(norm.forward(x)))) : norm.forward(add(x, drop.forward(f(x))));
}

export class TransformerEncoderLayer extends Module {
  readonly attention: MultiHeadAttention;
  readonly feedForward: FeedForward;
  readonly normFirst: boolean;
  private readonly norm1: LayerNorm | RMSNorm;
  private readonly norm2: LayerNorm | RMSNorm;
  private readonly dropout: Dropout;

  constructor(
    readonly config: TransformerLayerConfig,
    options: InitOptions = {},
  ) {
    super();
    const nextSeed = seedSequence(options.seed);
    const { dtype } = options;
    this.normFirst = config.normFirst ?? true;
    this.attention = this.registerModule(
      'attention',
      new MultiHeadAttention(attentionConfig(config, config.causal ?? false), { seed: nextSeed(), dtype }),
    );
    this.feedForward = this.registerModule('feedForward', feedForward(config, nextSeed(), dtype));
    this.norm1 = this.registerModule('norm1', createNorm(config.norm ?? 'layer', config.dim, { eps: config.eps, dtype }));
    this.norm2 = this.registerModule('norm2', createNorm(config.norm ?? 'layer', config.dim, { eps: config.eps, dtype }));
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout ?? 0));
  }

  forward(x: Tensor, options?: EncoderLayerCallOptions & { returnAttention?: false }): Tensor;
  forward(x: Tensor, options: EncoderLayerCallOptions & { returnAttention: true }): AttentionOutput;
  forward(x: Tensor, options: EncoderLayerCallOptions = {}): Tensor | AttentionOutput {
    let weights: Tensor | null = null;
    const attend = (h: Tensor): Tensor => {
      const call = { mask: options.mask, keyPaddingMask: options.keyPaddingMask };
      if (!options.returnAttention) return this.attention.forward(h, null, call);
      const r = this.attention.forward(h, null, { ...call, returnWeights: true });
      weights = r.weights;
      return r.output;
    };
    let y = residual(this.normFirst, this.norm1, this.dropout, x, attend);
    y = residual(this.normFirst, this.norm2, this.dropout, y, (h) => this.feedForward.forward(h));
    return weights ? { output: y, weights } : y;
  }
}

export interface DecoderLayerCallOptions {
  /** Extra self-attention mask (the causal one is built in). */
  mask?: Tensor;
  /** bool [B, Nt] over the target keys (with a cache: over all cached positions). */
  keyPaddingMask?: Tensor;
  /** bool [B, Ns] over the memory. */
  memoryPaddingMask?: Tensor;
  /** Decoding: this layer's self-attention cache and its precomputed cross-attention keys/values. */
  cache?: { self: KVCache; cross: ProjectedKeyValue | null };
  returnAttention?: boolean;
}

export interface DecoderLayerAttention {
  output: Tensor;
  selfWeights: Tensor;
  crossWeights: Tensor;
}

export class TransformerDecoderLayer extends Module {
  readonly selfAttention: MultiHeadAttention;
  readonly crossAttention: MultiHeadAttention;
  readonly feedForward: FeedForward;
  readonly normFirst: boolean;
  private readonly norm1: LayerNorm | RMSNorm;
  private readonly norm2: LayerNorm | RMSNorm;
  private readonly norm3: LayerNorm | RMSNorm;
  private readonly dropout: Dropout;

  constructor(
    readonly config: TransformerLayerConfig,
    options: InitOptions = {},
  ) {
    super();
    const nextSeed = seedSequence(options.seed);
    const { dtype } = options;
    this.normFirst = config.normFirst ?? true;
    const self = attentionConfig(config, config.causal ?? true);
    const cross = { ...attentionConfig(config, false), position: 'none' as const, window: undefined };
    this.selfAttention = this.registerModule('selfAttention', new MultiHeadAttention(self, { seed: nextSeed(), dtype }));
    this.crossAttention = this.registerModule('crossAttention', new MultiHeadAttention(cross, { seed: nextSeed(), dtype }));
    this.feedForward = this.registerModule('feedForward', feedForward(config, nextSeed(), dtype));
    const norm = () => createNorm(config.norm ?? 'layer', config.dim, { eps: config.eps, dtype });
    this.norm1 = this.registerModule('norm1', norm());
    this.norm2 = this.registerModule('norm2', norm());
    this.norm3 = this.registerModule('norm3', norm());
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout ?? 0));
  }

  /** x [B, Nt, dim], memory [B, Ns, dim] → [B, Nt, dim]. */
  forward(x: Tensor, memory: Tensor | null, options?: DecoderLayerCallOptions & { returnAttention?: false }): Tensor;
  forward(x: Tensor, memory: Tensor | null, options: DecoderLayerCallOptions & { returnAttention: true }): DecoderLayerAttention;
  forward(x: Tensor, memory: Tensor | null, options: DecoderLayerCallOptions = {}): Tensor | DecoderLayerAttention {
    const cache = options.cache;
    if (cache && !cache.cross) {
      if (!memory) throw new Error('TransformerDecoderLayer: the first cached call needs the memory');
      const { key, value } = noGrad(() => this.crossAttention.projectKeyValue(memory));
      cache.cross = { key: keep(key), value: keep(value) };
    }
    if (!cache && !memory) throw new Error('TransformerDecoderLayer: memory is required without a cache');
    const weights: Tensor[] = [];
    const run = (layer: MultiHeadAttention, h: Tensor, kv: Tensor | null, call: AttentionCallOptions): Tensor => {
      if (!options.returnAttention) return layer.forward(h, kv, { ...call, returnWeights: false });
      const r = layer.forward(h, kv, { ...call, returnWeights: true });
      weights.push(r.weights);
      return r.output;
    };
    let y = residual(this.normFirst, this.norm1, this.dropout, x, (h) =>
      run(this.selfAttention, h, null, { mask: options.mask, keyPaddingMask: options.keyPaddingMask, cache: cache?.self }),
    );
    y = residual(this.normFirst, this.norm2, this.dropout, y, (h) =>
      run(this.crossAttention, h, cache ? null : memory, {
        keyPaddingMask: options.memoryPaddingMask,
        keyValue: cache?.cross ?? undefined,
      }),
    );
    y = residual(this.normFirst, this.norm3, this.dropout, y, (h) => this.feedForward.forward(h));
    return options.returnAttention ? { output: y, selfWeights: weights[0] as Tensor, crossWeights: weights[1] as Tensor } : y;
  }
}

export interface TransformerStackConfig extends TransformerLayerConfig {
  numLayers: number;
}

export interface StackAttention {
  output: Tensor;
  /** Per layer, [B, H, Nq, Nk]. */
  attention: Tensor[];
}

export class TransformerEncoder extends Module {
  readonly layers: ModuleList<TransformerEncoderLayer>;
  /** Final norm of a pre-norm stack (null for post-norm). */
  readonly norm: LayerNorm | RMSNorm | null;

  constructor(
    readonly config: TransformerStackConfig,
    options: InitOptions = {},
  ) {
    super();
    checkLayers('TransformerEncoder', config.numLayers);
    const nextSeed = seedSequence(options.seed);
    const layers = Array.from(
      { length: config.numLayers },
      () => new TransformerEncoderLayer(config, { seed: nextSeed(), dtype: options.dtype }),
    );
    this.layers = this.registerModule('layers', new ModuleList(layers));
    const preNorm = config.normFirst ?? true;
    this.norm = preNorm
      ? this.registerModule('norm', createNorm(config.norm ?? 'layer', config.dim, { eps: config.eps, dtype: options.dtype }))
      : null;
  }

  forward(x: Tensor, options?: EncoderLayerCallOptions & { returnAttention?: false }): Tensor;
  forward(x: Tensor, options: EncoderLayerCallOptions & { returnAttention: true }): StackAttention;
  forward(x: Tensor, options: EncoderLayerCallOptions = {}): Tensor | StackAttention {
    const attention: Tensor[] = [];
    let h = x;
    for (const layer of this.layers) {
      if (options.returnAttention) {
        const r = layer.forward(h, { ...options, returnAttention: true });
        attention.push(r.weights);
        h = r.output;
      } else h = layer.forward(h, { ...options, returnAttention: false });
    }
    if (this.norm) h = this.norm.forward(h);
    return options.returnAttention ? { output: h, attention } : h;
  }
}

export interface DecoderCallOptions extends Omit<DecoderLayerCallOptions, 'cache'> {
  cache?: DecoderCache;
}

export interface DecoderStackAttention {
  output: Tensor;
  selfAttention: Tensor[];
  crossAttention: Tensor[];
}

export class TransformerDecoder extends Module {
  readonly layers: ModuleList<TransformerDecoderLayer>;
  readonly norm: LayerNorm | RMSNorm | null;

  constructor(
    readonly config: TransformerStackConfig,
    options: InitOptions = {},
  ) {
    super();
    checkLayers('TransformerDecoder', config.numLayers);
    const nextSeed = seedSequence(options.seed);
    const layers = Array.from(
      { length: config.numLayers },
      () => new TransformerDecoderLayer(config, { seed: nextSeed(), dtype: options.dtype }),
    );
    this.layers = this.registerModule('layers', new ModuleList(layers));
    const preNorm = config.normFirst ?? true;
    this.norm = preNorm
      ? this.registerModule('norm', createNorm(config.norm ?? 'layer', config.dim, { eps: config.eps, dtype: options.dtype }))
      : null;
  }

  /** An empty cache for decoding `batch` sequences (keys grow from `capacity` rows by doubling). */
  createCache(batch: number, capacity?: number): DecoderCache {
    return new DecoderCache([...this.layers].map((l) => l.selfAttention.createCache(batch, capacity)));
  }

  forward(x: Tensor, memory: Tensor | null, options?: DecoderCallOptions & { returnAttention?: false }): Tensor;
  forward(x: Tensor, memory: Tensor | null, options: DecoderCallOptions & { returnAttention: true }): DecoderStackAttention;
  forward(x: Tensor, memory: Tensor | null, options: DecoderCallOptions = {}): Tensor | DecoderStackAttention {
    const selfAttention: Tensor[] = [];
    const crossAttention: Tensor[] = [];
    let h = x;
    let i = 0;
    for (const layer of this.layers) {
      const cache = options.cache?.layers[i++];
      if (options.returnAttention) {
        const r = layer.forward(h, memory, { ...options, cache, returnAttention: true });
        selfAttention.push(r.selfWeights);
        crossAttention.push(r.crossWeights);
        h = r.output;
      } else h = layer.forward(h, memory, { ...options, cache, returnAttention: false });
    }
    if (this.norm) h = this.norm.forward(h);
    return options.returnAttention ? { output: h, selfAttention, crossAttention } : h;
  }
}

function checkLayers(where: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${where}: numLayers must be a positive integer, got ${n}`);
}
