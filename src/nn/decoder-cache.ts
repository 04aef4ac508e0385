// The decoding state of a transformer decoder: per layer, the self-attention
// KV cache (grows by one row per step) and the cross-attention keys/values
// projected once from the encoder memory.

import type { KVCache } from '../ops/kv-cache.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { ProjectedKeyValue } from './attention.js';

export class DecoderCache {
  readonly layers: Array<{ self: KVCache; cross: ProjectedKeyValue | null }>;

  constructor(selfCaches: KVCache[]) {
    this.layers = selfCaches.map((self) => ({ self, cross: null }));
  }

  /** Target positions decoded so far. */
  get length(): number {
    return this.layers[0]?.self.length ?? 0;
  }

  get batch(): number {
    return this.layers[0]?.self.options.batch ?? 0;
  }

  /**
   * Beam search: row b of every cached tensor becomes old row indices[b]
   * (indices.length = batch; rows may repeat).
   */
  reorder(indices: ArrayLike<number>): void {
    const batch = this.batch;
    if (indices.length !== batch) throw new Error(`DecoderCache.reorder: expected ${batch} indices, got ${indices.length}`);
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b] as number;
      if (!Number.isInteger(i) || i < 0 || i >= batch)
        throw new Error(`DecoderCache.reorder: index ${i} at ${b} is out of range [0, ${batch})`);
    }
    for (const layer of this.layers) {
      for (const t of [layer.self.keys, layer.self.values, layer.cross?.key, layer.cross?.value]) if (t) gatherRows(t, indices);
    }
  }

  clear(): void {
    for (const layer of this.layers) layer.self.clear();
  }

  dispose(): void {
    for (const layer of this.layers) {
      layer.self.dispose();
      layer.cross?.key.dispose();
      layer.cross?.value.dispose();
      layer.cross = null;
    }
  }
}

/** In place: t[b] = old t[indices[b]] along the first axis. */
function gatherRows(t: Tensor, indices: ArrayLike<number>): void {
  if (!(t instanceof Tensor) || t.rank < 1) throw new Error(`DecoderCache.reorder: cannot reorder ${formatShape(t.shape)}`);
  const v = t.view();
  const row = t.size / (t.shape[0] as number);
  const old = v.slice();
  for (let b = 0; b < indices.length; b++) v.set(old.subarray((indices[b] as number) * row, ((indices[b] as number) + 1) * row), b * row);
}
