import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BucketedBatches, collate, type EncodedPair, padSequences } from '../../../src/data/batching.ts';

const ids = { padId: 0, bosId: 1, eosId: 2 };

test('padSequences: right padding and a keep-mask of 1 at real tokens', () => {
  const { ids: padded, mask, length } = padSequences([[5, 6, 7], [8]], 0);
  assert.equal(length, 3);
  assert.deepEqual([...padded], [5, 6, 7, 8, 0, 0]);
  assert.deepEqual([...mask], [1, 1, 1, 1, 0, 0]);
});

test('collate: </s> on sources, <s> + target in, target + </s> out, ignoreIndex at padded labels', () => {
  const b = collate(
    [
      { source: [5, 6], target: [7] },
      { source: [8], target: [9, 10, 11] },
    ],
    ids,
  );
  assert.equal(b.srcLength, 3);
  assert.equal(b.tgtLength, 4);
  assert.deepEqual([...b.src], [5, 6, 2, 8, 2, 0]);
  assert.deepEqual([...b.srcMask], [1, 1, 1, 1, 1, 0]);
  assert.deepEqual([...b.tgtIn], [1, 7, 0, 0, 1, 9, 10, 11]);
  assert.deepEqual([...b.tgtOut], [7, 2, -100, -100, 9, 10, 11, 2]);
  assert.deepEqual([...b.tgtMask], [1, 1, 0, 0, 1, 1, 1, 1]);
  assert.equal(b.tgtTokens, 6);
  assert.throws(() => collate([], ids), /expected at least one pair, got none/);
});

function pairsOfLengths(n: number, seed: number): EncodedPair[] {
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const len = 1 + (s % 40);
    return { source: Array.from({ length: len }, () => 3 + (i % 7)), target: Array.from({ length: 1 + ((s >> 8) % 40) }, () => 4) };
  });
}

test('BucketedBatches: every pair once per epoch (full batches), batches of similar length, seeded order', () => {
  const pairs = pairsOfLengths(1000, 7);
  const a = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 3 });
  assert.equal(a.batchesPerEpoch, 100);
  const seen = new Set<number>();
  let padding = 0;
  let real = 0;
  for (let i = 0; i < a.batchesPerEpoch; i++) {
    const b = a.next();
    for (const r of b.indices) seen.add(r);
    padding += b.size * b.srcLength - b.srcTokens;
    real += b.srcTokens;
  }
  assert.equal(seen.size, 1000);
  assert.ok(padding / real < 0.15, `bucketing left ${((100 * padding) / real).toFixed(1)}% padding`);
  const unsorted = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 3, poolBatches: 1 });
  let padUnsorted = 0;
  for (let i = 0; i < 100; i++) {
    const b = unsorted.next();
    padUnsorted += b.size * b.srcLength - b.srcTokens;
  }
  assert.ok(padUnsorted > 3 * padding, `unsorted padding ${padUnsorted} vs bucketed ${padding}`);
  const b1 = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 3 }).next();
  const b2 = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 3 }).next();
  const b3 = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 4 }).next();
  assert.deepEqual([...b1.indices], [...b2.indices]);
  assert.notDeepEqual([...b1.indices], [...b3.indices]);
});

test('BucketedBatches: state() and setState() resume the order exactly, across epochs', () => {
  const pairs = pairsOfLengths(95, 9);
  const a = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 1 });
  for (let i = 0; i < 13; i++) a.next();
  const state = a.state();
  const b = new BucketedBatches(pairs, { ...ids, batchSize: 10, seed: 1 });
  b.setState(JSON.parse(JSON.stringify(state)));
  for (let i = 0; i < 20; i++) assert.deepEqual([...b.next().indices], [...a.next().indices]);
  assert.throws(() => b.setState({ seed: 1, epoch: -1, position: 0 }), /bad state/);
  assert.throws(() => new BucketedBatches(pairs, { ...ids, batchSize: 100 }), /95 pairs do not fill one batch of 100/);
});
