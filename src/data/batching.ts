// Sequence-to-sequence batches: padding, masks and teacher-forcing inputs
// (collate), and a resumable, length-bucketed batch order (BucketedBatches):
// each epoch shuffles the pairs with a seeded permutation, sorts pools of
// `poolBatches` batches by length so a batch holds sentences of similar
// length (little padding), and shuffles the batches. The state is three
// numbers, so a checkpoint resumes the order exactly.
//
// Layout: B sentences · Ns source length · Nt target length (after padding).

import { Rng } from '../tensor/random.js';

export interface EncodedPair {
  source: readonly number[];
  target: readonly number[];
}

export interface SpecialIds {
  padId: number;
  bosId: number;
  eosId: number;
  /** Label at padded target positions, skipped by the loss (default -100). */
  ignoreIndex?: number;
}

export interface Seq2SeqBatch {
  size: number;
  srcLength: number;
  tgtLength: number;
  /** [B, Ns] source ids + </s>, padded. */
  src: Int32Array;
  /** [B, Ns] 1 at real source tokens, 0 at padding. */
  srcMask: Uint8Array;
  /** [B, Nt] decoder input: <s> + target, padded. */
  tgtIn: Int32Array;
  /** [B, Nt] labels: target + </s>, ignoreIndex at padding. */
  tgtOut: Int32Array;
  /** [B, Nt] 1 at real decoder inputs. */
  tgtMask: Uint8Array;
  /** Real (non-pad) label tokens. */
  tgtTokens: number;
  srcTokens: number;
  /** Example indices of the rows. */
  indices: Int32Array;
}

/** Pads ids into [B, N] with a keep-mask (1 = real token). */
export function padSequences(
  sequences: ReadonlyArray<readonly number[]>,
  padId: number,
): { ids: Int32Array; mask: Uint8Array; length: number } {
  const length = sequences.reduce((m, s) => Math.max(m, s.length), 0);
  const ids = new Int32Array(sequences.length * length).fill(padId);
  const mask = new Uint8Array(sequences.length * length);
  sequences.forEach((s, b) => {
    ids.set(s, b * length);
    mask.fill(1, b * length, b * length + s.length);
  });
  return { ids, mask, length };
}

/** Builds one padded batch; sources get </s>, decoder inputs start with <s>, labels end with </s>. */
export function collate(pairs: readonly EncodedPair[], ids: SpecialIds, indices?: ArrayLike<number>): Seq2SeqBatch {
  if (pairs.length === 0) throw new Error('collate: expected at least one pair, got none');
  const ignore = ids.ignoreIndex ?? -100;
  const src = padSequences(
    pairs.map((p) => [...p.source, ids.eosId]),
    ids.padId,
  );
  const tgtIn = padSequences(
    pairs.map((p) => [ids.bosId, ...p.target]),
    ids.padId,
  );
  const tgtOut = padSequences(
    pairs.map((p) => [...p.target, ids.eosId]),
    ignore,
  );
  let tgtTokens = 0;
  let srcTokens = 0;
  for (const p of pairs) {
    tgtTokens += p.target.length + 1;
    srcTokens += p.source.length + 1;
  }
  return {
    size: pairs.length,
    srcLength: src.length,
    tgtLength: tgtIn.length,
    src: src.ids,
    srcMask: src.mask,
    tgtIn: tgtIn.ids,
    tgtOut: tgtOut.ids,
    tgtMask: tgtIn.mask,
    tgtTokens,
    srcTokens,
    indices: Int32Array.from(indices ?? pairs.map((_, i) => i)),
  };
}

export interface BucketedBatchesOptions extends SpecialIds {
  batchSize: number;
  seed?: number;
  /** Batches per length-sorted pool (default 50); 1 disables bucketing. */
  poolBatches?: number;
}

export interface BucketedState {
  seed: number;
  epoch: number;
  /** Next batch of this epoch. */
  position: number;
}

/** A resumable, length-bucketed order of padded batches over encoded pairs (a Trainer BatchSource). */
export class BucketedBatches {
  readonly batchSize: number;
  private readonly poolBatches: number;
  private seed: number;
  private epoch = 0;
  private position = 0;
  private batches: Int32Array[];

  constructor(
    readonly pairs: readonly EncodedPair[],
    readonly options: BucketedBatchesOptions,
  ) {
    const { batchSize, seed = 0, poolBatches = 50 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`BucketedBatches: batchSize must be an integer ≥ 1, got ${batchSize}`);
    if (pairs.length < batchSize) throw new Error(`BucketedBatches: ${pairs.length} pairs do not fill one batch of ${batchSize}`);
    this.batchSize = batchSize;
    this.poolBatches = Math.max(1, poolBatches);
    this.seed = seed >>> 0;
    this.batches = this.epochBatches(0);
  }

  get batchesPerEpoch(): number {
    return this.batches.length;
  }

  /** Epochs done plus the fraction of the current one. */
  get epochs(): number {
    return this.epoch + this.position / this.batches.length;
  }

  next(): Seq2SeqBatch {
    if (this.position >= this.batches.length) {
      this.epoch++;
      this.position = 0;
      this.batches = this.epochBatches(this.epoch);
    }
    const rows = this.batches[this.position++];
    return collate(
      Array.from(rows, (i) => this.pairs[i]),
      this.options,
      rows,
    );
  }

  state(): BucketedState {
    return { seed: this.seed, epoch: this.epoch, position: this.position };
  }

  setState(state: unknown): void {
    const s = state as Partial<BucketedState> | null;
    const ok = s && [s.seed, s.epoch, s.position].every((v) => Number.isInteger(v) && (v as number) >= 0);
    if (!ok) throw new Error(`BucketedBatches: bad state ${JSON.stringify(state)} (expected { seed, epoch, position })`);
    this.seed = s.seed!;
    this.epoch = s.epoch!;
    this.batches = this.epochBatches(this.epoch);
    if (s.position! > this.batches.length)
      throw new Error(`BucketedBatches: position ${s.position} is past the ${this.batches.length} batches of an epoch`);
    this.position = s.position!;
  }

  /** Seeded permutation → pools sorted by length → full batches → shuffled batch order. */
  private epochBatches(epoch: number): Int32Array[] {
    const n = this.pairs.length;
    const rng = new Rng((this.seed + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    shuffle(order, rng);
    const length = (i: number) => Math.max(this.pairs[i].source.length, this.pairs[i].target.length);
    const poolSize = this.batchSize * this.poolBatches;
    const batches: Int32Array[] = [];
    for (let start = 0; start + this.batchSize <= n; start += poolSize) {
      const pool = Array.from(order.subarray(start, Math.min(n, start + poolSize)));
      if (this.poolBatches > 1) pool.sort((a, b) => length(a) - length(b) || a - b);
      for (let b = 0; b + this.batchSize <= pool.length; b += this.batchSize)
        batches.push(Int32Array.from(pool.slice(b, b + this.batchSize)));
    }
    shuffle(batches, rng);
    return batches;
  }
}

function shuffle<T>(items: { length: number; [i: number]: T }, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}
