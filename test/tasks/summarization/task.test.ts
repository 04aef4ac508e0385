import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDdtp } from '../../../src/data/ddtp.ts';
import { trainBpe } from '../../../src/data/tokenizer-train.ts';
import { setThreads } from '../../../src/index.ts';
import { corpusRouge } from '../../../src/metrics/rouge.ts';
import { trainSeq2Seq } from '../../../src/tasks/seq2seq/train.ts';
import { baselineRouge, firstSentence, firstWords, summarizationTask } from '../../../src/tasks/summarization/task.ts';

test('lead baselines: first sentence and first 10 words', () => {
  assert.equal(firstSentence('Foo is a tool. It does bar. More.'), 'Foo is a tool.');
  assert.equal(firstSentence('No end mark here'), 'No end mark here');
  assert.equal(firstSentence('Version 2.0 is out! Get it.'), 'Version 2.0 is out!');
  assert.equal(firstWords(' a b  c d e f g h i j k l '), 'a b c d e f g h i j');
  const pairs = loadDdtp('summaries-en', 'test', { limit: 200 });
  const lead = baselineRouge(pairs, firstSentence);
  const direct = corpusRouge(
    pairs.map((p) => p.target),
    pairs.map((p) => firstSentence(p.source)),
  );
  assert.equal(lead.rougeL.f1, direct.rougeL.f1);
  assert.ok(lead.rougeL.f1 > 0.15 && lead.rougeL.f1 < 0.6, `first-sentence ROUGE-L ${lead.rougeL.f1}`);
  assert.equal(summarizationTask.score(['a b c'], ['a b c']), 100);
});

test('attune summarize reads documents from standard input, one summary per blank-line-separated document', async () => {
  setThreads(1);
  const pairs = loadDdtp('summaries-en', 'train', { limit: 200 });
  const dir = mkdtempSync(join(tmpdir(), 'attune-summarize-'));
  const result = await trainSeq2Seq(summarizationTask, {
    train: pairs,
    valid: [],
    tokenizer: trainBpe(
      pairs.flatMap((p) => [p.source, p.target]),
      { vocabSize: 400 },
    ),
    steps: 2,
    batchSize: 8,
    model: { dim: 32, numHeads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 64 },
    progress: 'none',
    outDir: dir,
    log: () => {},
  });
  result.model.dispose();
  const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
  const input = `${pairs[0].source}\n\n\n  ${pairs[1].source.replaceAll(' ', '\n ')}\n`;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', main, 'summarize', result.checkpoint!, '-', '--json', '--max-length', '5', '--beam', '2'],
    {
      encoding: 'utf8',
      input,
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].input, pairs[0].source);
  assert.equal(lines[1].input, pairs[1].source);
  writeFileSync(join(dir, 'doc.txt'), pairs[2].source);
  const file = spawnSync(
    process.execPath,
    ['--import', 'tsx', main, 'summarize', result.checkpoint!, join(dir, 'doc.txt'), '--max-length', '3'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(file.status, 0, file.stderr);
  assert.equal(file.stdout.trim().split('\n').length, 1);
});
