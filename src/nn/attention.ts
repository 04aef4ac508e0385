// MultiHeadAttention: the layer users tune. Projects queries from x and keys/
// values from x (self-attention) or from a second sequence (cross-attention),
// runs the fused scaledDotProductAttention and projects the heads back.
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0; Hk = H: MHA,
// 1 < Hk < H: grouped-query, Hk = 1: multi-query) · Nq query rows · Nk key rows · D head dim
//
//   q = split(x·W_qᵀ) [B, H, Nq, D],  k, v = split(src·W_kᵀ), split(src·W_vᵀ) [B, Hk, Nk, D]
//   o = merge(attention(q, k, v)) [B, Nq, H·D],  y = o·W_oᵀ [B, Nq, dim]
// Positions: 'rope' rotates q and k, 'alibi' biases the scores, 'sinusoidal'
// and 'learned' add an absolute encoding to the query and key inputs (not to
// the values, as DETR does); models usually add those once to the embeddings instead.

import { noGrad } from '../autograd/tape.js';
import { type AttentionLayout, type AttentionOptions, alibiSlopes, scaledDotProductAttention } from '../ops/attention.js';
import { KVCache } from '../ops/kv-cache.js';
import { applyRotary } from '../ops/rotary.js';
import { permute, reshape, slice } from '../ops/shape.js';
import { tensor } from '../tensor/create.js';
import { keep } from '../tensor/scope.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Linear } from './linear.js';
import { checkKeyPaddingMask, combineMasks } from './masks.js';
import { type InitOptions, Module, seedSequence } from './module.js';
import {
  checkPositionKind,
  createAbsolutePosition,
  type LearnedPositionalEmbedding,
  type PositionKind,
  type SinusoidalPositionalEncoding,
} from './position.js';

export interface MultiHeadAttentionConfig {
  /** Model width: the size of x's last dimension and of the output. */
  dim: number;
  numHeads: number;
  /** Key/value heads (default numHeads): fewer gives GQA, 1 gives MQA. Must divide numHeads. */
  numKvHeads?: number;
  /** Per-head width (default dim / numHeads). */
  headDim?: number;
  /** Width of the key/value source in cross-attention (default dim). */
  kvDim?: number;
  /** Biases on the four projections (default true). */
  bias?: boolean;
  /** Dropout on the attention weights while training (default 0). */
  dropout?: number;
  /** Each query sees only keys at or before its own position (bottom-right aligned). */
  causal?: boolean;
  /** Sliding window [left, right] (or one number for both); −1 = unbounded. */
  window?: number | readonly [number, number];
  /** Score capping s → c·tanh(s/c) (0 = off). */
  softcap?: number;
  /** Default 'none'. */
  position?: PositionKind;
  /** Longest sequence for position 'learned'. */
  maxLength?: number;
  /** RoPE base (default 10000). */
  ropeBase?: number;
}

/** Keys and values projected once (cross-attention memory), [B, Hk, Nk, D] each. */
export interface ProjectedKeyValue {
  key: Tensor;
  value: Tensor;
}

export interface AttentionCallOptions {
  /** bool keep-mask (true = attend) or additive float, broadcastable to [B, H, Nq, Nk]. */
  mask?: Tensor;
  /** bool [B, Nk]: true at real keys, false at padding. */
  keyPaddingMask?: Tensor;
  /** Self-attention decoding: this call's keys/values are appended, queries attend to all cached rows. No gradients. */
  cache?: KVCache;
  /** Cross-attention against keys/values from projectKeyValue() (kv must then be omitted). */
  keyValue?: ProjectedKeyValue;
  /** Position of x's first row (default: the cache length, else 0). */
  positionOffset?: number;
  /** Also return the attention probabilities [B, H, Nq, Nk] (not differentiable). */
  returnWeights?: boolean;
}

export interface AttentionOutput {
  output: Tensor;
  weights: Tensor;
}

export class MultiHeadAttention extends Module {
  readonly config: Required<Omit<MultiHeadAttentionConfig, 'maxLength' | 'window'>> &
    Pick<MultiHeadAttentionConfig, 'maxLength' | 'window'>;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;
  private readonly absolutePosition: SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null;
  private slopes: Tensor | null = null;

