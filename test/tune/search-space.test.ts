// Search spaces as data (presets, JSON and TS files, conditional params), the attention design
// they map to, and the parsing of objectives and constraints.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { FrozenTrial } from '../../src/tune/frozen-trial.js';
import { brokenConstraints, constraintsFunc, parseConstraint, parseObjectives } from '../../src/tune/objectives.js';
import { RandomSampler } from '../../src/tune/samplers/random.js';
import { loadSearchSpace, parseSearchSpace, suggestSpace } from '../../src/tune/search-space.js';
import { attentionDesign, PRESET_SPACES } from '../../src/tune/spaces/attention.js';
import { createStudy } from '../../src/tune/study.js';

const dir = mkdtempSync(join(tmpdir(), 'attune-space-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('search spaces', () => {
  test('the image preset: kvGroup only under GQA; designs have numKvHeads dividing numHeads and the sampled width', async () => {
    const study = await createStudy({ name: 's', sampler: new RandomSampler({ seed: 5 }) });
    await study.optimize(
      (t) => {
        const p = suggestSpace(t, PRESET_SPACES.image!);
        const d = attentionDesign(p);
        assert.equal(d.numHeads % d.numKvHeads, 0);
        assert.equal(d.width, p.width);
        if (p.kvSharing === 'mqa') assert.equal(d.numKvHeads, 1);
        if (p.kvSharing === 'mha') assert.equal(d.numKvHeads, d.numHeads);
        return 0;
      },
      { nTrials: 40 },
    );
    for (const t of study.trials) assert.equal('kvGroup' in t.params, t.params.kvSharing === 'gqa');
    assert.deepEqual(attentionDesign({ numHeads: 8, kvSharing: 'gqa', kvGroup: 4, headDim: 8 }).numKvHeads, 2);
  });

  test('a JSON space file with a conditional parameter loads and samples', async () => {
    const path = join(dir, 'space.json');
    writeFileSync(
      path,
      JSON.stringify({
        numHeads: { type: 'categorical', choices: [2, 4] },
        position: { kind: 'categorical', choices: ['rope', 'alibi'] },
        ropeBase: { kind: 'float', low: 1000, high: 100000, log: true, when: { position: ['rope'] } },
        layers: { kind: 'int', low: 1, high: 4 },
      }),
    );
    const space = await loadSearchSpace(path);
    assert.deepEqual(Object.keys(space.params), ['numHeads', 'position', 'ropeBase', 'layers']);
    const study = await createStudy({ name: 'j', sampler: new RandomSampler({ seed: 2 }) });
    await study.optimize((t) => (suggestSpace(t, space).layers as number) * 1, { nTrials: 20 });
    for (const t of study.trials) assert.equal('ropeBase' in t.params, t.params.position === 'rope');
  });

  test('a TS space file (default export) loads', async () => {
    const path = join(dir, 'space.ts');
    writeFileSync(
      path,
      "export default { name: 'mine', params: { lr: { distribution: { kind: 'float', low: 0.001, high: 0.1, log: true, step: null } } } };\n",
    );
    const space = await loadSearchSpace(path);
    assert.equal(space.name, 'mine');
    assert.equal(space.params.lr!.distribution.kind, 'float');
  });

  test('malformed spaces get errors naming the file, the parameter and the problem', async () => {
    const bad = (raw: unknown) => () => parseSearchSpace(raw, 'my.json');
    assert.throws(bad([]), /search space my.json: expected an object of parameters, got \[\]/);
    assert.throws(bad({}), /search space my.json: it has no parameters/);
    assert.throws(
      bad({ lr: { kind: 'uniform', low: 0, high: 1 } }),
      /parameter 'lr': kind must be one of float, int, categorical, got "uniform"/,
    );
    assert.throws(bad({ lr: { kind: 'float', low: 1, high: 0 } }), /distribution of 'lr': low must be <= high, got low=1, high=0/);
    assert.throws(bad({ lr: { kind: 'float', low: '0', high: 1 } }), /parameter 'lr': low must be a number, got "0"/);
    assert.throws(
      bad({ n: { kind: 'int', low: 1, high: 4, when: { position: ['rope'] } } }),
      /when refers to 'position', which is not an earlier parameter \(earlier: none\)/,
    );
    assert.throws(bad({ h: { kind: 'categorical', choices: [] } }), /non-empty/);
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "lr": ');
    await assert.rejects(loadSearchSpace(path), /search space .*broken\.json: /);
    await assert.rejects(loadSearchSpace(join(dir, 'space.yaml')), /expected a \.json, \.ts or \.js file, got '\.yaml'/);
  });
});

