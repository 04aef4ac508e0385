// The attention page: one self-contained HTML file with a head view, a model
// view (layer × head), a zoomable heatmap, and for images the class token's
// attention and the rollout over the input. Weights travel as uint8 (each
// matrix scaled to its own maximum) in base64, with max-pooled overviews of at
// most OVERVIEW × OVERVIEW cells, so N ≥ 2,048 stays a few megabytes.

import { type AttentionMaps, attentionRollout, classTokenToPatches, downsampleMax, meanOverHeads } from './attention-maps.js';
import { ATTENTION_PAGE_SCRIPT } from './attention-page-script.js';
import { HEAD_COLORS, sequentialColor } from './colors.js';
import { escapeHtml, renderPage } from './html.js';

const OVERVIEW = 256;
/** Full-resolution cells stored in the page, over all layers and heads; beyond it only overviews (and head means). */
const FULL_CELL_BUDGET = 24 * 1024 * 1024;
const HEAD_VIEW_LIMIT = 160;

export interface AttentionPageOptions {
  title?: string;
  /** For images: grayscale pixels in [0, 1], height × width, drawn under the class-token maps. */
  image?: { data: ArrayLike<number>; height: number; width: number };
}

function quantize(m: Float32Array): Uint8Array {
  let max = 0;
  for (const v of m) if (v > max) max = v;
  const out = new Uint8Array(m.length);
  if (max > 0) for (let i = 0; i < m.length; i++) out[i] = Math.round((255 * Math.max(0, m[i])) / max);
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function pageLayers(maps: AttentionMaps) {
  const totalCells = maps.layers.reduce((n, l) => n + l.queryLength * l.keyLength * (l.heads.length + 1), 0);
  const storeFull = totalCells <= FULL_CELL_BUDGET;
  return maps.layers.map((layer) => {
    const matrices = [...layer.heads, meanOverHeads(layer)];
    const mean = matrices.length - 1;
    return {
      name: layer.name,
      kind: layer.kind,
      queryLength: layer.queryLength,
      keyLength: layer.keyLength,
      queryLabels: layer.queryLabels,
      keyLabels: layer.keyLabels,
      maxes: matrices.map((m) => m.reduce((a, b) => Math.max(a, b), 0)),
      overviews: matrices.map((m) => {
        const o = downsampleMax(m, layer.queryLength, layer.keyLength, OVERVIEW, OVERVIEW);
        return { rows: o.rows, cols: o.cols, data: base64(quantize(o.data)) };
      }),
      full: matrices.map((m, k) =>
        storeFull || (k === mean && layer.queryLength * layer.keyLength <= FULL_CELL_BUDGET / maps.layers.length)
          ? base64(quantize(m))
          : null,
      ),
    };
  });
}

function imageOverlays(maps: AttentionMaps): Record<string, { rows: number; cols: number; data: string }> {
  const grid = maps.patchGrid;
  if (!grid?.classToken) return {};
  const overlays: Record<string, { rows: number; cols: number; data: string }> = {};
  const add = (name: string, matrix: Float32Array) => {
    overlays[name] = { rows: grid.rows, cols: grid.cols, data: base64(quantize(classTokenToPatches(matrix, grid))) };
  };
  const selfLayers = maps.layers.filter((l) => l.kind === 'self');
  if (selfLayers.length > 0) add('rollout over all layers', attentionRollout(selfLayers));
  const last = selfLayers[selfLayers.length - 1];
  if (last) {
    add(`class token, ${last.name}, mean over heads`, meanOverHeads(last));
    for (const [i, h] of last.heads.entries()) add(`class token, ${last.name}, head ${i}`, h);
  }
  return overlays;
}

/** Renders the maps as one self-contained HTML page (no network, data inlined). */
export function renderAttentionHtml(maps: AttentionMaps, options: AttentionPageOptions = {}): string {
  const title = options.title ?? 'Attention maps';
  const ramp = Array.from({ length: 256 }, (_, i) => sequentialColor(i / 255));
  const image = options.image && maps.patchGrid?.classToken ? pageImage(options.image, maps) : null;
  const data = {
    headColors: HEAD_COLORS,
    ramp,
    headViewLimit: HEAD_VIEW_LIMIT,
    layers: pageLayers(maps),
    image,
  };
  const body = `
<h1>${escapeHtml(title)}</h1>
<p class="muted">${maps.layers.length} attention layers, ${maps.layers[0].heads.length} heads, ${describeSizes(maps)}. Colours scale each matrix to its own maximum.</p>
<div class="controls"><label>Layer <select id="layer"></select></label><span id="heads"></span></div>
<h2>Head view</h2><p class="muted">Each query token (left) is linked to the tokens it attends to (right); line weight is the attention weight, one colour per head. Toggle heads above.</p>
<p id="head-view-note" class="muted"></p><canvas id="head-view"></canvas>
<h2>Model view</h2><p class="muted">Rows are layers, columns heads; click a map to open it below.</p>
<div id="model-view" class="grid"></div>
<h2>Heatmap</h2><div class="controls"><label>Show <select id="detail-head"></select></label></div>
<canvas id="detail" style="border:1px solid #ccc;cursor:crosshair"></canvas><p id="detail-caption" class="muted"></p><p id="detail-hover"></p>
${image ? '<h2>Over the image</h2><div class="controls"><label>Map <select id="image-map"></select></label></div><canvas id="image-view"></canvas>' : ''}`;
  return renderPage({
    title,
    style:
      '.grid { display: grid; gap: 4px; align-items: center; justify-content: start; } canvas.thumb { cursor: pointer; border: 1px solid #ddd; }',
    body,
    data: { attention: data },
    scripts: [ATTENTION_PAGE_SCRIPT],
  });
}

function pageImage(image: NonNullable<AttentionPageOptions['image']>, maps: AttentionMaps) {
  if (image.data.length !== image.height * image.width) {
    throw new Error(
      `renderAttentionHtml: image ${image.height} × ${image.width} needs ${image.height * image.width} values, got ${image.data.length}`,
    );
  }
  const pixels = new Uint8Array(image.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(255 * Math.min(1, Math.max(0, image.data[i])));
  return { width: image.width, height: image.height, pixels: base64(pixels), overlays: imageOverlays(maps) };
}

function describeSizes(maps: AttentionMaps): string {
  const sizes = [...new Set(maps.layers.map((l) => `${l.queryLength} × ${l.keyLength}`))];
  return `${sizes.join(', ')} (query positions × keys)`;
}
