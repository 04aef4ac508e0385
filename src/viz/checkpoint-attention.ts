// `attune viz`'s library side: the attention maps of a trained checkpoint for
// one input, written as a self-contained HTML page plus PNG and SVG images.
// An image checkpoint (VisionTransformer) takes a PNG; a text checkpoint
// (Seq2SeqTransformer) takes a sentence, which it first translates or
// summarises, then shows how the output attended to the input.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSet } from '../data/fashion-mnist.js';
import { imageTensor } from '../tasks/image/data.js';
import { classifyPngFiles, loadImageClassifier, pngToGray } from '../tasks/image/predict.js';
import { loadSeq2Seq } from '../tasks/seq2seq/checkpoint.js';
import { encodeSource, generate } from '../tasks/seq2seq/generate.js';
import { sourceTokenizer, targetTokenizer } from '../tasks/seq2seq/vocabulary.js';
import { disposeCheckpoint, loadCheckpoint } from '../train/checkpoint.js';
import { type AttentionMaps, attentionRollout, classTokenToPatches, meanOverHeads } from './attention-maps.js';
import { renderAttentionHtml } from './attention-page.js';
import { heatmapPng, heatmapSvg, overlayPng } from './heatmap-image.js';
import { seq2seqAttention, tokenLabels, visionTransformerAttention } from './model-attention.js';

export interface VizInput {
  text?: string;
  image?: string;
}

export interface VizResult {
  files: string[];
  /** One line on what was shown (the prediction or the generated text). */
  caption: string;
}

function checkpointClass(path: string): string {
  const checkpoint = loadCheckpoint(path);
  try {
    return checkpoint.modelClass ?? 'unknown';
  } finally {
    disposeCheckpoint(checkpoint);
  }
}

/** Computes the maps of `checkpoint` for the input and writes attention.html, one PNG and SVG per layer, and overlays for images. */
export function writeCheckpointAttention(checkpoint: string, input: VizInput, outDir: string): VizResult {
  const modelClass = checkpointClass(checkpoint);
  if (modelClass === 'VisionTransformer') {
    if (!input.image) throw new Error(`${checkpoint} is an image model (VisionTransformer): give --image file.png`);
    return imageMaps(checkpoint, input.image, outDir);
  }
  if (modelClass === 'Seq2SeqTransformer') {
    if (input.text === undefined) throw new Error(`${checkpoint} is a text model (Seq2SeqTransformer): give --text "…"`);
    return textMaps(checkpoint, input.text, outDir);
  }
  throw new Error(`${checkpoint} holds a ${modelClass}; attune viz draws VisionTransformer and Seq2SeqTransformer checkpoints`);
}

function writeLayerImages(maps: AttentionMaps, outDir: string): string[] {
  const files: string[] = [];
  maps.layers.forEach((layer, i) => {
    const heatmap = { data: meanOverHeads(layer), rows: layer.queryLength, cols: layer.keyLength };
    const base = join(outDir, `layer-${i}-${layer.name.replace(/[^\w.-]+/g, '_')}`);
    writeFileSync(`${base}.png`, heatmapPng(heatmap, { cell: layer.queryLength > 256 ? 1 : 8 }));
    const labelled = layer.queryLength <= 64 && layer.keyLength <= 64;
    const labels = labelled ? { rows: layer.queryLabels, cols: layer.keyLabels } : {};
    writeFileSync(`${base}.svg`, heatmapSvg(heatmap, { ...labels, title: `${layer.name}, mean over ${layer.heads.length} heads` }));
    files.push(`${base}.png`, `${base}.svg`);
  });
  return files;
}

function imageMaps(checkpoint: string, imagePath: string, outDir: string): VizResult {
  const model = loadImageClassifier(checkpoint);
  const [h, w] = typeof model.config.imageSize === 'number' ? [model.config.imageSize, model.config.imageSize] : model.config.imageSize;
  const gray = pngToGray(readFileSync(imagePath), [h, w], imagePath);
  const set: ImageSet = { images: gray.pixels, labels: new Uint8Array(1), count: 1, height: h, width: w, source: 'png' };
  const input = imageTensor(set, Int32Array.of(0));
  const maps = visionTransformerAttention(model, input);
  input.dispose();
  mkdirSync(outDir, { recursive: true });
  const image = { data: Float32Array.from(gray.pixels, (p) => p / 255), height: h, width: w };
  const files = writeLayerImages(maps, outDir);
  const grid = maps.patchGrid;
  if (grid?.classToken) {
    const rollout = classTokenToPatches(attentionRollout(maps.layers), grid);
    const last = maps.layers[maps.layers.length - 1];
    const lastClass = classTokenToPatches(meanOverHeads(last), grid);
    for (const [name, data] of [
      ['rollout', rollout],
      ['class-token-last-layer', lastClass],
    ] as const) {
      const path = join(outDir, `overlay-${name}.png`);
      writeFileSync(path, overlayPng(image, { data, rows: grid.rows, cols: grid.cols }));
      files.push(path);
    }
  }
  const [prediction] = classifyPngFiles(model, [imagePath]);
  const caption = `${imagePath}: ${prediction.className} (${(100 * prediction.probability).toFixed(1)}%)`;
  const html = join(outDir, 'attention.html');
  writeFileSync(html, renderAttentionHtml(maps, { title: `Attention on ${caption}`, image }));
  model.dispose();
  return { files: [html, ...files], caption };
}

function textMaps(checkpoint: string, text: string, outDir: string): VizResult {
  const loaded = loadSeq2Seq(checkpoint);
  const { model, tokenizers } = loaded;
  const [source, target] = [sourceTokenizer(tokenizers), targetTokenizer(tokenizers)];
  const sourceIds = encodeSource(source, text, loaded.maxSourceLength);
  const [generated] = generate(model, tokenizers, [text], {
    beamSize: 4,
    maxLength: loaded.maxTargetLength,
    maxSourceLength: loaded.maxSourceLength,
  });
  const targetIds = [target.bosId, ...generated.tokens];
  const maps = seq2seqAttention(
    model,
    { ids: sourceIds, labels: tokenLabels(source, sourceIds) },
    { ids: targetIds, labels: tokenLabels(target, targetIds) },
  );
  mkdirSync(outDir, { recursive: true });
  const files = writeLayerImages(maps, outDir);
  const html = join(outDir, 'attention.html');
  writeFileSync(html, renderAttentionHtml(maps, { title: `${loaded.task}: “${text}” → “${generated.text}”` }));
  model.dispose();
  return { files: [html, ...files], caption: `${loaded.task}: ${generated.text}` };
}
