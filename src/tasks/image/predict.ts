// Classifying PNG files with a trained image checkpoint. A PNG of any
// colour type (grey, RGB, palette, with or without alpha, 8 or 16 bits;
// pngjs decodes them all to 8-bit RGBA) becomes a 28×28 grayscale image:
// luma (ITU-R BT.601) composited over black by its alpha, resized by area
// averaging, and inverted when its border is light, since Fashion-MNIST
// draws light clothes on a black background.

import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { noGrad } from '../../autograd/tape.js';
import { FASHION_MNIST_CLASSES, type ImageSet } from '../../data/fashion-mnist.js';
import { VisionTransformer, type VisionTransformerConfig } from '../../nn/vision-transformer.js';
import { softmax } from '../../ops/softmax.js';
import { tidy } from '../../tensor/scope.js';
import { disposeCheckpoint, loadCheckpoint } from '../../train/checkpoint.js';
import { imageTensor } from './data.js';

/** Rebuilds the ViT a checkpoint describes and loads its weights. */
export function loadImageClassifier(path: string): VisionTransformer {
  const checkpoint = loadCheckpoint(path);
  try {
    if (checkpoint.modelClass !== 'VisionTransformer') {
      throw new Error(`predict: ${path} holds a ${checkpoint.modelClass ?? 'model of unknown class'}, not a VisionTransformer`);
    }
    const model = new VisionTransformer(checkpoint.modelConfig as VisionTransformerConfig);
    model.loadStateDict(checkpoint.model);
    return model.eval();
  } finally {
    disposeCheckpoint(checkpoint);
  }
}

export interface GrayImage {
  pixels: Uint8Array;
  height: number;
  width: number;
  /** Whether the image was inverted (a light background). */
  inverted: boolean;
}

/** A PNG file's bytes as a size×size grayscale image (invert: true/false forces, undefined decides by the border). */
export function pngToGray(bytes: Uint8Array, size: [number, number], source = 'buffer', invert?: boolean): GrayImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new Error(`predict: ${source} is not a readable PNG (${(e as Error).message})`);
  }
  const { width, height, data } = png;
  const luma = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3]! / 255;
    luma[i] = (0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!) * a;
  }
  const [outH, outW] = size;
  const resized = resizeArea(luma, height, width, outH, outW);
  const inverted = invert ?? borderMean(resized, outH, outW) > 127.5;
  const pixels = Uint8Array.from(resized, (v) => Math.round(inverted ? 255 - v : v));
  return { pixels, height: outH, width: outW, inverted };
}

/** Area-averaging resize: each output pixel is the mean of the source area it covers (fractional edges weighted). */
export function resizeArea(src: Float64Array, h: number, w: number, outH: number, outW: number): Float64Array {
  const rows = areaWeights(h, outH);
  const cols = areaWeights(w, outW);
  const out = new Float64Array(outH * outW);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      let sum = 0;
      for (const [sy, wy] of rows[oy]!) for (const [sx, wx] of cols[ox]!) sum += wy * wx * src[sy * w + sx]!;
      out[oy * outW + ox] = sum;
    }
  }
  return out;
}

function areaWeights(n: number, m: number): Array<Array<[number, number]>> {
  const scale = n / m;
  return Array.from({ length: m }, (_, o) => {
    const lo = o * scale;
    const hi = lo + scale;
    const list: Array<[number, number]> = [];
    for (let s = Math.floor(lo); s < Math.min(n, Math.ceil(hi)); s++) {
      const overlap = Math.min(hi, s + 1) - Math.max(lo, s);
      if (overlap > 1e-12) list.push([s, overlap / scale]);
    }
    return list;
  });
}

function borderMean(img: Float64Array, h: number, w: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y === 0 || x === 0 || y === h - 1 || x === w - 1) {
        sum += img[y * w + x]!;
        n++;
      }
    }
  }
  return sum / n;
}

export interface Prediction {
  file: string;
  label: number;
  className: string;
  probability: number;
  /** The three likeliest classes, most likely first. */
  top: Array<{ className: string; probability: number }>;
  inverted: boolean;
}

/** Classifies PNG files with a loaded model. */
export function classifyPngFiles(model: VisionTransformer, files: readonly string[], options: { invert?: boolean } = {}): Prediction[] {
  const [h, w] = typeof model.config.imageSize === 'number' ? [model.config.imageSize, model.config.imageSize] : model.config.imageSize;
  const images = files.map((file) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`predict: cannot read ${file}: ${(e as Error).message}`);
    }
    return pngToGray(bytes, [h, w], file, options.invert);
  });
  const set: ImageSet = {
    images: new Uint8Array(images.flatMap((g) => Array.from(g.pixels))),
    labels: new Uint8Array(files.length),
    count: files.length,
    height: h,
    width: w,
    source: 'png',
  };
  const classes = model.config.numClasses;
  const probabilities = tidy(() =>
    noGrad(() =>
      softmax(
        model.forward(
          imageTensor(
            set,
            Int32Array.from(files, (_, i) => i),
          ),
        ),
        -1,
      ).toArray(),
    ),
  );
  return files.map((file, i) => {
    const row = Array.from(probabilities.subarray(i * classes, (i + 1) * classes));
    const ranked = row.map((p, c) => ({ c, p })).sort((a, b) => b.p - a.p);
    const name = (c: number) => FASHION_MNIST_CLASSES[c] ?? `class ${c}`;
    return {
      file,
      label: ranked[0]!.c,
      className: name(ranked[0]!.c),
      probability: ranked[0]!.p,
      top: ranked.slice(0, 3).map(({ c, p }) => ({ className: name(c), probability: p })),
      inverted: images[i]!.inverted,
    };
  });
}
