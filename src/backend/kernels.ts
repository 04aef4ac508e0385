// Every kernel a backend can provide, with its parameter object. Ops in
// src/ops allocate outputs and call these; a backend that lacks a kernel
// falls back to the js reference (both read the same heap, so this is free).
// Tensors passed here are contiguous and row-major.

import type { Tensor } from '../tensor/tensor.js';
import type { AttentionProblem, RotaryProblem } from './attention-schema.js';

/** Every unary op; the wasm kernels use the position in this list as the op code. */
export const UNARY_OPS = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'abs',
  'square',
  'tanh',
  'sigmoid',
  'relu',
  'gelu',
  'geluTanh',
  'silu',
  'addScalar',
  'mulScalar',
  'powScalar',
  'rsubScalar',
  'rdivScalar',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Every binary op; the position is the wasm op code. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'equal'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export interface MatmulParams {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** Element strides between consecutive batch matrices; 0 broadcasts one matrix. */
  batchStrideA: number;
  batchStrideB: number;
  /** A is stored [K, M] / B is stored [N, K]. */
  transA: boolean;
  transB: boolean;
  /** out += A·B instead of out = A·B. */
  accumulate: boolean;
}

/** Broadcast binary: out has outShape; a and b are read with these element strides (0 on broadcast dims). */
export interface BinaryParams {
  op: BinaryOp;
  outShape: readonly number[];
  stridesA: readonly number[];
  stridesB: readonly number[];
}

export interface UnaryParams {
  op: UnaryOp;
  /** The scalar of addScalar/mulScalar/powScalar/rsubScalar/rdivScalar. */
  alpha: number;
}

/** A reduction over the middle axis of a tensor viewed as [outer, axisSize, inner]. */
export interface AxisParams {
  outer: number;
  axisSize: number;
  inner: number;
}

export interface ReduceParams extends AxisParams {
  op: 'sum' | 'max';
}

/** out[i] = x[srcOffset + Σ idx_d·srcStrides_d] over the index space `shape`, written at dstOffset + Σ idx_d·dstStrides_d. */
export interface CopyParams {
  shape: readonly number[];
  srcStrides: readonly number[];
  srcOffset: number;
  dstStrides: readonly number[];
  dstOffset: number;
}

export interface NormParams {
  rows: number;
  cols: number;
  eps: number;
  /** RMSNorm: no mean subtraction, no beta. */
  rms: boolean;
}

export interface CrossEntropyParams {
  rows: number;
  classes: number;
  ignoreIndex: number;
  labelSmoothing: number;
}

export interface DropoutParams {
  p: number;
  seed: number;
}

/**
 * Scaled dot-product attention over q [B, H, Nq, D], k/v [B, Hk, keyCapacity, D]
 * (rows past keyLength unused: a KV cache), o [B, H, Nq, D], logSumExp [B, H, Nq].
 * The one definition of these parameters, and of the block a compiled kernel
 * reads, is src/backend/attention-schema.ts; masking semantics:
 * src/backend/js/attention.ts.
 */
export type AttentionParams = AttentionProblem<Tensor>;

/** Rotary position embedding over x [B, H, N, D]; cos/sin tables are [maxPositions, rotaryDim/2]. */
export type RotaryParams = RotaryProblem;

export interface KernelTable {
  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void;
  binary(a: Tensor, b: Tensor, out: Tensor, p: BinaryParams): void;
  unary(x: Tensor, out: Tensor, p: UnaryParams): void;
  /** dx = dy · f'(x), with y = f(x) given for the ops whose derivative reads it. */
  unaryGrad(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, p: UnaryParams): void;
  reduce(x: Tensor, out: Tensor, p: ReduceParams): void;
  copy(x: Tensor, out: Tensor, p: CopyParams): void;
  /** Softmax (or log-softmax) along the axis. */
  softmax(x: Tensor, out: Tensor, p: AxisParams & { log: boolean }): void;
  /** dx from y = softmax(x) (or log-softmax) and dy. */
  softmaxGrad(y: Tensor, dy: Tensor, dx: Tensor, p: AxisParams & { log: boolean }): void;
  /** Normalises rows; saves mean (unused by RMSNorm) and 1/σ per row for the backward. */
  norm(x: Tensor, gamma: Tensor, beta: Tensor | null, out: Tensor, mean: Tensor, rstd: Tensor, p: NormParams): void;
  normGrad(
    x: Tensor,
    gamma: Tensor,
    mean: Tensor,
    rstd: Tensor,
    dy: Tensor,
    dx: Tensor,
    dgamma: Tensor,
    dbeta: Tensor | null,
    p: NormParams,
  ): void;
  /** out[i, :] = weight[indices[i], :]. */
  embedding(weight: Tensor, indices: Tensor, out: Tensor): void;
  /** dweight[indices[i], :] += dy[i, :] (dweight zeroed by the caller). */
  embeddingGrad(indices: Tensor, dy: Tensor, dweight: Tensor): void;
  /** Per-row loss (0 on ignored rows) and dlogits for a unit upstream gradient on each row. */
  crossEntropy(logits: Tensor, targets: Tensor, loss: Tensor, dlogits: Tensor, p: CrossEntropyParams): void;
  /** out = x · keep / (1 − p), keep decided by dropoutKeep(seed, i). */
  dropout(x: Tensor, out: Tensor, p: DropoutParams): void;
  /** O and the row log-sum-exp (the backward's only saved statistic). */
  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, p: AttentionParams): void;
  /** dq, dk, dv (dk/dv summed over the query heads sharing a kv head). */
  attentionBackward(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    out: Tensor,
    logSumExp: Tensor,
    gradOut: Tensor,
    gradQ: Tensor,
    gradK: Tensor,
    gradV: Tensor,
    p: AttentionParams,
  ): void;
  /** The softmax probabilities [B, H, Nq, Nk] (before dropout), for pictures, from the forward's logSumExp. */
  attentionWeights(q: Tensor, k: Tensor, logSumExp: Tensor, weights: Tensor, p: AttentionParams): void;
  /** Forward for a few query rows against a long cache: split over keys, then merged. */
  attentionDecode(q: Tensor, k: Tensor, v: Tensor, out: Tensor, p: AttentionParams): void;
  rotary(x: Tensor, out: Tensor, cos: Tensor, sin: Tensor, positions: Tensor | null, p: RotaryParams): void;
}

export type KernelName = keyof KernelTable;

/**
 * The keep decision of dropout element i: a counter-based hash, so the same
 * (seed, i) gives the same mask in forward and backward on every backend.
 */
export function dropoutKeep(seed: number, index: number, p: number): boolean {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ index;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h = (h ^ (h >>> 16)) >>> 0;
  return h >= p * 4294967296;
}
