import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { corpusRouge, lcsLength, rouge, rougeTokenize } from '../../src/metrics/rouge.ts';

interface RougeCase {
  name: string;
  target: string;
  prediction: string;
  rouge1: number;
  rouge2: number;
  rougeL: number;
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures.json', import.meta.url), 'utf8')) as { rouge: RougeCase[] };

test('rouge F1 equals the rouge-score-definition fixtures within 1e-12', () => {
  assert.ok(fixtures.rouge.length >= 150);
  for (const c of fixtures.rouge) {
    const s = rouge(c.target, c.prediction);
    for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) {
      assert.ok(Math.abs(s[k].f1 - c[k]) < 1e-12, `${c.name} ${k}: got ${s[k].f1}, expected ${c[k]}`);
    }
  }
});

test('rougeTokenize: lower-case, non [a-z0-9] runs split, accents are separators', () => {
  assert.deepEqual(rougeTokenize('Jeu de Stratégie, v2.0!'), ['jeu', 'de', 'strat', 'gie', 'v2', '0']);
  assert.deepEqual(rougeTokenize('  '), []);
});

test('lcsLength on hand cases', () => {
  assert.equal(lcsLength(['a', 'b', 'c', 'd'], ['b', 'd']), 2);
  assert.equal(lcsLength([], ['a']), 0);
  assert.equal(lcsLength(['a', 'b', 'a'], ['b', 'a', 'b']), 2);
});

test('corpusRouge is the mean of the per-pair F1', () => {
  const targets = fixtures.rouge.slice(0, 40).map((c) => c.target);
  const predictions = fixtures.rouge.slice(0, 40).map((c) => c.prediction);
  const mean = fixtures.rouge.slice(0, 40).reduce((a, c) => a + c.rougeL, 0) / 40;
  assert.ok(Math.abs(corpusRouge(targets, predictions).rougeL.f1 - mean) < 1e-12);
  assert.throws(() => corpusRouge(['a'], []), /expected as many predictions as targets, got 0 predictions for 1 targets/);
});
