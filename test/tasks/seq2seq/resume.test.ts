import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDdtp } from '../../../src/data/ddtp.ts';
import type { BpeTokenizer } from '../../../src/data/tokenizer.ts';
import { setThreads } from '../../../src/index.ts';
import { trainSeq2Seq } from '../../../src/tasks/seq2seq/train.ts';
import { translationTask } from '../../../src/tasks/translation/task.ts';

test('a run stopped by its time limit resumes from last.safetensors with the tokenizer saved beside it', async () => {
  setThreads(1);
  const pairs = loadDdtp('synopses-en-fr', 'train', { limit: 60 });
  const outDir = mkdtempSync(join(tmpdir(), 'attune-resume-'));
  const common = {
    train: pairs,
    valid: [],
    steps: 400,
    batchSize: 8,
    model: { dim: 16, numHeads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 32 },
    progress: 'none' as const,
    outDir,
    log: () => {},
  };
  const first = await trainSeq2Seq(translationTask, { ...common, vocabSize: 400, minutes: 0.01 });
  assert.equal(first.fit.stoppedBy, 'time');
  assert.ok(first.steps < 400, `ran all ${first.steps} steps within 0.6 s`);
  const tokenizerJson = readFileSync(join(outDir, 'tokenizer.json'), 'utf8');
  first.model.dispose();
  // A different vocabSize would train a different tokenizer: the saved one must win.
  const second = await trainSeq2Seq(translationTask, { ...common, vocabSize: 500, resume: first.checkpoint! });
  assert.equal(second.fit.stoppedBy, 'steps');
  assert.equal(second.steps, 400);
  assert.equal(JSON.stringify((second.tokenizer as BpeTokenizer).toJSON()), tokenizerJson);
  assert.equal((second.tokenizer as BpeTokenizer).vocabSize, 400);
  second.model.dispose();
});