describe('objectives and constraints', () => {
  const metrics = ['accuracy', 'latency', 'memory', 'params'];
  test('objectives map to directions; unknown or repeated names are errors', () => {
    assert.deepEqual(parseObjectives('accuracy, latency,params', metrics).directions, ['maximize', 'minimize', 'minimize']);
    assert.throws(
      () => parseObjectives('bleu', metrics),
      /unknown metric 'bleu' for this task; expected one of accuracy, latency, memory, params/,
    );
    assert.throws(() => parseObjectives('latency,latency', metrics), /names a metric twice/);
  });

  test('constraints parse with units and give Optuna-style values (<= 0 feasible)', () => {
    assert.deepEqual(parseConstraint('latency<=5ms', metrics), { metric: 'latency', op: '<=', bound: 5 });
    assert.deepEqual(parseConstraint('params <= 200k', metrics), { metric: 'params', op: '<=', bound: 200_000 });
    assert.deepEqual(parseConstraint('memory<=1MB', metrics), { metric: 'memory', op: '<=', bound: 1024 ** 2 });
    assert.deepEqual(parseConstraint('accuracy>=0.8', metrics), { metric: 'accuracy', op: '>=', bound: 0.8 });
    assert.throws(
      () => parseConstraint('latency < 5', metrics),
      /expected METRIC<=VALUE or METRIC>=VALUE \(e\.g\. latency<=5ms\), got 'latency < 5'/,
    );
    assert.throws(() => parseConstraint('speed<=5', metrics), /unknown metric 'speed'/);
    assert.throws(() => parseConstraint('latency<=5parsecs', metrics), /unknown unit 'parsecs'/);
    const f = constraintsFunc([parseConstraint('latency<=5ms', metrics), parseConstraint('accuracy>=0.8', metrics)]);
    const trial = (m: Record<string, number>) => ({ userAttrs: { metrics: m } }) as unknown as FrozenTrial;
    assert.deepEqual(
      f(trial({ latency: 4, accuracy: 0.9 })).map((v) => +v.toFixed(6)),
      [-1, -0.1],
    );
    assert.deepEqual(
      f(trial({ latency: 7, accuracy: 0.5 })).map((v) => +v.toFixed(6)),
      [2, 0.3],
    );
    assert.deepEqual(f(trial({})), [Number.MAX_VALUE, Number.MAX_VALUE]);
  });

  test('brokenConstraints names what the known metrics break, and skips metrics not measured yet', () => {
    const cs = [
      parseConstraint('latency<=5ms', metrics),
      parseConstraint('params<=1k', metrics),
      parseConstraint('accuracy>=0.8', metrics),
    ];
    assert.deepEqual(brokenConstraints(cs, { latency: 6.25, params: 1000 }), ['latency<=5 (got 6.25)']);
    assert.deepEqual(brokenConstraints(cs, { latency: 5, params: 1000 }), []);
    assert.deepEqual(brokenConstraints(cs, { latency: 1, params: 2000, accuracy: 0.5 }), [
      'params<=1000 (got 2000)',
      'accuracy>=0.8 (got 0.5)',
    ]);
  });
});
