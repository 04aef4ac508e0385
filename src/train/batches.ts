// A resumable data order: each epoch is a seeded permutation of the
// example indices (Fisher-Yates over the library's Rng, seeded by the
// seed and the epoch), cut into batches. The state (seed, epoch, position)
// is three numbers, so a checkpoint resumes the order exactly.

import { Rng } from '../tensor/random.js';

/** Batches a Trainer pulls, one at a time, with a state a checkpoint can hold. */
export interface BatchSource<B> {
  next(): B;
  /** Plain JSON describing where the order stands. */
  state(): unknown;
  setState(state: unknown): void;
}

export interface DataOrderState {
  seed: number;
  epoch: number;
  /** Index of the next example in this epoch's permutation. */
  position: number;
}

export interface ShuffledBatchesOptions {
  batchSize: number;
  seed?: number;
  /** Shuffle each epoch (default true); false keeps file order. */
  shuffle?: boolean;
}

/** Index batches over `count` examples; the last, partial batch of an epoch is dropped. */
export class ShuffledBatches implements BatchSource<Int32Array> {
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private seed: number;
  private epoch = 0;
  private position = 0;
  private order: Int32Array;

  constructor(
    readonly count: number,
    options: ShuffledBatchesOptions,
  ) {
    const { batchSize, seed = 0, shuffle = true } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`ShuffledBatches: batchSize must be an integer ≥ 1, got ${batchSize}`);
    if (count < batchSize) throw new Error(`ShuffledBatches: ${count} examples do not fill one batch of ${batchSize}`);
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed >>> 0;
    this.order = this.permutation(0);
  }

  /** Full batches per epoch. */
  get batchesPerEpoch(): number {
    return Math.floor(this.count / this.batchSize);
  }

  /** Epochs completed plus the fraction of the current one. */
  get epochs(): number {
    return this.epoch + this.position / this.count;
  }

  next(): Int32Array {
    if (this.position + this.batchSize > this.count) {
      this.epoch++;
      this.position = 0;
      this.order = this.permutation(this.epoch);
    }
    const batch = this.order.slice(this.position, this.position + this.batchSize);
    this.position += this.batchSize;
    return batch;
  }

  state(): DataOrderState {
    return { seed: this.seed, epoch: this.epoch, position: this.position };
  }

  setState(state: unknown): void {
    const s = state as Partial<DataOrderState> | null;
    if (!s || ![s.seed, s.epoch, s.position].every((v) => Number.isInteger(v) && (v as number) >= 0) || s.position! > this.count) {
      throw new Error(`ShuffledBatches: bad state ${JSON.stringify(state)} (expected { seed, epoch, position ≤ ${this.count} })`);
    }
    this.seed = s.seed!;
    this.epoch = s.epoch!;
    this.position = s.position!;
    this.order = this.permutation(this.epoch);
  }

  private permutation(epoch: number): Int32Array {
    const order = new Int32Array(this.count);
    for (let i = 0; i < this.count; i++) order[i] = i;
    if (!this.shuffle) return order;
    const rng = new Rng((this.seed + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
    for (let i = this.count - 1; i > 0; i--) {
      const j = rng.nextU32() % (i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  }
}
