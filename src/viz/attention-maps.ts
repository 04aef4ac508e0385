// The data behind every attention picture: per layer, per head, a row-stochastic
// Nq × Nk matrix of attention weights, with labels for the query rows and key
// columns (tokens for text, patch positions for images).
//
// L layers · H heads · Nq query rows · Nk key columns

import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export type AttentionKind = 'self' | 'cross';

/** One layer's weights: heads[h] is Nq × Nk, row-major, with a label per query row and key column. */
export interface AttentionLayerMap {
  name: string;
  kind: AttentionKind;
  queryLength: number;
  keyLength: number;
  queryLabels: string[];
  keyLabels: string[];
  heads: Float32Array[];
}

export interface AttentionMaps {
  layers: AttentionLayerMap[];
  /** For images: the patch grid (rows × cols) and whether row 0 is a class token. */
  patchGrid?: { rows: number; cols: number; classToken: boolean };
}

export interface LayerWeights {
  name: string;
  kind?: AttentionKind;
  /** [B, H, Nq, Nk] or [H, Nq, Nk] attention weights, as a layer returns them. */
  weights: Tensor;
  /** Labels of this layer's rows and columns when they differ from the defaults (an encoder's source tokens beside a decoder's). */
  labels?: { query: string[]; key?: string[] };
}

/**
 * Gathers batch item `batchIndex` of each layer's weights into plain arrays
 * the renderers read. `labels` are the defaults: self-attention layers label
 * both sides with `query`; cross-attention layers label keys with `key`.
 */
export function attentionMapsFromWeights(
  layers: readonly LayerWeights[],
  labels: { query: string[]; key?: string[]; patchGrid?: AttentionMaps['patchGrid'] },
  batchIndex = 0,
): AttentionMaps {
  if (layers.length === 0) throw new Error('attentionMaps: no layers given');
  return { layers: layers.map((layer) => layerMap(layer, labels, batchIndex)), patchGrid: labels.patchGrid };
}

function layerMap(layer: LayerWeights, defaults: { query: string[]; key?: string[] }, batchIndex: number): AttentionLayerMap {
  const { shape } = layer.weights;
  if (shape.length !== 3 && shape.length !== 4) {
    throw new Error(`attentionMaps: layer '${layer.name}' weights must be [B, H, Nq, Nk] or [H, Nq, Nk], got ${formatShape(shape)}`);
  }
  const batch = shape.length === 4 ? shape[0] : 1;
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= batch) {
    throw new Error(`attentionMaps: batch index ${batchIndex} is outside the batch of ${batch}`);
  }
  const [numHeads, nq, nk] = shape.slice(-3);
  const kind = layer.kind ?? 'self';
  const queryLabels = layer.labels?.query ?? defaults.query;
  const keyLabels = layer.labels?.key ?? (kind === 'cross' ? (defaults.key ?? defaults.query) : queryLabels);
  if (queryLabels.length !== nq || keyLabels.length !== nk) {
    throw new Error(
      `attentionMaps: ${kind}-attention layer '${layer.name}' is ${nq} × ${nk}, labels given for ${queryLabels.length} × ${keyLabels.length}`,
    );
  }
  const all = layer.weights.toArray();
  const per = nq * nk;
  const heads: Float32Array[] = [];
  for (let h = 0; h < numHeads; h++) {
    const start = (batchIndex * numHeads + h) * per;
    heads.push(Float32Array.from(all.subarray(start, start + per)));
  }
  return { name: layer.name, kind, queryLength: nq, keyLength: nk, queryLabels, keyLabels, heads };
}

/** The mean over heads of one layer: Nq × Nk. */
export function meanOverHeads(layer: AttentionLayerMap): Float32Array {
  const out = new Float32Array(layer.queryLength * layer.keyLength);
  for (const head of layer.heads) for (let i = 0; i < out.length; i++) out[i] += head[i];
  for (let i = 0; i < out.length; i++) out[i] /= layer.heads.length;
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema, 2020): average the heads, mix in the
 * residual path as A' = (1 − r)·A + r·I, renormalise each row, and multiply
 * the layers from the input up: R = A'_L · … · A'_1. Row i of R says how much
 * output position i draws on each input position through every layer.
 */
export function attentionRollout(layers: readonly AttentionLayerMap[], { residual = 0.5 } = {}): Float32Array {
  const selfLayers = layers.filter((l) => l.kind === 'self');
  if (selfLayers.length === 0) throw new Error('attentionRollout: needs at least one self-attention layer');
  const n = selfLayers[0].queryLength;
  for (const l of selfLayers) {
    if (l.queryLength !== n || l.keyLength !== n) {
      throw new Error(`attentionRollout: layer '${l.name}' is ${l.queryLength} × ${l.keyLength}; every layer must be ${n} × ${n}`);
    }
  }
  let rolled: Float64Array | null = null;
  for (const layer of selfLayers) {
    const mixed = withResidual(meanOverHeads(layer), n, residual);
    rolled = rolled ? matmulSquare(mixed, rolled, n) : mixed;
  }
  return Float32Array.from(rolled as Float64Array);
}

function withResidual(a: Float32Array, n: number, residual: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = (1 - residual) * a[i * n + j] + (i === j ? residual : 0);
      out[i * n + j] = v;
      sum += v;
    }
    if (sum > 0) for (let j = 0; j < n; j++) out[i * n + j] /= sum;
  }
  return out;
}

function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/**
 * For a ViT with a class token at row 0: the class token's attention to each
 * patch (dropping the class column), as a rows × cols grid, from one matrix
 * (a head, a head mean or a rollout).
 */
export function classTokenToPatches(matrix: Float32Array, grid: { rows: number; cols: number }): Float32Array {
  const numPatches = grid.rows * grid.cols;
  const n = numPatches + 1;
  if (matrix.length !== n * n) {
    throw new Error(
      `classTokenToPatches: expected a ${n} × ${n} matrix (class token + ${numPatches} patches), got ${matrix.length} entries`,
    );
  }
  return Float32Array.from(matrix.subarray(1, n));
}

/**
 * Max-pools an Nq × Nk matrix down to at most maxRows × maxCols cells, so a
 * long input (N ≥ 2,048) has a readable overview; max keeps sharp peaks visible.
 */
export function downsampleMax(
  matrix: Float32Array,
  rows: number,
  cols: number,
  maxRows: number,
  maxCols: number,
): { data: Float32Array; rows: number; cols: number; rowStep: number; colStep: number } {
  const rowStep = Math.max(1, Math.ceil(rows / maxRows));
  const colStep = Math.max(1, Math.ceil(cols / maxCols));
  const outRows = Math.ceil(rows / rowStep);
  const outCols = Math.ceil(cols / colStep);
  const data = new Float32Array(outRows * outCols);
  for (let i = 0; i < rows; i++) {
    const oi = Math.floor(i / rowStep);
    for (let j = 0; j < cols; j++) {
      const o = oi * outCols + Math.floor(j / colStep);
      const v = matrix[i * cols + j];
      if (v > data[o]) data[o] = v;
    }
  }
  return { data, rows: outRows, cols: outCols, rowStep, colStep };
}
