// Absolute position encodings added to token vectors x [B, N, dim]:
//   sinusoidal (Vaswani et al. 2017): PE[p, 2i] = sin(p·10000^(−2i/dim)), PE[p, 2i+1] = cos(same)
//   learned: a trained table [maxLength, dim] (BERT, ViT)
// Relative schemes (RoPE, ALiBi) act on the scores inside MultiHeadAttention.

import { add } from '../ops/binary.js';
import { slice } from '../ops/shape.js';
import { randn } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import { keep } from '../tensor/scope.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { type InitOptions, Module } from './module.js';

/** Where a model puts position information. */
export type PositionKind = 'none' | 'sinusoidal' | 'learned' | 'rope' | 'alibi';

export const POSITION_KINDS: readonly PositionKind[] = ['none', 'sinusoidal', 'learned', 'rope', 'alibi'];

export function checkPositionKind(kind: string, where: string): PositionKind {
  if (!(POSITION_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`${where}: position must be one of ${POSITION_KINDS.map((k) => `'${k}'`).join(', ')}, got '${kind}'`);
  }
  return kind as PositionKind;
}

/** The sinusoidal table [length, dim], computed in float64. */
export function sinusoidalTable(length: number, dim: number, dtype: DType = 'float32'): Tensor {
  const t = Tensor.empty([length, dim], dtype);
  const v = t.view();
  for (let p = 0; p < length; p++) {
    for (let i = 0; 2 * i < dim; i++) {
      const angle = p * 10000 ** ((-2 * i) / dim);
      v[p * dim + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < dim) v[p * dim + 2 * i + 1] = Math.cos(angle);
    }
  }
  return t;
}

/** Adds the fixed sinusoidal table; nothing trained, nothing saved. */
export class SinusoidalPositionalEncoding extends Module {
  private table: Tensor | null = null;

  constructor(
    readonly dim: number,
    private readonly dtype: DType = 'float32',
  ) {
    super();
  }

  /** x [B, N, dim] → x + PE[offset : offset + N]. */
  forward(x: Tensor, offset = 0): Tensor {
    checkTokens('SinusoidalPositionalEncoding', x, this.dim);
    const needed = offset + x.shape[1];
    if (!this.table || this.table.shape[0] < needed) {
      this.table?.dispose();
      this.table = keep(sinusoidalTable(Math.max(64, 2 ** Math.ceil(Math.log2(needed))), this.dim, this.dtype));
    }
    return add(x, slice(this.table, [offset, 0], [x.shape[1], this.dim]));
  }

  override dispose(): void {
    this.table?.dispose();
    this.table = null;
  }
}

/** A trained table of maxLength positions. */
export class LearnedPositionalEmbedding extends Module {
  readonly weight: Tensor;

  constructor(
    readonly maxLength: number,
    readonly dim: number,
    options: InitOptions & { std?: number } = {},
  ) {
    super();
    if (!Number.isInteger(maxLength) || maxLength <= 0) {
      throw new Error(`LearnedPositionalEmbedding: maxLength must be a positive integer, got ${maxLength}`);
    }
    const init = randn([maxLength, dim], { seed: options.seed, dtype: options.dtype, std: options.std ?? 0.02 });
    this.weight = this.registerParameter('weight', init, 'embedding');
  }

  /** x [B, N, dim] → x + W[offset : offset + N]. */
  forward(x: Tensor, offset = 0): Tensor {
    checkTokens('LearnedPositionalEmbedding', x, this.dim);
    const n = x.shape[1];
    if (offset + n > this.maxLength) {
      throw new Error(`LearnedPositionalEmbedding: positions ${offset}..${offset + n - 1} exceed maxLength ${this.maxLength}`);
    }
    const rows = offset === 0 && n === this.maxLength ? this.weight : slice(this.weight, [offset, 0], [n, this.dim]);
    return add(x, rows);
  }
}

function checkTokens(layer: string, x: Tensor, dim: number): void {
  if (x.rank !== 3 || x.shape[2] !== dim) throw new Error(`${layer}: input must be [batch, seq, ${dim}], got ${formatShape(x.shape)}`);
}

/** The absolute encoding module for a position kind, or null for the relative kinds and 'none'. */
export function createAbsolutePosition(
  kind: PositionKind,
  dim: number,
  maxLength: number | undefined,
  options: InitOptions,
  where: string,
): SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null {
  if (kind === 'sinusoidal') return new SinusoidalPositionalEncoding(dim, options.dtype);
  if (kind === 'learned') {
    if (maxLength === undefined) throw new Error(`${where}: position 'learned' needs maxLength`);
    return new LearnedPositionalEmbedding(maxLength, dim, options);
  }
  return null;
}
