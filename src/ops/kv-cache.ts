// A key/value cache for token-by-token decoding: keys and values live in
// buffers [B, Hk, capacity, D] that grow by doubling, so appending n rows
// costs O(n) amortised copies and attention reads the cache in place.

import { kernelFor } from '../backend/backend.js';
import { assertDType, type DType } from '../tensor/dtype.js';
import { keep } from '../tensor/scope.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { type AttentionOptions, attentionAgainstCache } from './attention.js';
import { checkFinite, checkInputs, checkOptions, optionKeys } from './checks.js';

export interface KVCacheOptions {
  batch: number;
  numKvHeads: number;
  headDim: number;
  /** Initial rows per (batch, head); grows as needed. Default 256. */
  capacity?: number;
  dtype?: DType;
}

const KEYS = optionKeys<KVCacheOptions>({ batch: true, numKvHeads: true, headDim: true, capacity: true, dtype: true });
const REQUIRED = ['batch', 'numKvHeads', 'headDim'] as const;

export class KVCache {
  keys: Tensor;
  values: Tensor;
  private rows = 0;

  constructor(readonly options: KVCacheOptions) {
    const usage = 'new KVCache({ batch, numKvHeads, headDim, capacity?, dtype? })';
    if (options === undefined) throw new Error(`KVCache: options are required: ${usage}`);
    checkOptions('KVCache', options, KEYS);
    const missing = REQUIRED.filter((k) => options[k] === undefined);
    if (missing.length > 0)
      throw new Error(`KVCache: missing required option${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: ${usage}`);
    for (const k of [...REQUIRED, 'capacity'] as const) {
      const n = options[k];
      if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new Error(`KVCache: ${k} must be a positive integer, got ${n}`);
    }
    if (options.dtype !== undefined) assertDType(options.dtype, 'KVCache');
    const capacity = options.capacity ?? 256;
    this.keys = this.buffer(capacity);
    this.values = this.buffer(capacity);
  }

  /** Rows cached per (batch, head). */
  get length(): number {
    return this.rows;
  }

  get capacity(): number {
    return this.keys.shape[2];
  }

  /** Appends k, v [B, Hk, n, D] after the rows already cached. */
  append(k: Tensor, v: Tensor): void {
    checkInputs('KVCache.append', { key: k, value: v });
    const { batch, numKvHeads, headDim } = this.options;
    for (const [name, t] of [
      ['key', k],
      ['value', v],
    ] as const) {
      if (t.rank !== 4 || t.shape[0] !== batch || t.shape[1] !== numKvHeads || t.shape[3] !== headDim || t.shape[2] !== k.shape[2]) {
        throw new Error(`KVCache.append: ${name} must be [${batch}, ${numKvHeads}, n, ${headDim}], got ${formatShape(t.shape)}`);
      }
    }
    checkFinite('KVCache.append', { key: k, value: v });
    const n = k.shape[2];
    if (this.rows + n > this.capacity) this.grow(Math.max(this.rows + n, 2 * this.capacity));
    this.copyRows(k, this.keys, this.rows);
    this.copyRows(v, this.values, this.rows);
    this.rows += n;
  }

  /** Attention of q [B, H, n, D] to everything cached (append this step's keys first). */
  attend(q: Tensor, options: AttentionOptions = {}): Tensor {
    if (this.rows === 0) {
      throw new Error(`KVCache.attend: the cache is empty; append this step's keys and values first (cache.append(k, v)), then attend`);
    }
    return attentionAgainstCache(q, this.keys, this.values, this.rows, options);
  }

  /** Forgets the cached rows, keeping the buffers. */
  clear(): void {
    this.rows = 0;
  }

  dispose(): void {
    this.keys.dispose();
    this.values.dispose();
  }

  private buffer(capacity: number): Tensor {
    const { batch, numKvHeads, headDim, dtype = 'float32' } = this.options;
    return keep(Tensor.empty([batch, numKvHeads, capacity, headDim], dtype));
  }

  /** Copies src [B, Hk, n, D] into rows [at, at + n) of dst [B, Hk, capacity, D]. */
  private copyRows(src: Tensor, dst: Tensor, at: number): void {
    const [B, Hk, n, D] = src.shape;
    const cap = dst.shape[2];
    kernelFor('copy', [src])(src, dst, {
      shape: [B * Hk, n, D],
      srcStrides: [n * D, D, 1],
      srcOffset: 0,
      dstStrides: [cap * D, D, 1],
      dstOffset: at * D,
    });
  }

  private grow(capacity: number): void {
    const keys = this.buffer(capacity);
    const values = this.buffer(capacity);
    if (this.rows > 0) {
      const used = (t: Tensor) => {
        const [B, Hk, , D] = t.shape;
        return { B, Hk, D };
      };
      const { B, Hk, D } = used(this.keys);
      for (const [from, to] of [
        [this.keys, keys],
        [this.values, values],
      ] as const) {
        kernelFor('copy', [from])(from, to, {
          shape: [B * Hk, this.rows, D],
          srcStrides: [this.capacity * D, D, 1],
          srcOffset: 0,
          dstStrides: [capacity * D, D, 1],
          dstOffset: 0,
        });
      }
    }
    this.keys.dispose();
    this.values.dispose();
    this.keys = keys;
    this.values = values;
  }
}
