// An encoder-decoder transformer for sequence-to-sequence tasks (translation,
// summarisation): token embeddings scaled by √dim (Vaswani et al.), an
// optional absolute position encoding, encoder and decoder stacks, and an
// output projection tied to the target embedding by default.
//   encode(src) = encoder(embed(src)),  decode(tgt, memory) = logits [B, Nt, tgtVocab]
// Decoding token by token reuses a DecoderCache (self-attention keys/values per
// layer, cross-attention keys/values projected once from the memory).

import { matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import { mulScalar } from '../ops/unary.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DecoderCache } from './decoder-cache.js';
import { Dropout } from './dropout.js';
import { Embedding } from './embedding.js';
import type { FeedForwardActivation } from './feed-forward.js';
import { Linear } from './linear.js';
import { type InitOptions, Module, seedSequence } from './module.js';
import type { NormKind } from './norm.js';
import {
  checkPositionKind,
  createAbsolutePosition,
  type LearnedPositionalEmbedding,
  type PositionKind,
  type SinusoidalPositionalEncoding,
} from './position.js';
import {
  type DecoderStackAttention,
  type StackAttention,
  TransformerDecoder,
  TransformerEncoder,
  type TransformerLayerConfig,
} from './transformer.js';

export interface Seq2SeqTransformerConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  dim: number;
  numHeads: number;
  numKvHeads?: number;
  headDim?: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Feed-forward hidden width (default 4·dim). */
  ffnDim?: number;
  activation?: FeedForwardActivation;
  dropout?: number;
  attentionDropout?: number;
  bias?: boolean;
  norm?: NormKind;
  normFirst?: boolean;
  /** Default 'sinusoidal'; 'rope' and 'alibi' act inside the self-attention layers. */
  position?: PositionKind;
  /** Longest sequence (needed by position 'learned'; default 512). */
  maxLength?: number;
  window?: TransformerLayerConfig['window'];
  softcap?: number;
  /** One embedding table for source and target (needs equal vocabularies). Default false. */
  shareEmbeddings?: boolean;
  /** Output projection = the target embedding transposed. Default true. */
  tieOutput?: boolean;
}

export interface DecodeOptions {
  /** Incremental decoding state from createCache(); tgt then holds only the new positions. */
  cache?: DecoderCache;
  /** bool [B, Ns], true at real source tokens. */
  memoryPaddingMask?: Tensor;
  /** bool [B, Nt] over the target keys (with a cache: over all positions decoded so far). */
  tgtPaddingMask?: Tensor;
}

export class Seq2SeqTransformer extends Module {
  readonly config: Seq2SeqTransformerConfig;
  readonly srcEmbedding: Embedding;
  readonly tgtEmbedding: Embedding;
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  readonly outputProjection: Linear | null;
  private readonly srcPosition: SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null;
  private readonly tgtPosition: SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null;
  private readonly dropout: Dropout;
  private readonly embedScale: number;

