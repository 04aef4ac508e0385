import assert from 'node:assert/strict';
import { test } from 'node:test';
import { padSequences } from '../../../src/data/batching.ts';
import { Seq2SeqTransformer } from '../../../src/nn/seq2seq.ts';
import { beamSearch, greedySearch, type StepDecoder } from '../../../src/tasks/seq2seq/search.ts';
import { TransformerStepDecoder } from '../../../src/tasks/seq2seq/step-decoder.ts';
import { assertClose } from '../../helpers.ts';

// Tokens: 0 pad, 1 <s>, 2 </s>, 3 A, 4 B, 5 C.
const BOS = 1;
const EOS = 2;

/** A decoder whose next-token distribution is a table keyed by the prefix (history per row). */
class TableDecoder implements StepDecoder {
  readonly vocabSize = 6;
  private history: number[][];
  constructor(
    readonly rows: number,
    private readonly table: (prefix: number[]) => number[],
  ) {
    this.history = Array.from({ length: rows }, () => []);
  }
  step(tokens: Int32Array): Float32Array {
    const out = new Float32Array(this.rows * this.vocabSize);
    tokens.forEach((t, r) => {
      this.history[r].push(t);
      const p = this.table(this.history[r].slice(1));
      p.forEach((q, v) => {
        out[r * this.vocabSize + v] = Math.log(q);
      });
    });
    return out;
  }
  reorder(indices: Int32Array): void {
    this.history = Array.from(indices, (i) => this.history[i].slice());
  }
  dispose(): void {}
}

const tiny = 1e-9;
/** Greedy takes A (0.6) then A (0.35) then </s> (1): 0.21. Beam takes B (0.4) then </s> (0.95): 0.38. */
function trap(prefix: number[]): number[] {
  const key = prefix.join(',');
  if (key === '') return [tiny, tiny, tiny, 0.6, 0.4, tiny];
  if (key === '3') return [tiny, tiny, 0.3, 0.35, 0.35, tiny];
  if (key === '4') return [tiny, tiny, 0.95, tiny, tiny, 0.05];
  return [tiny, tiny, 1, tiny, tiny, tiny];
}

test('beam search finds the more probable sequence that greedy misses (hand-built table)', () => {
  const greedy = greedySearch(new TableDecoder(1, trap), { bosId: BOS, eosId: EOS });
  assert.deepEqual(greedy[0].tokens, [3, 3]);
  assert.ok(Math.abs(greedy[0].logProbability - Math.log(0.6 * 0.35 * 1)) < 1e-5);
  const beam = beamSearch(new TableDecoder(2, trap), { bosId: BOS, eosId: EOS, beamSize: 2, lengthPenalty: 0 });
  assert.deepEqual(beam[0].tokens, [4]);
  assert.ok(Math.abs(beam[0].logProbability - Math.log(0.4 * 0.95)) < 1e-5);
});

/** A seeded pseudo-random table: distribution depends on the whole prefix. */
function randomTable(seed: number) {
  return (prefix: number[]): number[] => {
    let s = seed;
    for (const t of prefix) s = (Math.imul(s ^ t, 2654435761) + prefix.length) >>> 0;
    const p = [0, 0, 0, 0, 0, 0].map((_, v) => {
      s = (Math.imul(s, 1103515245) + 12345 + v) >>> 0;
      return v === 0 || v === 1 ? tiny : 0.05 + s / 4294967296 + (v === EOS ? prefix.length * 0.15 : 0);
    });
    const z = p.reduce((a, b) => a + b, 0);
    return p.map((q) => q / z);
  };
}

test('beam width 1 equals greedy (random tables, several sources batched)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const greedy = greedySearch(new TableDecoder(3, randomTable(seed)), { bosId: BOS, eosId: EOS, maxLength: 12 });
    const beam = beamSearch(new TableDecoder(3, randomTable(seed)), { bosId: BOS, eosId: EOS, maxLength: 12, beamSize: 1 });
    assert.deepEqual(
      beam.map((h) => h.tokens),
      greedy.map((h) => h.tokens),
      `seed ${seed}`,
    );
  }
});

