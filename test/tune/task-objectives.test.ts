// The objectives of `attune tune` run for real on tiny budgets: a trial trains the task's model,
// reports each validation evaluation, is stopped by the pruner when it says so (PRUNED, its
// checkpoint removed), keeps the checkpoint of the model it measured otherwise, and the study's
// report draws the best trial's attention maps from that checkpoint.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { writeStudyReport } from '../../src/cli/report.js';
import { loadSafetensorsHeader } from '../../src/io/safetensors.js';
import type { FrozenTrial } from '../../src/tune/frozen-trial.js';
import { attentionParameters, interleavedMedianMs } from '../../src/tune/measure.js';
import { createStudy } from '../../src/tune/study.js';
import { inferenceProbe, type TuneTaskOptions, taskWorker } from '../../src/tune/task-objectives.js';
import { CHECKPOINT_ATTR, defaultCheckpointDir, pruneTrialCheckpoints } from '../../src/tune/trial-checkpoints.js';
import { QUICK_DEFAULT_DESIGNS } from '../../src/tune/tune-task.js';

const dir = mkdtempSync(join(tmpdir(), 'attune-objectives-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pruneAfterFirstReport = { prune: (_s: unknown, t: FrozenTrial) => t.intermediateValues.size >= 1 };

async function runTask(task: 'image' | 'translation', extra: Partial<TuneTaskOptions>) {
  const storage = `sqlite:${join(dir, `${task}.db`)}`;
  const checkpointDir = join(dir, `${task}-checkpoints`);
  const options: TuneTaskOptions = {
    task,
    objectives: [task === 'image' ? 'accuracy' : 'bleu', 'latency'],
    constraints: [],
    quick: true,
    epochsPerTrial: 1,
    evaluations: 3,
    seed: 1,
    threads: 1,
    checkpointDir,
    ...extra,
  };
  const bundle = await taskWorker(options, { workerIndex: 0 });
  const study = await createStudy({ name: task, storage, directions: ['maximize', 'minimize'], sampler: bundle.sampler });
  await study.enqueueTrial(QUICK_DEFAULT_DESIGNS[task]!);
  await study.optimize(bundle.objective, { nTrials: 1 });
  // a second study object on the same storage, whose pruner stops every trial at its first report
  const pruning = await createStudy({ name: task, storage, loadIfExists: true, sampler: bundle.sampler, pruner: pruneAfterFirstReport });
  await pruning.optimize(bundle.objective, { nTrials: 1 });
  await study.refresh();
  await study.close();
  await pruning.close();
  return { storage, checkpointDir, trials: study.trials };
}

describe('attune tune objectives', () => {
  test('image: a trial measures accuracy, latency, memory, parameters; a pruned one stops at its first evaluation', async () => {
    const { storage, checkpointDir, trials } = await runTask('image', { trainLimit: 400 });
    const [done, pruned] = trials;
    assert.equal(done!.state, 'COMPLETE', String(done!.systemAttrs.fail_reason));
    const m = done!.userAttrs.metrics as Record<string, number>;
    assert.ok(m.accuracy! >= 0 && m.accuracy! <= 1 && m.latency! > 0 && m.memory! > 0, JSON.stringify(m));
    assert.ok(m.attentionParams! > 0 && m.attentionParams! < m.params!);
    assert.deepEqual(done!.values, [m.accuracy, m.latency]);
    assert.ok(done!.intermediateValues.size >= 2, 'each evaluation is reported');
    // two objectives: each report is the vector [accuracy so far, latency], for the multi-objective pruning rule
    const vectors = done!.systemAttrs.intermediate_vectors as Record<string, number[]>;
    assert.deepEqual(vectors['0'], [done!.intermediateValues.get(0), m.latency]);
    const checkpoint = done!.userAttrs[CHECKPOINT_ATTR] as string;
    assert.ok(existsSync(checkpoint), checkpoint);
    const names = loadSafetensorsHeader(checkpoint).entries.map((e) => e.name);
    assert.ok(names.length > 0 && names.every((n) => n.startsWith('model.')), 'the kept checkpoint holds the weights only');
    // the probe rebuilds the same design: the same parameters, and it runs
    const probe = inferenceProbe({ task: 'image', objectives: [], constraints: [], seed: 1 }, done!.params);
    assert.equal(attentionParameters(probe.model), m.attentionParams);
    assert.equal(probe.model.numParameters(), m.params);
    const thrice = () => {
      for (let i = 0; i < 3; i++) probe.run();
    };
    const [fast, slow] = interleavedMedianMs([probe.run, thrice], 9, 1);
    assert.ok(slow! > fast!, `three inferences (${slow} ms) take longer than one (${fast} ms)`);
    probe.model.dispose();
    assert.equal(pruned!.state, 'PRUNED');
    assert.equal(pruned!.intermediateValues.size, 1, 'training stopped at the first evaluation');
    assert.ok(!existsSync(join(checkpointDir, `trial-${pruned!.number}`)), 'a pruned trial keeps no checkpoint');

    const out = join(dir, 'image-report.html');
    const warnings: string[] = [];
    await writeStudyReport('image', storage, out, (w) => warnings.push(w));
    assert.deepEqual(warnings, []);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /Attention of the best trial's model/);
    assert.match(html, /trial 0 \(value 0 [\d.]+\): first Fashion-MNIST test image/);
  });

  test('translation: a trial trains, decodes and measures BLEU; the report shows its maps on a validation sentence', async () => {
    const { storage, trials } = await runTask('translation', { trainLimit: 200, validLimit: 8, vocabSize: 300 });
    const [done, pruned] = trials;
    assert.equal(done!.state, 'COMPLETE', String(done!.systemAttrs.fail_reason));
    const m = done!.userAttrs.metrics as Record<string, number>;
    assert.ok(m.bleu! >= 0 && m.latency! > 0 && m.params! > m.attentionParams!, JSON.stringify(m));
    assert.equal(pruned!.state, 'PRUNED');
    const out = join(dir, 'translation-report.html');
    await writeStudyReport('translation', storage, out, (w) => assert.fail(w));
    const html = readFileSync(out, 'utf8');
    assert.match(html, /decoder\.0 cross/);
    assert.match(html, /trial 0 \(value 0 [\d.]+\): “/);
  });

  test('a design that breaks a cost constraint is not trained (PRUNED, its costs kept); the default design always is', async () => {
    const options: TuneTaskOptions = {
      task: 'image',
      objectives: ['accuracy'],
      constraints: [{ metric: 'attentionParams', op: '<=', bound: 100 }],
      quick: true,
      epochsPerTrial: 1,
      trainLimit: 400,
      seed: 1,
      threads: 1,
    };
    const bundle = await taskWorker(options, { workerIndex: 0 });
    const study = await createStudy({ name: 'cost-constraint', directions: ['maximize'], sampler: bundle.sampler });
    await study.enqueueTrial(QUICK_DEFAULT_DESIGNS.image!, { userAttrs: { baseline: true } });
    await study.enqueueTrial(QUICK_DEFAULT_DESIGNS.image!);
    await study.optimize(bundle.objective, { nTrials: 2 });
    const [reference, skipped] = study.trials;
    assert.equal(reference!.state, 'COMPLETE', String(reference!.systemAttrs.fail_reason));
    assert.equal(skipped!.state, 'PRUNED');
    assert.equal(skipped!.intermediateValues.size, 0, 'no evaluation: it was not trained');
    const m = skipped!.userAttrs.metrics as Record<string, number>;
    assert.equal(m.accuracy, undefined);
    assert.equal(m.attentionParams, (reference!.userAttrs.metrics as Record<string, number>).attentionParams);
    assert.equal(skipped!.systemAttrs.prune_reason, `not trained: breaks attentionParams<=100 (got ${m.attentionParams})`);
    await study.close();
  });

  test('pruneTrialCheckpoints keeps the front and unfinished trials, removes the rest', () => {
    const root = join(dir, 'prune');
    const trial = (number: number, state: FrozenTrial['state']) => ({ number, state }) as FrozenTrial;
    const trials = [trial(0, 'COMPLETE'), trial(1, 'COMPLETE'), trial(2, 'RUNNING'), trial(3, 'FAIL')];
    for (const t of trials) {
      mkdirSync(join(root, `trial-${t.number}`), { recursive: true });
      writeFileSync(join(root, `trial-${t.number}`, 'last.safetensors'), 'x');
    }
    assert.equal(pruneTrialCheckpoints(root, trials, [trials[1]!]), 2);
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => existsSync(join(root, `trial-${n}`))),
      [false, true, true, false],
    );
    assert.equal(pruneTrialCheckpoints(join(dir, 'missing'), trials, []), 0);
  });

  test('checkpoints live beside the SQLite file, one folder per study', () => {
    assert.equal(defaultCheckpointDir('sqlite:/data/studies.db', 'a b'), '/data/studies-checkpoints/a_b');
    assert.equal(defaultCheckpointDir('/data/x.sqlite', 's'), '/data/x-checkpoints/s');
    assert.match(defaultCheckpointDir('postgres://u:p@h/db', 's'), /attune-checkpoints\/s$/);
  });
});
