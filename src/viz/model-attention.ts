// Attention maps of the shipped models for one input: every layer's and
// head's weights, labelled with tokens (text) or patch positions (images).

import { noGrad } from '../autograd/tape.js';
import type { BpeTokenizer } from '../data/tokenizer.js';
import type { Seq2SeqTransformer } from '../nn/seq2seq.js';
import type { VisionTransformer } from '../nn/vision-transformer.js';
import { reshape } from '../ops/shape.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type AttentionMaps, attentionMapsFromWeights } from './attention-maps.js';

/**
 * A ViT's self-attention for one image [C, H, W] or [1, C, H, W]: rows and
 * columns are the class token (when the model pools by it) and the patches in
 * row-major order, labelled "(row, col)".
 */
export function visionTransformerAttention(model: VisionTransformer, image: Tensor): AttentionMaps {
  const [h, w] = typeof model.config.imageSize === 'number' ? [model.config.imageSize, model.config.imageSize] : model.config.imageSize;
  const rows = h / model.config.patchSize;
  const cols = w / model.config.patchSize;
  const classToken = model.classToken !== null;
  const labels = [...(classToken ? ['[cls]'] : [])];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) labels.push(`(${r},${c})`);
  const wasTraining = model.training;
  model.eval();
  try {
    return tidy(() =>
      noGrad(() => {
        const batch = image.rank === 3 ? reshape(image, [1, ...image.shape]) : image;
        const { attention } = model.forward(batch, { returnAttention: true });
        return attentionMapsFromWeights(
          attention.map((weights, i) => ({ name: `encoder.layers.${i}`, weights })),
          { query: labels, patchGrid: { rows, cols, classToken } },
        );
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}

/** Readable labels of token ids: the tokenizer's pieces, with the word-start space shown as ▁. */
export function tokenLabels(tokenizer: BpeTokenizer, ids: readonly number[]): string[] {
  return ids.map((id) => tokenizer.idToPiece(id).replace(/ /g, '▁'));
}

/**
 * An encoder-decoder's attention for one source and the target it produced
 * (teacher-forced): encoder self-attention over the source, decoder
 * self-attention over the target, and the decoder's cross-attention from
 * target to source (the alignment of a translation).
 */
export function seq2seqAttention(
  model: Seq2SeqTransformer,
  source: { ids: readonly number[]; labels: string[] },
  target: { ids: readonly number[]; labels: string[] },
): AttentionMaps {
  const wasTraining = model.training;
  model.eval();
  try {
    return tidy(() =>
      noGrad(() => {
        const src = tensor(Int32Array.from(source.ids), [1, source.ids.length]);
        const tgt = tensor(Int32Array.from(target.ids), [1, target.ids.length]);
        const encoded = model.encodeWithAttention(src);
        const decoded = model.decodeWithAttention(tgt, encoded.output);
        const sourceSide = { query: source.labels };
        const targetSide = { query: target.labels };
        const crossSide = { query: target.labels, key: source.labels };
        return attentionMapsFromWeights(
          [
            ...encoded.attention.map((weights, i) => ({ name: `encoder.${i} self`, weights, labels: sourceSide })),
            ...decoded.selfAttention.map((weights, i) => ({ name: `decoder.${i} self`, weights, labels: targetSide })),
            ...decoded.crossAttention.map((weights, i) => ({
              name: `decoder.${i} cross`,
              kind: 'cross' as const,
              weights,
              labels: crossSide,
            })),
          ],
          { query: target.labels, key: source.labels },
        );
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}
