// The encoder-decoder model of the translation and summarization tasks, its
// defaults, and the label-smoothed cross-entropy over padded batches.
//
// B sentences · Ns source length · Nt target length · V vocabulary

import type { Seq2SeqBatch } from '../../data/batching.js';
import type { PositionKind } from '../../nn/position.js';
import { Seq2SeqTransformer, type Seq2SeqTransformerConfig } from '../../nn/seq2seq.js';
import { crossEntropy } from '../../ops/cross-entropy.js';
import { reshape } from '../../ops/shape.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Model settings a task exposes (the vocabulary comes from the tokenizer). */
export interface Seq2SeqModelOptions {
  dim?: number;
  numHeads?: number;
  encoderLayers?: number;
  decoderLayers?: number;
  ffnDim?: number;
  dropout?: number;
  /** Longest source/target in tokens the position table covers (default 256). */
  maxLength?: number;
  /** Key/value heads shared by the query heads (default numHeads: MHA; 1: MQA; between: GQA). */
  numKvHeads?: number;
  /** Width of one head (default dim / numHeads). */
  headDim?: number;
  /** Self-attention window [left, right] or one number for both; −1 = unbounded (default). */
  window?: number | readonly [number, number];
  /** 'sinusoidal' (default), 'learned', 'rope', 'alibi' or 'none'. */
  position?: PositionKind;
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
}

type AttentionKnobs = 'numKvHeads' | 'headDim' | 'window';

/** 3+3 layers, width 256, 4 heads, FFN 1024, dropout 0.1, one shared vocabulary with tied embeddings. */
export const DEFAULT_MODEL: Required<Omit<Seq2SeqModelOptions, AttentionKnobs>> = {
  dim: 256,
  numHeads: 4,
  encoderLayers: 3,
  decoderLayers: 3,
  ffnDim: 1024,
  dropout: 0.1,
  maxLength: 256,
  position: 'sinusoidal',
  attentionDropout: 0,
};

/** The model config for one shared vocabulary (a size) or separate ones ({ source, target } sizes, separate embeddings). */
export function seq2seqConfig(
  vocabulary: number | { source: number; target: number },
  options: Seq2SeqModelOptions = {},
): Seq2SeqTransformerConfig {
  const o = { ...DEFAULT_MODEL, ...options };
  const separate = typeof vocabulary !== 'number';
  return {
    srcVocabSize: separate ? vocabulary.source : vocabulary,
    tgtVocabSize: separate ? vocabulary.target : vocabulary,
    dim: o.dim,
    numHeads: o.numHeads,
    encoderLayers: o.encoderLayers,
    decoderLayers: o.decoderLayers,
    ffnDim: o.ffnDim,
    dropout: o.dropout,
    // only the knobs that were set, so a default config reads as before
    ...(o.numKvHeads !== undefined && { numKvHeads: o.numKvHeads }),
    ...(o.headDim !== undefined && { headDim: o.headDim }),
    ...(o.window !== undefined && { window: o.window }),
    attentionDropout: o.attentionDropout,
    maxLength: o.maxLength,
    position: o.position,
    norm: 'layer',
    normFirst: true,
    shareEmbeddings: !separate,
    tieOutput: true,
  };
}

export function createSeq2SeqModel(config: Seq2SeqTransformerConfig, seed = 0): Seq2SeqTransformer {
  return new Seq2SeqTransformer(config, { seed });
}

export interface BatchTensors {
  src: Tensor;
  srcMask: Tensor;
  tgtIn: Tensor;
  tgtOut: Tensor;
}

/** The batch's arrays as tensors (created in the caller's scope). */
export function batchTensors(batch: Seq2SeqBatch): BatchTensors {
  const { size: B, srcLength: Ns, tgtLength: Nt } = batch;
  return {
    src: tensor(batch.src, [B, Ns], 'int32'),
    srcMask: tensor(batch.srcMask, [B, Ns], 'bool'),
    tgtIn: tensor(batch.tgtIn, [B, Nt], 'int32'),
    tgtOut: tensor(batch.tgtOut, [B * Nt], 'int32'),
  };
}

/**
 * Mean label-smoothed cross-entropy per real target token. Padded source
 * keys are masked in the encoder and in cross-attention; the decoder needs no
 * target mask: it is causal and the padding sits at the end, so no real
 * position sees it, and padded labels are ignored (ignoreIndex).
 */
export function seq2seqLoss(model: Seq2SeqTransformer, batch: Seq2SeqBatch, labelSmoothing = 0.1, ignoreIndex = -100): Tensor {
  const t = batchTensors(batch);
  const logits = model.forward(t.src, t.tgtIn, { srcPaddingMask: t.srcMask });
  const V = model.config.tgtVocabSize;
  return crossEntropy(reshape(logits, [batch.size * batch.tgtLength, V]), t.tgtOut, { ignoreIndex, labelSmoothing });
}
