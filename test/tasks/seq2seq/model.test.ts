import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collate } from '../../../src/data/batching.ts';
import { noGrad, tidy } from '../../../src/index.ts';
import { Seq2SeqTransformer } from '../../../src/nn/seq2seq.ts';
import { createSeq2SeqModel, seq2seqConfig, seq2seqLoss } from '../../../src/tasks/seq2seq/model.ts';

const ids = { padId: 0, bosId: 1, eosId: 2 };

test('padding masks: the loss of a padded batch is the token-weighted mean of each pair alone', () => {
  const model = new Seq2SeqTransformer(
    { srcVocabSize: 20, tgtVocabSize: 20, dim: 16, numHeads: 2, encoderLayers: 2, decoderLayers: 2, ffnDim: 32, shareEmbeddings: true },
    { seed: 5 },
  ).eval();
  const pairs = [
    { source: [5, 6, 7, 8, 9, 10, 11], target: [12, 13] },
    { source: [4], target: [14, 15, 16, 17, 18, 19] },
    { source: [3, 3, 9], target: [7, 8, 9] },
  ];
  const loss = (batch: ReturnType<typeof collate>) => noGrad(() => tidy(() => seq2seqLoss(model, batch, 0.1).item()));
  const together = loss(collate(pairs, ids));
  let weighted = 0;
  let tokens = 0;
  for (const p of pairs) {
    const n = p.target.length + 1;
    weighted += n * loss(collate([p], ids));
    tokens += n;
  }
  assert.ok(Math.abs(together - weighted / tokens) < 1e-5, `padded ${together} vs separate ${weighted / tokens}`);
});

test('the default model has the 7.6M parameters of the reference setup and shares one vocabulary', () => {
  const config = seq2seqConfig(8000);
  assert.equal(config.shareEmbeddings, true);
  assert.equal(config.tieOutput, true);
  const model = createSeq2SeqModel(config, 0);
  assert.equal(model.numParameters(), 7_578_624);
  model.dispose();
});