  constructor(config: Seq2SeqTransformerConfig, options: InitOptions = {}) {
    super();
    this.config = { ...config };
    const { dim, dtype } = { dim: config.dim, dtype: options.dtype };
    const position = checkPositionKind(config.position ?? 'sinusoidal', 'Seq2SeqTransformer');
    const share = config.shareEmbeddings ?? false;
    if (share && config.srcVocabSize !== config.tgtVocabSize) {
      throw new Error(
        `Seq2SeqTransformer: shareEmbeddings needs equal vocabularies, got srcVocabSize ${config.srcVocabSize} and tgtVocabSize ${config.tgtVocabSize}`,
      );
    }
    const nextSeed = seedSequence(options.seed);
    const std = dim ** -0.5;
    this.embedScale = Math.sqrt(dim);
    this.srcEmbedding = this.registerModule('srcEmbedding', new Embedding(config.srcVocabSize, dim, { std, seed: nextSeed(), dtype }));
    const tgtSeed = nextSeed();
    this.tgtEmbedding = share
      ? this.srcEmbedding
      : this.registerModule('tgtEmbedding', new Embedding(config.tgtVocabSize, dim, { std, seed: tgtSeed, dtype }));
    const maxLength = config.maxLength ?? 512;
    this.srcPosition = createAbsolutePosition(position, dim, maxLength, { seed: nextSeed(), dtype }, 'Seq2SeqTransformer');
    this.tgtPosition = createAbsolutePosition(position, dim, maxLength, { seed: nextSeed(), dtype }, 'Seq2SeqTransformer');
    if (this.srcPosition) this.registerModule('srcPosition', this.srcPosition);
    if (this.tgtPosition) this.registerModule('tgtPosition', this.tgtPosition);
    const relative = position === 'rope' || position === 'alibi' ? position : 'none';
    const layer: TransformerLayerConfig = {
      dim,
      numHeads: config.numHeads,
      numKvHeads: config.numKvHeads,
      headDim: config.headDim,
      ffnDim: config.ffnDim,
      activation: config.activation,
      dropout: config.dropout,
      attentionDropout: config.attentionDropout,
      bias: config.bias,
      norm: config.norm,
      normFirst: config.normFirst,
      position: relative,
      window: config.window,
      softcap: config.softcap,
    };
    this.encoder = this.registerModule(
      'encoder',
      new TransformerEncoder({ ...layer, numLayers: config.encoderLayers }, { seed: nextSeed(), dtype }),
    );
    this.decoder = this.registerModule(
      'decoder',
      new TransformerDecoder({ ...layer, numLayers: config.decoderLayers }, { seed: nextSeed(), dtype }),
    );
    const outSeed = nextSeed();
    this.outputProjection =
      (config.tieOutput ?? true)
        ? null
        : this.registerModule('outputProjection', new Linear(dim, config.tgtVocabSize, { seed: outSeed, dtype }));
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout ?? 0));
  }

  /** src int32 [B, Ns] → memory [B, Ns, dim]. */
  encode(src: Tensor, srcPaddingMask?: Tensor): Tensor {
    checkIds('source', src);
    const x = this.embed(this.srcEmbedding, this.srcPosition, src, 0);
    return this.encoder.forward(x, { keyPaddingMask: srcPaddingMask });
  }

  /** Encoder self-attention weights per layer, for pictures. */
  encodeWithAttention(src: Tensor, srcPaddingMask?: Tensor): StackAttention {
    checkIds('source', src);
    const x = this.embed(this.srcEmbedding, this.srcPosition, src, 0);
    return this.encoder.forward(x, { keyPaddingMask: srcPaddingMask, returnAttention: true });
  }

  /** tgt int32 [B, Nt], memory [B, Ns, dim] → logits [B, Nt, tgtVocabSize]. */
  decode(tgt: Tensor, memory: Tensor, options: DecodeOptions = {}): Tensor {
    checkIds('target', tgt);
    const offset = options.cache?.length ?? 0;
    const x = this.embed(this.tgtEmbedding, this.tgtPosition, tgt, offset);
    const h = this.decoder.forward(x, memory, {
      cache: options.cache,
      keyPaddingMask: options.tgtPaddingMask,
      memoryPaddingMask: options.memoryPaddingMask,
    });
    return this.project(h);
  }

  /** Teacher-forced decoding that also returns each decoder layer's self- and cross-attention weights, for pictures. */
  decodeWithAttention(tgt: Tensor, memory: Tensor, options: Omit<DecodeOptions, 'cache'> = {}): DecoderStackAttention & { logits: Tensor } {
    checkIds('target', tgt);
    const x = this.embed(this.tgtEmbedding, this.tgtPosition, tgt, 0);
    const r = this.decoder.forward(x, memory, {
      keyPaddingMask: options.tgtPaddingMask,
      memoryPaddingMask: options.memoryPaddingMask,
      returnAttention: true,
    });
    return { ...r, logits: this.project(r.output) };
  }

  /** Teacher-forced logits [B, Nt, tgtVocabSize] for training. */
  forward(src: Tensor, tgt: Tensor, options: { srcPaddingMask?: Tensor; tgtPaddingMask?: Tensor } = {}): Tensor {
    const memory = this.encode(src, options.srcPaddingMask);
    return this.decode(tgt, memory, { memoryPaddingMask: options.srcPaddingMask, tgtPaddingMask: options.tgtPaddingMask });
  }

  /** Decoding state for `batch` sequences. */
  createCache(batch: number, capacity?: number): DecoderCache {
    return this.decoder.createCache(batch, capacity);
  }

  private embed(
    table: Embedding,
    position: SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null,
    ids: Tensor,
    offset: number,
  ): Tensor {
    let x = mulScalar(table.forward(ids), this.embedScale);
    if (position) x = position.forward(x, offset);
    return this.dropout.forward(x);
  }

  private project(h: Tensor): Tensor {
    if (this.outputProjection) return this.outputProjection.forward(h);
    const [B, N, D] = h.shape;
    const logits = matmul(reshape(h, [B * N, D]), this.tgtEmbedding.weight, { transposeB: true });
    return reshape(logits, [B, N, this.config.tgtVocabSize]);
  }
}

function checkIds(what: string, ids: Tensor): void {
  if (ids.dtype !== 'int32' || ids.rank !== 2) {
    throw new Error(`Seq2SeqTransformer: ${what} ids must be int32 [batch, seq], got ${ids.dtype} ${formatShape(ids.shape)}`);
  }
}
