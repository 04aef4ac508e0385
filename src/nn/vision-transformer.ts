// Vision Transformer (Dosovitskiy et al. 2021): an image is cut into p×p
// patches, each flattened and projected (one matmul over the unfolded
// patches, equal to a stride-p convolution), a class token is prepended
// (pool 'cls') or the tokens are averaged (pool 'mean'), and a transformer
// encoder runs over the sequence.
//   images [B, C, H, W] → patches [B, (H/p)·(W/p), C·p·p] → tokens [B, N, dim] → logits [B, numClasses]

import { mean } from '../ops/reduce.js';
import { concat, expand, permute, reshape, slice } from '../ops/shape.js';
import { randn } from '../tensor/create.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dropout } from './dropout.js';
import type { FeedForwardActivation } from './feed-forward.js';
import { Linear } from './linear.js';
import { type InitOptions, Module, seedSequence } from './module.js';
import type { NormKind } from './norm.js';
import { checkPositionKind, LearnedPositionalEmbedding, type PositionKind, SinusoidalPositionalEncoding } from './position.js';
import { TransformerEncoder } from './transformer.js';

export interface VisionTransformerConfig {
  /** Square side, or [height, width]. */
  imageSize: number | readonly [number, number];
  patchSize: number;
  channels: number;
  numClasses: number;
  dim: number;
  depth: number;
  numHeads: number;
  numKvHeads?: number;
  /** Width of one head (default dim / numHeads); the attention's inner width numHeads·headDim may differ from dim. */
  headDim?: number;
  /** Feed-forward width = mlpRatio·dim (default 4). */
  mlpRatio?: number;
  dropout?: number;
  attentionDropout?: number;
  /** Default 'cls'. */
  pool?: 'cls' | 'mean';
  /** Default 'learned'. */
  position?: PositionKind;
  norm?: NormKind;
  activation?: FeedForwardActivation;
}

export interface VisionTransformerAttention {
  output: Tensor;
  /** Per layer, [B, H, N, N] over the class token (if any) then the patches in row-major order. */
  attention: Tensor[];
}

export class VisionTransformer extends Module {
  readonly config: VisionTransformerConfig;
  readonly patchEmbedding: Linear;
  readonly classToken: Tensor | null;
  readonly encoder: TransformerEncoder;
  readonly head: Linear;
  readonly numPatches: number;
  private readonly gridHeight: number;
  private readonly gridWidth: number;
  private readonly position: LearnedPositionalEmbedding | SinusoidalPositionalEncoding | null;
  private readonly dropout: Dropout;

  constructor(config: VisionTransformerConfig, options: InitOptions = {}) {
    super();
    this.config = { ...config };
    const { patchSize: p, channels, dim } = config;
    const [height, width] = typeof config.imageSize === 'number' ? [config.imageSize, config.imageSize] : config.imageSize;
    if (!Number.isInteger(p) || p <= 0 || height % p !== 0 || width % p !== 0) {
      throw new Error(`VisionTransformer: patchSize ${p} must divide the image size ${height}×${width}`);
    }
    const pool = config.pool ?? 'cls';
    if (pool !== 'cls' && pool !== 'mean') throw new Error(`VisionTransformer: pool must be 'cls' or 'mean', got '${pool}'`);
    const position = checkPositionKind(config.position ?? 'learned', 'VisionTransformer');
    this.gridHeight = height / p;
    this.gridWidth = width / p;
    this.numPatches = this.gridHeight * this.gridWidth;
    const tokens = this.numPatches + (pool === 'cls' ? 1 : 0);
    const nextSeed = seedSequence(options.seed);
    const { dtype } = options;
    this.patchEmbedding = this.registerModule('patchEmbedding', new Linear(channels * p * p, dim, { seed: nextSeed(), dtype }));
    const classSeed = nextSeed();
    this.classToken =
      pool === 'cls' ? this.registerParameter('classToken', randn([1, 1, dim], { seed: classSeed, std: 0.02, dtype }), 'embedding') : null;
    const positionSeed = nextSeed();
    this.position =
      position === 'learned'
        ? new LearnedPositionalEmbedding(tokens, dim, { seed: positionSeed, dtype })
        : position === 'sinusoidal'
          ? new SinusoidalPositionalEncoding(dim, dtype)
          : null;
    if (this.position) this.registerModule('position', this.position);
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout ?? 0));
    const encoderConfig = {
      dim,
      numHeads: config.numHeads,
      numKvHeads: config.numKvHeads,
      headDim: config.headDim,
      ffnDim: Math.round((config.mlpRatio ?? 4) * dim),
      activation: config.activation,
      dropout: config.dropout,
      attentionDropout: config.attentionDropout,
      norm: config.norm,
      position: position === 'rope' || position === 'alibi' ? position : ('none' as const),
      numLayers: config.depth,
    };
    this.encoder = this.registerModule('encoder', new TransformerEncoder(encoderConfig, { seed: nextSeed(), dtype }));
    this.head = this.registerModule('head', new Linear(dim, config.numClasses, { seed: nextSeed(), dtype }));
  }

  /** images [B, C, H, W] → patch rows [B, numPatches, C·p·p], each patch flattened as (c, y, x). */
  unfold(images: Tensor): Tensor {
    const { channels: C, patchSize: p } = this.config;
    const [gh, gw] = [this.gridHeight, this.gridWidth];
    if (images.rank !== 4 || images.shape[1] !== C || images.shape[2] !== gh * p || images.shape[3] !== gw * p) {
      throw new Error(`VisionTransformer: images must be [batch, ${C}, ${gh * p}, ${gw * p}], got ${formatShape(images.shape)}`);
    }
    const B = images.shape[0] as number;
    const grid = reshape(images, [B, C, gh, p, gw, p]);
    return reshape(permute(grid, [0, 2, 4, 1, 3, 5]), [B, gh * gw, C * p * p]);
  }

  /** images [B, C, H, W] → logits [B, numClasses]; with returnAttention, per-layer attention weights too. */
  forward(images: Tensor, options?: { returnAttention?: false }): Tensor;
  forward(images: Tensor, options: { returnAttention: true }): VisionTransformerAttention;
  forward(images: Tensor, options: { returnAttention?: boolean } = {}): Tensor | VisionTransformerAttention {
    let x = this.patchEmbedding.forward(this.unfold(images));
    const [B, , D] = x.shape as [number, number, number];
    if (this.classToken) x = concat([expand(this.classToken, [B, 1, D]), x], 1);
    if (this.position) x = this.position.forward(x);
    x = this.dropout.forward(x);
    let h: Tensor;
    let attention: Tensor[] = [];
    if (options.returnAttention) ({ output: h, attention } = this.encoder.forward(x, { returnAttention: true }));
    else h = this.encoder.forward(x);
    const pooled = this.classToken ? reshape(slice(h, [0, 0, 0], [B, 1, D]), [B, D]) : mean(h, 1);
    const logits = this.head.forward(pooled);
    return options.returnAttention ? { output: logits, attention } : logits;
  }
}
