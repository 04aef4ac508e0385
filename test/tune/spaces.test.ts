// The preset attention spaces: each covers the attention knobs the tuner promises, contains its
// task's default design, and every sampled point builds a model whose attention has the
// sampled heads, key/value heads, head width, window and position encoding.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MultiHeadAttention } from '../../src/nn/attention.js';
import type { VisionTransformer } from '../../src/nn/vision-transformer.js';
import { createSeq2SeqModel, seq2seqConfig } from '../../src/tasks/seq2seq/model.js';
import { contains } from '../../src/tune/distributions.js';
import { attentionParameters } from '../../src/tune/measure.js';
import { RandomSampler } from '../../src/tune/samplers/random.js';
import { suggestSpace } from '../../src/tune/search-space.js';
import { attentionDesign, PRESET_SPACES, QUICK_SPACES } from '../../src/tune/spaces/attention.js';
import { createStudy } from '../../src/tune/study.js';
import { inferenceProbe } from '../../src/tune/task-objectives.js';
import { DEFAULT_DESIGNS, QUICK_DEFAULT_DESIGNS } from '../../src/tune/tune-task.js';

const ATTENTION_KNOBS = ['numHeads', 'kvSharing', 'headDim', 'position', 'attentionDropout', 'layers', 'lr'];

describe('preset attention spaces', () => {
  for (const task of ['translation', 'summarization', 'image']) {
    test(`${task}: the knobs are there and the default design lies inside the full and the quick space`, () => {
      for (const [space, design] of [
        [PRESET_SPACES[task]!, DEFAULT_DESIGNS[task]!],
        [QUICK_SPACES[task]!, QUICK_DEFAULT_DESIGNS[task]!],
      ] as const) {
        for (const k of ATTENTION_KNOBS) assert.ok(k in space.params, `${space.name} lacks ${k}`);
        assert.ok('width' in space.params, `${space.name} lacks width`);
        if (task !== 'image') assert.ok('window' in space.params, `${space.name} lacks window`);
        for (const [name, value] of Object.entries(design)) {
          const p = space.params[name];
          assert.ok(p, `${space.name}: the default's ${name} is not in the space`);
          assert.ok(contains(p.distribution, value), `${space.name}: default ${name}=${value} outside ${JSON.stringify(p.distribution)}`);
        }
      }
    });
  }

  test('attentionDesign: MHA, GQA and MQA give numKvHeads; text width is its own knob', () => {
    assert.equal(attentionDesign({ numHeads: 8, kvSharing: 'mha' }).numKvHeads, 8);
    assert.equal(attentionDesign({ numHeads: 8, kvSharing: 'gqa', kvGroup: 4 }).numKvHeads, 2);
    assert.equal(attentionDesign({ numHeads: 8, kvSharing: 'mqa' }).numKvHeads, 1);
    assert.equal(attentionDesign({ numHeads: 2, kvSharing: 'gqa', kvGroup: 4 }).numKvHeads, 1);
    assert.equal(attentionDesign({ numHeads: 4, headDim: 8 }).width, 32, 'image: width = heads × head width');
    assert.equal(attentionDesign({ numHeads: 4, headDim: 8, width: 128 }).width, 128);
  });

  test('every sampled text design builds a seq2seq model with those attention settings', async () => {
    const study = await createStudy({ name: 'text', sampler: new RandomSampler({ seed: 3 }) });
    for (let i = 0; i < 12; i++) {
      const trial = await study.ask();
      const d = attentionDesign(suggestSpace(trial, QUICK_SPACES.translation!), { position: 'sinusoidal' });
      const config = seq2seqConfig(40, {
        dim: d.width,
        numHeads: d.numHeads,
        numKvHeads: d.numKvHeads,
        headDim: d.headDim,
        window: d.window < 0 ? undefined : d.window,
        position: d.position as 'rope',
        attentionDropout: d.attentionDropout,
        encoderLayers: d.layers,
        decoderLayers: d.layers,
        ffnDim: 2 * d.width,
      });
      const model = createSeq2SeqModel(config, 1);
      const self = model.encoder.layers.at(0).attention as MultiHeadAttention;
      assert.equal(self.config.numHeads, d.numHeads);
      assert.equal(self.config.numKvHeads, d.numKvHeads);
      assert.equal(self.config.headDim, d.headDim);
      assert.deepEqual(self.config.window, d.window < 0 ? undefined : d.window);
      assert.equal(self.config.dropout, d.attentionDropout);
      // Q and O: width × heads·headDim; K and V: width × kvHeads·headDim (+ biases); 3 attentions per layer pair
      const perAttention =
        2 * (d.width * d.numHeads * d.headDim + d.numHeads * d.headDim) +
        2 * (d.width * d.numKvHeads * d.headDim + d.numKvHeads * d.headDim) -
        d.numHeads * d.headDim +
        d.width;
      assert.equal(attentionParameters(model), 3 * d.layers * perAttention);
      model.dispose();
      await study.tell(trial, 0);
    }
  });

  test('the default seq2seq config is unchanged by the new knobs (sinusoidal, no window, MHA)', () => {
    const config = seq2seqConfig(100);
    assert.equal(config.position, 'sinusoidal');
    assert.equal(config.attentionDropout, 0);
    assert.ok(!('numKvHeads' in config) && !('window' in config) && !('headDim' in config));
  });

  test('an image design builds a ViT with its width, heads, head width, key/value heads and position', () => {
    const params = { width: 64, numHeads: 4, headDim: 8, kvSharing: 'mqa', position: 'rope', layers: 2 };
    const model = inferenceProbe({ task: 'image', objectives: [], constraints: [], seed: 1 }, params).model as VisionTransformer;
    const attention = model.encoder.layers.at(0).attention as MultiHeadAttention;
    assert.deepEqual(attention.query.weight.shape, [32, 64], 'queries: 4 heads × 8 from width 64');
    assert.equal(attention.config.numKvHeads, 1);
    assert.equal(attention.config.position, 'rope');
    // Q and O: 64 × 32 (+ biases), K and V: 64 × 8 (+ biases), per layer
    assert.equal(attentionParameters(model), 2 * (64 * 32 + 32 + 2 * (64 * 8 + 8) + 32 * 64 + 64));
    model.dispose();
  });
});