  constructor(config: MultiHeadAttentionConfig, options: InitOptions = {}) {
    super();
    const { dim, numHeads } = config;
    const numKvHeads = config.numKvHeads ?? numHeads;
    for (const [name, n] of [
      ['dim', dim],
      ['numHeads', numHeads],
      ['numKvHeads', numKvHeads],
    ] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`MultiHeadAttention: ${name} must be a positive integer, got ${n}`);
    }
    if (numHeads % numKvHeads !== 0) {
      throw new Error(`MultiHeadAttention: numKvHeads ${numKvHeads} must divide numHeads ${numHeads}`);
    }
    if (config.headDim === undefined && dim % numHeads !== 0) {
      throw new Error(`MultiHeadAttention: dim ${dim} is not divisible by numHeads ${numHeads}; give headDim explicitly`);
    }
    const headDim = config.headDim ?? dim / numHeads;
    const position = checkPositionKind(config.position ?? 'none', 'MultiHeadAttention');
    if (position === 'rope' && headDim % 2 !== 0)
      throw new Error(`MultiHeadAttention: position 'rope' needs an even headDim, got ${headDim}`);
    this.config = {
      dim,
      numHeads,
      numKvHeads,
      headDim,
      kvDim: config.kvDim ?? dim,
      bias: config.bias ?? true,
      dropout: config.dropout ?? 0,
      causal: config.causal ?? false,
      softcap: config.softcap ?? 0,
      position,
      ropeBase: config.ropeBase ?? 10000,
      maxLength: config.maxLength,
      window: config.window,
    };
    const nextSeed = seedSequence(options.seed);
    const linear = (i: number, o: number) => new Linear(i, o, { bias: this.config.bias, seed: nextSeed(), dtype: options.dtype });
    const kvDim = this.config.kvDim;
    this.query = this.registerModule('query', linear(dim, numHeads * headDim));
    this.key = this.registerModule('key', linear(kvDim, numKvHeads * headDim));
    this.value = this.registerModule('value', linear(kvDim, numKvHeads * headDim));
    this.output = this.registerModule('output', linear(numHeads * headDim, dim));
    this.absolutePosition = createAbsolutePosition(
      position,
      dim,
      config.maxLength,
      { seed: nextSeed(), dtype: options.dtype },
      'MultiHeadAttention',
    );
    if (this.absolutePosition) this.registerModule('position', this.absolutePosition);
    if (position === 'alibi') {
      this.slopes = keep(tensor(Float64Array.from(alibiSlopes(numHeads)), [numHeads], options.dtype ?? 'float32'));
    }
  }

  /** A KV cache sized for this layer's keys, for decoding token by token. */
  createCache(batch: number, capacity?: number): KVCache {
    const { numKvHeads, headDim } = this.config;
    return new KVCache({ batch, numKvHeads, headDim, capacity, dtype: this.query.weight.dtype });
  }

  /** Projects a key/value source (e.g. encoder memory [B, Nk, kvDim]) once for repeated cross-attention. */
  projectKeyValue(source: Tensor): ProjectedKeyValue {
    this.checkInput(source, this.config.kvDim, 'key/value source');
    const keyInput = this.absolutePosition && this.config.kvDim === this.config.dim ? this.absolutePosition.forward(source) : source;
    let key = this.splitHeads(this.key.forward(keyInput), this.config.numKvHeads);
    if (this.config.position === 'rope') key = applyRotary(key, { base: this.config.ropeBase });
    return { key, value: this.splitHeads(this.value.forward(source), this.config.numKvHeads) };
  }

  /** x [B, Nq, dim] (and kv [B, Nk, kvDim] for cross-attention) → [B, Nq, dim]. */
  forward(x: Tensor, kv?: Tensor | null, options?: AttentionCallOptions & { returnWeights?: false }): Tensor;
  forward(x: Tensor, kv: Tensor | null | undefined, options: AttentionCallOptions & { returnWeights: true }): AttentionOutput;
  forward(x: Tensor, kv?: Tensor | null, options: AttentionCallOptions = {}): Tensor | AttentionOutput {
    if (options.cache) return noGrad(() => this.attend(x, kv ?? null, options));
    return this.attend(x, kv ?? null, options);
  }

  private attend(x: Tensor, kv: Tensor | null, options: AttentionCallOptions): Tensor | AttentionOutput {
    const { dim, numHeads, numKvHeads, position } = this.config;
    this.checkInput(x, dim, 'query input');
    if (kv && options.keyValue) throw new Error('MultiHeadAttention: give either kv or keyValue, not both');
    if (options.cache && (kv || options.keyValue))
      throw new Error('MultiHeadAttention: a KV cache is for self-attention; omit kv and keyValue');
    const [B, Nq] = x.shape;
    const offset = options.positionOffset ?? options.cache?.length ?? 0;
    const queryInput = this.absolutePosition ? this.absolutePosition.forward(x, offset) : x;
    // self-attention without a cache or RoPE reads the projections as [B, N, H, D]: heads split and merged by reshapes, no copies
    const layout: AttentionLayout = !options.cache && !options.keyValue && !kv && position !== 'rope' ? 'bnhd' : 'bhnd';
    let q = this.splitHeads(this.query.forward(queryInput), numHeads, layout);
    if (position === 'rope') q = applyRotary(q, { base: this.config.ropeBase, positionOffset: offset });

    let k: Tensor;
    let v: Tensor;
    if (options.keyValue) ({ key: k, value: v } = options.keyValue);
    else if (kv) ({ key: k, value: v } = this.projectKeyValue(kv));
    else {
      k = this.splitHeads(this.key.forward(queryInput), numKvHeads, layout);
      v = this.splitHeads(this.value.forward(x), numKvHeads, layout);
      if (position === 'rope') k = applyRotary(k, { base: this.config.ropeBase, positionOffset: offset });
    }
    if (k.shape[0] !== B) throw new Error(`MultiHeadAttention: keys have batch ${k.shape[0]}, queries ${B}`);

    const cache = options.cache;
    if (cache) cache.append(k, v);
    const keyLength = cache ? cache.length : k.shape[layout === 'bnhd' ? 1 : 2];
    if (options.keyPaddingMask) checkKeyPaddingMask(options.keyPaddingMask, B, keyLength, 'MultiHeadAttention');
    const mask = combineMasks(options.mask, options.keyPaddingMask, { batch: B, numHeads, queryLength: Nq, keyLength });
    const attentionOptions: AttentionOptions = {
      mask,
      causal: this.config.causal,
      window: this.config.window,
      softcap: this.config.softcap,
      dropout: this.config.dropout,
      training: this.training,
      alibiSlopes: this.slopes ?? undefined,
      layout,
    };
    let out: Tensor;
    let weights: Tensor | null = null;
    if (options.returnWeights) {
      if (cache) {
        const D = this.config.headDim;
        k = slice(cache.keys, [0, 0, 0, 0], [B, numKvHeads, keyLength, D]);
        v = slice(cache.values, [0, 0, 0, 0], [B, numKvHeads, keyLength, D]);
      }
      ({ output: out, weights } = scaledDotProductAttention(q, k, v, { ...attentionOptions, returnWeights: true }));
    } else {
      out = cache ? cache.attend(q, attentionOptions) : scaledDotProductAttention(q, k, v, attentionOptions);
    }
    const y = this.output.forward(this.mergeHeads(out, layout));
    return weights ? { output: y, weights } : y;
  }

  /** [B, N, heads·D] → [B, heads, N, D] (a copy), or [B, N, heads, D] (a reshape) for layout 'bnhd'. */
  private splitHeads(t: Tensor, heads: number, layout: AttentionLayout = 'bhnd'): Tensor {
    const [B, N] = t.shape;
    const split = reshape(t, [B, N, heads, this.config.headDim]);
    return layout === 'bnhd' ? split : permute(split, [0, 2, 1, 3]);
  }

  /** [B, H, N, D] (or [B, N, H, D] for layout 'bnhd') → [B, N, H·D]. */
  private mergeHeads(t: Tensor, layout: AttentionLayout): Tensor {
    if (layout === 'bnhd') {
      const [B, N, H, D] = t.shape;
      return reshape(t, [B, N, H * D]);
    }
    const [B, H, N, D] = t.shape;
    return reshape(permute(t, [0, 2, 1, 3]), [B, N, H * D]);
  }

  private checkInput(t: Tensor, width: number, what: string): void {
    if (t.rank !== 3 || t.shape[2] !== width) {
      throw new Error(`MultiHeadAttention: ${what} must be [batch, seq, ${width}], got ${formatShape(t.shape)}`);
    }
  }

  override dispose(): void {
    super.dispose();
    this.slopes?.dispose();
    this.slopes = null;
  }
}
