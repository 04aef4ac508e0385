import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDdtp } from '../../../src/data/ddtp.ts';
import { trainBpe } from '../../../src/data/tokenizer-train.ts';
import { setThreads } from '../../../src/index.ts';
import { loadSeq2Seq } from '../../../src/tasks/seq2seq/checkpoint.ts';
import { generate } from '../../../src/tasks/seq2seq/generate.ts';
import { trainSeq2Seq } from '../../../src/tasks/seq2seq/train.ts';
import { translationTask } from '../../../src/tasks/translation/task.ts';

test('a tiny encoder-decoder memorises 50 DDTP pairs; the checkpoint and tokenizer reload to the same translations', async () => {
  setThreads(1);
  const all = loadDdtp('synopses-en-fr', 'train', { limit: 2000 });
  const pairs = all.filter((p) => p.source.split(' ').length <= 5).slice(0, 50);
  assert.equal(pairs.length, 50);
  const tokenizer = trainBpe(
    all.flatMap((p) => [p.source, p.target]),
    { vocabSize: 600 },
  );
  const outDir = mkdtempSync(join(tmpdir(), 'attune-seq2seq-'));
  const result = await trainSeq2Seq(translationTask, {
    train: pairs,
    valid: pairs.slice(0, 10),
    evalSentences: 10,
    evaluations: 1,
    tokenizer,
    steps: 120,
    batchSize: 50,
    lr: 1e-2,
    labelSmoothing: 0,
    model: { dim: 32, numHeads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 64, dropout: 0 },
    progress: 'none',
    seed: 1,
    outDir,
    log: () => {},
  });
  assert.ok(result.fit.lastLoss < 0.2, `final loss ${result.fit.lastLoss}`);
  const sources = pairs.map((p) => p.source);
  const greedy = generate(result.model, tokenizer, sources, { maxLength: 40 });
  const exact = greedy.filter((h, i) => h.text === pairs[i].target).length;
  assert.ok(exact >= 47, `only ${exact} of 50 targets reproduced`);
  const beam = generate(result.model, tokenizer, sources, { maxLength: 40, beamSize: 3 });
  const beamExact = beam.filter((h, i) => h.text === pairs[i].target).length;
  assert.ok(beamExact >= 47, `beam: only ${beamExact} of 50`);
  assert.equal(
    result.fit.lastEval?.bleu !== undefined && result.fit.lastEval.bleu > 80,
    true,
    `validation BLEU ${result.fit.lastEval?.bleu}`,
  );

  assert.ok(existsSync(join(outDir, 'tokenizer.json')) && result.checkpoint !== null);
  const loaded = loadSeq2Seq(result.checkpoint!);
  assert.equal(loaded.task, 'translation');
  assert.equal(loaded.step, 120);
  const again = generate(loaded.model, loaded.tokenizer, sources, { maxLength: 40 });
  assert.deepEqual(
    again.map((h) => h.text),
    greedy.map((h) => h.text),
  );
  loaded.model.dispose();
  result.model.dispose();
});
