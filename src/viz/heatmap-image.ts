// Static pictures of attention: a heatmap as PNG (pngjs) or SVG, and a
// heatmap laid over a grayscale image (a ViT's class-token attention or rollout).

import { PNG } from 'pngjs';
import { sequentialColor } from './colors.js';
import { escapeHtml } from './html.js';

export interface Heatmap {
  data: Float32Array;
  rows: number;
  cols: number;
}

function checkHeatmap({ data, rows, cols }: Heatmap, what: string): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`${what}: rows and cols must be positive integers, got ${rows} × ${cols}`);
  }
  if (data.length !== rows * cols) throw new Error(`${what}: ${rows} × ${cols} needs ${rows * cols} values, got ${data.length}`);
}

function maxOf(data: Float32Array): number {
  let m = 0;
  for (const v of data) if (v > m) m = v;
  return m > 0 ? m : 1;
}

/** A PNG of the heatmap, each cell `cell` pixels square, colour scaled to the maximum. */
export function heatmapPng(map: Heatmap, { cell = 8 } = {}): Buffer {
  checkHeatmap(map, 'heatmapPng');
  const max = maxOf(map.data);
  const png = new PNG({ width: map.cols * cell, height: map.rows * cell });
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const [r, g, b] = sequentialColor(map.data[Math.floor(y / cell) * map.cols + Math.floor(x / cell)] / max);
      const o = (y * png.width + x) * 4;
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** An SVG heatmap with row and column labels (labels are escaped text). */
export function heatmapSvg(map: Heatmap, labels: { rows?: string[]; cols?: string[]; title?: string } = {}, { cell = 14 } = {}): string {
  checkHeatmap(map, 'heatmapSvg');
  const max = maxOf(map.data);
  const left = labels.rows ? 90 : 4;
  const top = (labels.cols ? 90 : 4) + (labels.title ? 20 : 0);
  const width = Math.max(left + map.cols * cell + 4, labels.title ? 8 * labels.title.length : 0);
  const height = top + map.rows * cell + 4;
  const parts: string[] = [];
  if (labels.title) parts.push(`<text x="4" y="14" font-size="13">${escapeHtml(labels.title)}</text>`);
  for (let i = 0; i < map.rows; i++) {
    for (let j = 0; j < map.cols; j++) {
      const v = map.data[i * map.cols + j];
      const [r, g, b] = sequentialColor(v / max);
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${r},${g},${b})"><title>${v.toFixed(4)}</title></rect>`,
      );
    }
  }
  labels.rows?.forEach((text, i) => {
    parts.push(`<text x="${left - 4}" y="${top + i * cell + cell * 0.75}" font-size="10" text-anchor="end">${escapeHtml(text)}</text>`);
  });
  labels.cols?.forEach((text, j) => {
    const x = left + j * cell + cell * 0.7;
    parts.push(`<text transform="translate(${x},${top - 4}) rotate(-60)" font-size="10">${escapeHtml(text)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">${parts.join('')}</svg>`;
}

/**
 * The image (grayscale, values in [0, 1], height × width) with a heatmap over
 * it: the grid is upsampled to the image by nearest cell and blended at `alpha`.
 */
export function overlayPng(
  image: { data: ArrayLike<number>; height: number; width: number },
  map: Heatmap,
  { scale = 8, alpha = 0.55 } = {},
): Buffer {
  checkHeatmap(map, 'overlayPng');
  if (image.data.length !== image.height * image.width) {
    throw new Error(
      `overlayPng: image ${image.height} × ${image.width} needs ${image.height * image.width} values, got ${image.data.length}`,
    );
  }
  const max = maxOf(map.data);
  const png = new PNG({ width: image.width * scale, height: image.height * scale });
  for (let y = 0; y < png.height; y++) {
    const iy = Math.floor(y / scale);
    const my = Math.min(map.rows - 1, Math.floor((iy * map.rows) / image.height));
    for (let x = 0; x < png.width; x++) {
      const ix = Math.floor(x / scale);
      const mx = Math.min(map.cols - 1, Math.floor((ix * map.cols) / image.width));
      const gray = Math.round(255 * Math.min(1, Math.max(0, image.data[iy * image.width + ix])));
      const [r, g, b] = sequentialColor(map.data[my * map.cols + mx] / max);
      const o = (y * png.width + x) * 4;
      png.data[o] = Math.round((1 - alpha) * gray + alpha * r);
      png.data[o + 1] = Math.round((1 - alpha) * gray + alpha * g);
      png.data[o + 2] = Math.round((1 - alpha) * gray + alpha * b);
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
