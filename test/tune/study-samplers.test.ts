// What the Study does for samplers and pruners beyond ask/tell: a grid study stops by itself,
// system attributes a sampler sets (grid ids) are stored, vector reports reach the
// multi-objective pruning rule, and storage URLs in messages hide their passwords.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { INTERMEDIATE_VECTORS_KEY } from '../../src/tune/pruners/base.js';
import { MedianPruner } from '../../src/tune/pruners/median.js';
import { GridSampler } from '../../src/tune/samplers/grid.js';
import { redactUrl } from '../../src/tune/storage/base.js';
import { openStorage } from '../../src/tune/storage/open.js';
import { createStudy, loadStudy } from '../../src/tune/study.js';
import { TrialPruned } from '../../src/tune/trial.js';

describe('study and samplers', () => {
  test('a grid study stops by itself when every point is taken, and stores each trial grid id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-grid-'));
    try {
      const storage = `sqlite:${join(dir, 's.db')}`;
      const grid = { x: [0, 1, 2], y: ['a', 'b'] };
      const study = await createStudy({ name: 'g', storage, sampler: new GridSampler(grid, { seed: 1 }) });
      await study.optimize((t) => (t.suggestCategorical('x', grid.x) as number) + (t.suggestCategorical('y', grid.y) === 'a' ? 0 : 10), {
        nTrials: 50,
      });
      assert.equal(study.trials.length, 6, 'six grid points, then the study stops although nTrials is 50');
      const points = new Set(study.trials.map((t) => `${t.params.x}${t.params.y}`));
      assert.equal(points.size, 6);
      await study.close();
      // the ids are in the storage, where another worker (a fresh study object) sees them
      const reread = await loadStudy({ name: 'g', storage });
      const ids = reread.trials.map((t) => t.systemAttrs.grid_id);
      assert.deepEqual([...ids].sort(), [0, 1, 2, 3, 4, 5]);
      await reread.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('report(vector) stores the first value and the whole vector; a wrong length is a clear error', async () => {
    const study = await createStudy({ name: 'v', directions: ['maximize', 'minimize'] });
    const t = await study.ask();
    t.report([0.5, 3], 0);
    t.report(0.7, 1);
    assert.throws(() => t.report([1, 2, 3], 2), /expected a number or 2 numbers \(one per objective\), got \[1,2,3\]/);
    assert.throws(() => t.report(0.1, -1), /step must be an integer >= 0/);
    const done = await study.tell(t, [0.8, 2]);
    assert.deepEqual(
      [...done.intermediateValues],
      [
        [0, 0.5],
        [1, 0.7],
      ],
    );
    assert.deepEqual(done.systemAttrs[INTERMEDIATE_VECTORS_KEY], { '0': [0.5, 3] });
  });

  test('multi-objective pruning: a trial worse in quality but faster survives when it reports its vector', async () => {
    const pruner = new MedianPruner({ nStartupTrials: 2, nWarmupSteps: 0 });
    const study = await createStudy({ name: 'p', directions: ['maximize', 'minimize'], pruner });
    // two finished peers: good quality, slow
    for (const q of [0.8, 0.9]) {
      const t = await study.ask();
      t.report([q, 10], 0);
      await study.tell(t, [q, 10]);
    }
    const run = async (vector: boolean) => {
      const t = await study.ask();
      t.report(vector ? [0.3, 1] : 0.3, 0);
      const prune = await t.shouldPrune();
      await study.tell(t, prune ? 'pruned' : [0.3, 1]);
      return prune;
    };
    assert.equal(await run(false), true, 'scalar 0.3 is worse than the median quality');
    assert.equal(await run(true), false, '[0.3, 1 ms] is dominated by neither peer');
    assert.equal(study.getTrials({ states: ['PRUNED'] }).length, 1);
    assert.ok(TrialPruned);
  });

  test('passwords in storage URLs are hidden in messages', async () => {
    assert.equal(redactUrl('postgres://alice:s3cr%40t@db.example:5432/studies'), 'postgres://alice:***@db.example:5432/studies');
    assert.equal(redactUrl('postgresql://bob@host/db'), 'postgresql://bob@host/db');
    assert.equal(redactUrl('sqlite:/tmp/a:b@c.db'), 'sqlite:/tmp/a:b@c.db');
    await assert.rejects(openStorage('mysql://carol:hunter2@host/db'), (e: Error) => {
      assert.match(e.message, /carol:\*\*\*@host/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });
});
