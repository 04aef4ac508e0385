import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDdtp } from '../../../src/data/ddtp.ts';
import { BpeTokenizer } from '../../../src/data/tokenizer.ts';
import { setThreads } from '../../../src/index.ts';
import { crossAttentionAlignment } from '../../../src/tasks/seq2seq/alignment.ts';
import { loadSeq2Seq } from '../../../src/tasks/seq2seq/checkpoint.ts';
import { generate } from '../../../src/tasks/seq2seq/generate.ts';
import { trainSeq2Seq } from '../../../src/tasks/seq2seq/train.ts';
import { translationTask } from '../../../src/tasks/translation/task.ts';

test('separate vocabularies: one tokenizer per side, separate embeddings, both saved and reloaded', async () => {
  setThreads(1);
  const pairs = loadDdtp('synopses-en-fr', 'train', { limit: 300 });
  const outDir = mkdtempSync(join(tmpdir(), 'attune-vocab-'));
  const result = await trainSeq2Seq(translationTask, {
    train: pairs,
    valid: [],
    steps: 2,
    batchSize: 8,
    vocabSize: 350,
    separateVocabularies: true,
    model: { dim: 16, numHeads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 32 },
    progress: 'none',
    outDir,
    log: () => {},
  });
  assert.ok(!(result.tokenizer instanceof BpeTokenizer));
  assert.equal(result.config.shareEmbeddings, false);
  assert.ok(existsSync(join(outDir, 'tokenizer.json')) && existsSync(join(outDir, 'source-tokenizer.json')));
  const loaded = loadSeq2Seq(result.checkpoint!);
  assert.ok(!(loaded.tokenizers instanceof BpeTokenizer));
  const { source, target } = loaded.tokenizers as { source: BpeTokenizer; target: BpeTokenizer };
  assert.notDeepEqual(source.toJSON(), target.toJSON());
  assert.equal(loaded.tokenizer, target);
  // English pieces come from the source tokenizer: it encodes English in fewer tokens than the French one.
  const english = pairs.slice(0, 50).map((p) => p.source);
  const count = (t: BpeTokenizer) => english.reduce((a, s) => a + t.encode(s).length, 0);
  assert.ok(count(source) < count(target), `source ${count(source)} vs target ${count(target)} tokens`);
  const out = generate(loaded.model, loaded.tokenizers, ['free software game'], { maxLength: 4 });
  const alignment = crossAttentionAlignment(loaded.model, loaded.tokenizers, 'free software game', out[0].tokens);
  assert.equal(alignment.sourcePieces.join(''), 'free software game</s>');
  assert.deepEqual(
    alignment.sourcePieces.slice(0, -1),
    source.encode('free software game').map((id) => source.idToPiece(id)),
  );
  loaded.model.dispose();
  result.model.dispose();
});