test('beam search never scores below greedy on the raw log-probability (lengthPenalty 0)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const greedy = greedySearch(new TableDecoder(2, randomTable(seed)), { bosId: BOS, eosId: EOS, maxLength: 10 });
    const beam = beamSearch(new TableDecoder(8, randomTable(seed)), {
      bosId: BOS,
      eosId: EOS,
      maxLength: 10,
      beamSize: 4,
      lengthPenalty: 0,
    });
    beam.forEach((h, i) => {
      assert.ok(
        h.logProbability >= greedy[i].logProbability - 1e-9,
        `seed ${seed}: beam ${h.logProbability} < greedy ${greedy[i].logProbability}`,
      );
    });
  }
});

test('search options are checked', () => {
  assert.throws(
    () => beamSearch(new TableDecoder(3, trap), { bosId: BOS, eosId: EOS, beamSize: 2 }),
    /rows 3 are not a multiple of beamSize 2/,
  );
  assert.throws(
    () => greedySearch(new TableDecoder(1, trap), { bosId: BOS, eosId: EOS, maxLength: 0 }),
    /maxLength must be an integer ≥ 1, got 0/,
  );
});

const model = new Seq2SeqTransformer(
  { srcVocabSize: 12, tgtVocabSize: 12, dim: 16, numHeads: 2, encoderLayers: 2, decoderLayers: 2, ffnDim: 32, shareEmbeddings: true },
  { seed: 3 },
).eval();
const sources = padSequences(
  [
    [5, 6, 7, 8, 2],
    [9, 2],
    [4, 4, 10, 2],
  ],
  0,
);
const batch = { ids: sources.ids, mask: sources.mask, batch: 3, length: sources.length };

test('cached decoding equals uncached decoding: the log-probabilities of every step, greedy and beam outputs', () => {
  const cached = new TransformerStepDecoder(model, batch, { beams: 2, maxLength: 8 });
  const uncached = new TransformerStepDecoder(model, batch, { beams: 2, cache: false });
  let tokens = new Int32Array(6).fill(BOS);
  for (let t = 0; t < 6; t++) {
    const a = cached.step(tokens);
    const b = uncached.step(tokens);
    assertClose(a, b, 1e-4, 1e-4, `step ${t}`);
    const reorder = Int32Array.from([1, 0, 2, 2, 5, 4]);
    cached.reorder(reorder);
    uncached.reorder(reorder);
    tokens = Int32Array.from({ length: 6 }, (_, r) => 3 + ((r + t) % 8));
  }
  cached.dispose();
  uncached.dispose();
  for (const beams of [1, 3]) {
    const run = (cache: boolean) => {
      const d = new TransformerStepDecoder(model, batch, { beams, cache, maxLength: 10 });
      const o = { bosId: BOS, eosId: EOS, maxLength: 10 };
      const h = beams === 1 ? greedySearch(d, o) : beamSearch(d, { ...o, beamSize: beams });
      d.dispose();
      return h;
    };
    const a = run(true);
    const b = run(false);
    assert.deepEqual(
      a.map((h) => h.tokens),
      b.map((h) => h.tokens),
    );
    a.forEach((h, i) => {
      assert.ok(Math.abs(h.score - b[i].score) < 1e-3);
    });
  }
});

test('beam width 1 equals greedy on a transformer; each source decodes the same alone as in a padded batch', () => {
  const greedy = greedySearch(new TransformerStepDecoder(model, batch, { maxLength: 10 }), { bosId: BOS, eosId: EOS, maxLength: 10 });
  const beam1 = beamSearch(new TransformerStepDecoder(model, batch, { maxLength: 10 }), {
    bosId: BOS,
    eosId: EOS,
    maxLength: 10,
    beamSize: 1,
  });
  assert.deepEqual(
    beam1.map((h) => h.tokens),
    greedy.map((h) => h.tokens),
  );
  const alone = padSequences([[9, 2]], 0);
  const single = greedySearch(
    new TransformerStepDecoder(model, { ids: alone.ids, mask: alone.mask, batch: 1, length: alone.length }, { maxLength: 10 }),
    {
      bosId: BOS,
      eosId: EOS,
      maxLength: 10,
    },
  );
  assert.deepEqual(single[0].tokens, greedy[1].tokens);
  assert.ok(Math.abs(single[0].logProbability - greedy[1].logProbability) < 1e-3);
});
