// Trains a BpeTokenizer: count the pre-split chunks, start from their
// characters (characters rarer than minCharFrequency fall back to bytes and
// never merge), then repeatedly merge the most frequent adjacent pair.
// Pair counts are kept incrementally (only the chunks holding the merged pair
// are revisited) and the best pair comes from a max-heap with lazy updates,
// so training on ~50k sentences takes a second or two.

import { BpeTokenizer, type BpeTokenizerJSON, DEFAULT_SPECIALS, PRE_SPLIT } from './tokenizer.js';

export interface TrainBpeOptions {
  /** Total vocabulary including specials and the 256 bytes (default 8000). */
  vocabSize?: number;
  /** A character must occur this often to get its own piece (default 2); rarer ones are bytes. */
  minCharFrequency?: number;
  /** Stop merging when the best pair occurs fewer times (default 2). */
  minPairFrequency?: number;
  /** Special tokens; the first three are pad, bos, eos (default <pad> <s> </s>). */
  specials?: string[];
}

/** Binary max-heap of [count, key]; ties broken by the smaller key, so training is deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.counts.length && this.above(l, m)) m = l;
        if (r < this.counts.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

const KEY_BASE = 0x100000;

export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions = {}): BpeTokenizer {
  const vocabSize = options.vocabSize ?? 8000;
  const minChar = options.minCharFrequency ?? 2;
  const minPair = options.minPairFrequency ?? 2;
  const specials = options.specials ?? [...DEFAULT_SPECIALS];
  const pieceBase = specials.length + 256;
  if (vocabSize < pieceBase) throw new Error(`trainBpe: vocabSize ${vocabSize} is below the ${pieceBase} specials and bytes`);
  if (vocabSize >= KEY_BASE) throw new Error(`trainBpe: vocabSize ${vocabSize} exceeds ${KEY_BASE - 1}`);

  const chunkCounts = new Map<string, number>();
  const charCounts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(PRE_SPLIT)) chunkCounts.set(m[0], (chunkCounts.get(m[0]) ?? 0) + 1);
  }
  for (const [chunk, n] of chunkCounts) for (const ch of chunk) charCounts.set(ch, (charCounts.get(ch) ?? 0) + n);
  // Characters by frequency (then code point), as many as the vocabulary holds.
  const chars = [...charCounts]
    .filter(([, n]) => n >= minChar)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, vocabSize - pieceBase)
    .map(([ch]) => ch);
  const pieces = chars.slice();
  const pieceIds = new Map(pieces.map((p, i) => [p, pieceBase + i]));
  const merges: Array<[string, string]> = [];
  const base = new BpeTokenizer({ type: 'bpe', version: 1, specials, pieces, merges: [] });

  // Chunks as symbol arrays; byte ids (< pieceBase) never merge.
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [chunk, n] of [...chunkCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    words.push(base.initialSymbols(chunk));
    freqs.push(n);
  }
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const forEachPair = (w: number[], fn: (key: number) => void) => {
    for (let i = 0; i + 1 < w.length; i++) if (w[i] >= pieceBase && w[i + 1] >= pieceBase) fn(w[i] * KEY_BASE + w[i + 1]);
  };
  for (let wi = 0; wi < words.length; wi++) {
    forEachPair(words[wi], (key) => {
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + freqs[wi]);
      let set = pairWords.get(key);
      if (!set) pairWords.set(key, (set = new Set()));
      set.add(wi);
    });
  }
  const heap = new PairHeap();
  for (const [key, n] of pairCounts) heap.push(n, key);

  while (pieceBase + pieces.length < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    if (count !== current) {
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (count < minPair) break;
    const left = Math.floor(key / KEY_BASE);
    const right = key % KEY_BASE;
    const text = pieces[left - pieceBase] + pieces[right - pieceBase];
    // Two different pairs can spell the same piece ("ab"+"c", "a"+"bc"): one id.
    let merged = pieceIds.get(text);
    if (merged === undefined) {
      merged = pieceBase + pieces.length;
      pieces.push(text);
      pieceIds.set(text, merged);
    }
    merges.push([pieces[left - pieceBase], pieces[right - pieceBase]]);
    const delta = new Map<number, number>();
    for (const wi of pairWords.get(key) ?? []) {
      const w = words[wi];
      const f = freqs[wi];
      forEachPair(w, (k) => delta.set(k, (delta.get(k) ?? 0) - f));
      const next: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === left && w[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(w[i]);
      }
      words[wi] = next;
      forEachPair(next, (k) => {
        delta.set(k, (delta.get(k) ?? 0) + f);
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(wi);
      });
    }
    pairWords.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const n = (pairCounts.get(k) ?? 0) + d;
      if (n > 0) pairCounts.set(k, n);
      else pairCounts.delete(k);
      if (d > 0) heap.push(n, k);
    }
  }
  const json: BpeTokenizerJSON = { type: 'bpe', version: 1, specials, pieces, merges };
  return new BpeTokenizer(json);
}
