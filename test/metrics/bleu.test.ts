import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bleuFromStatistics, corpusBleu, tokenize13a } from '../../src/metrics/bleu.ts';

interface BleuCase {
  name: string;
  hypotheses: string[];
  references: string[];
  bleu: number;
  hypothesisTokens: string[];
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures.json', import.meta.url), 'utf8')) as { bleu: BleuCase[] };

test('tokenize13a matches the fixture tokenisation of every hypothesis', () => {
  let n = 0;
  for (const c of fixtures.bleu) {
    c.hypotheses.forEach((h, i) => {
      assert.equal(tokenize13a(h.replace(/\s+$/, '')), c.hypothesisTokens[i], `${c.name}: ${JSON.stringify(h)}`);
      n++;
    });
  }
  assert.ok(n > 400, `only ${n} hypotheses checked`);
});

test('corpusBleu equals the nltk (sacreBLEU-default) fixtures within 1e-9', () => {
  assert.ok(fixtures.bleu.length >= 30);
  for (const c of fixtures.bleu) {
    const got = corpusBleu(c.hypotheses, c.references).score;
    assert.ok(Math.abs(got - c.bleu) < 1e-9, `${c.name}: got ${got}, expected ${c.bleu}`);
  }
});

test('corpusBleu: perfect, empty and mismatched inputs', () => {
  assert.ok(Math.abs(corpusBleu(['a b c d e'], ['a b c d e']).score - 100) < 1e-9);
  assert.equal(corpusBleu([''], ['a b c d']).score, 0);
  assert.equal(corpusBleu([], []).score, 0);
  assert.throws(() => corpusBleu(['a'], []), /expected as many references as hypotheses, got 0 references for 1 hypotheses/);
});

test('bleuFromStatistics: exp smoothing halves each further zero-match order', () => {
  const s = bleuFromStatistics([4, 0, 0, 0], [5, 4, 3, 2], 5, 5);
  assert.deepEqual(s.precisions, [80, 100 / (2 * 4), 100 / (4 * 3), 100 / (8 * 2)]);
  assert.ok(Math.abs(s.score - Math.exp((Math.log(80) + Math.log(12.5) + Math.log(100 / 12) + Math.log(6.25)) / 4)) < 1e-12);
});

test('corpusBleu: brevity penalty exp(1 - r/c) when the hypotheses are shorter', () => {
  const s = corpusBleu(['the cat sat on the'], ['the cat sat on the mat with a hat today']);
  assert.ok(Math.abs(s.brevityPenalty - Math.exp(1 - 10 / 5)) < 1e-12);
  assert.ok(Math.abs(s.score - 100 * s.brevityPenalty) < 1e-9);
});
