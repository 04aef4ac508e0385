// Study and Trial through the in-memory storage: ask/tell, optimize, enqueue, conditional
// spaces, pruning, Pareto front, constraints and the errors users meet.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FrozenTrial, StudyView } from '../../src/tune/frozen-trial.js';
import { RandomSampler } from '../../src/tune/samplers/random.js';
import { createStudy, deleteStudy, loadStudy } from '../../src/tune/study.js';
import { TrialPruned } from '../../src/tune/trial.js';

describe('study', () => {
  test('ask/tell: params, values, states and bestTrial of a minimisation', async () => {
    const study = await createStudy({ name: 's', sampler: new RandomSampler({ seed: 1 }) });
    for (let i = 0; i < 30; i++) {
      const t = await study.ask();
      const x = t.suggestFloat('x', -3, 3);
      const n = t.suggestInt('n', 1, 64, { log: true });
      await study.tell(t, (x - 1) ** 2 + n);
    }
    assert.equal(study.trials.length, 30);
    const complete = study.getTrials({ states: ['COMPLETE'] });
    assert.equal(complete.length, 30);
    const best = study.bestTrial;
    assert.equal(best.values![0], Math.min(...complete.map((t) => t.values![0]!)));
    assert.equal(study.bestValue, best.values![0]);
    for (const t of complete) {
      assert.ok((t.params.x as number) >= -3 && (t.params.x as number) <= 3);
      assert.ok(Number.isInteger(t.params.n) && (t.params.n as number) >= 1 && (t.params.n as number) <= 64);
    }
  });

  test('the same seed gives the same trials', async () => {
    const run = async () => {
      const study = await createStudy({ name: 's', sampler: new RandomSampler({ seed: 7 }) });
      await study.optimize((t) => t.suggestFloat('x', 0, 1) + t.suggestCategorical('c', [0, 10, 20]), { nTrials: 10 });
      return study.trials.map((t) => t.values![0]);
    };
    assert.deepEqual(await run(), await run());
  });

  test('conditional search space: each branch asks only its own params', async () => {
    const study = await createStudy({ name: 'c', sampler: new RandomSampler({ seed: 3 }) });
    await study.optimize(
      (t) => {
        const kind = t.suggestCategorical('position', ['rope', 'alibi']);
        if (kind === 'rope') return t.suggestFloat('ropeBase', 1e3, 1e5, { log: true }) / 1e5;
        return t.suggestInt('alibiSlopes', 1, 8);
      },
      { nTrials: 30 },
    );
    const kinds = new Set(study.trials.map((t) => t.params.position));
    assert.deepEqual([...kinds].sort(), ['alibi', 'rope']);
    for (const t of study.trials) {
      assert.deepEqual(Object.keys(t.params).sort(), t.params.position === 'rope' ? ['position', 'ropeBase'] : ['alibiSlopes', 'position']);
    }
  });

  test('a param asked twice returns the same value; a different distribution for it is an error', async () => {
    const study = await createStudy({ name: 'r' });
    const t = await study.ask();
    const a = t.suggestInt('layers', 1, 6);
    assert.equal(t.suggestInt('layers', 1, 6), a);
    assert.throws(() => t.suggestInt('layers', 1, 8), /suggest 'layers': already sampled from .* now asked for/);
    assert.throws(() => t.suggestFloat('lr', 1, 0), /distribution of 'lr': low must be <= high, got low=1, high=0/);
    assert.throws(() => t.suggestFloat('lr', 0, 1, { log: true }), /log scale needs low > 0/);
    assert.throws(() => t.suggestCategorical('c', []), /non-empty/);
    await study.tell(t, 1);
  });

  test('enqueueTrial fixes params for the next ask, in order; skipIfExists skips duplicates', async () => {
    const study = await createStudy({ name: 'e' });
    await study.enqueueTrial({ numHeads: 8, lr: 0.001 });
    await study.enqueueTrial({ numHeads: 4, lr: 0.01 }, { userAttrs: { source: 'default' } });
    await study.enqueueTrial({ numHeads: 4, lr: 0.01 }, { skipIfExists: true });
    assert.equal(study.trials.length, 2);
    const seen: [number, number][] = [];
    await study.optimize(
      (t) => {
        const h = t.suggestCategorical('numHeads', [1, 2, 4, 8]);
        const lr = t.suggestFloat('lr', 1e-4, 1e-1, { log: true });
        seen.push([h, lr]);
        return lr;
      },
      { nTrials: 3 },
    );
    assert.deepEqual(seen.slice(0, 2), [
      [8, 0.001],
      [4, 0.01],
    ]);
    assert.equal(study.trials[1]!.userAttrs.source, 'default');
    const bad = await createStudy({ name: 'bad' });
    await bad.enqueueTrial({ numHeads: 3 });
    await assert.rejects(
      bad.optimize((t) => t.suggestCategorical('numHeads', [1, 2, 4]), { nTrials: 1 }),
      /fixed value 3 \(enqueued\) is outside/,
    );
  });

  test('report/shouldPrune/TrialPruned: a pruned trial is PRUNED with its intermediate values', async () => {
    // prunes at step 2 when the value is above 5 (a stand-in for the pruners in pruners/)
    const pruner = {
      prune: (_s: StudyView, t: FrozenTrial) => t.intermediateValues.size >= 3 && [...t.intermediateValues.values()].at(-1)! > 5,
    };
    const study = await createStudy({ name: 'p', pruner });
    await study.optimize(
      async (t) => {
        const start = t.number % 2 === 0 ? 0 : 10;
        for (let step = 0; step < 5; step++) {
          t.report(start + step, step);
          if (await t.shouldPrune()) throw new TrialPruned();
        }
        return start;
      },
      { nTrials: 4 },
    );
    assert.deepEqual(
      study.trials.map((t) => t.state),
      ['COMPLETE', 'PRUNED', 'COMPLETE', 'PRUNED'],
    );
    assert.deepEqual([...study.trials[1]!.intermediateValues.keys()], [0, 1, 2]);
  });

  test('multi-objective: bestTrials is the Pareto front; bestTrial is an error', async () => {
    const study = await createStudy({ name: 'm', directions: ['maximize', 'minimize'] });
    const points: [number, number][] = [
      [1, 1],
      [2, 2],
      [2, 3],
      [3, 3],
      [0, 0],
      [1, 2],
    ];
    for (const p of points) {
      const t = await study.ask();
      await study.tell(t, p);
    }
    assert.deepEqual(
      study.bestTrials.map((t) => t.values),
      [
        [1, 1],
        [2, 2],
        [3, 3],
        [0, 0],
      ],
    );
    assert.throws(() => study.bestTrial, /2 objectives; use bestTrials/);
    const t = await study.ask();
    await assert.rejects(study.tell(t, 1), /needs 2 value\(s\), one per direction, got \[1\]/);
  });

  test('constraints: constraintsFunc is stored as systemAttrs.constraints and infeasible trials are never best', async () => {
    const study = await createStudy({ name: 'k', constraintsFunc: (t) => [(t.userAttrs.latencyMs as number) - 5] });
    const runs: [number, number][] = [
      [9, 0.1],
      [4, 0.5],
      [5, 0.4],
      [2, 0.9],
    ];
    await study.optimize(
      (t) => {
        const [latencyMs, loss] = runs[t.number]!;
        t.setUserAttr('latencyMs', latencyMs);
        return loss;
      },
      { nTrials: runs.length },
    );
    assert.deepEqual(
      study.trials.map((t) => t.systemAttrs.constraints),
      [[4], [-1], [0], [-3]],
    );
    assert.equal(study.bestTrial.number, 2); // 0.1 is infeasible (9 ms > 5 ms); 0.4 at 5 ms is the best feasible
    const multi = await createStudy({
      name: 'k2',
      directions: ['minimize', 'minimize'],
      constraintsFunc: (t) => [(t.userAttrs.latencyMs as number) - 5],
    });
    await multi.optimize(
      (t) => {
        const [latencyMs, loss] = runs[t.number]!;
        t.setUserAttr('latencyMs', latencyMs);
        return [loss, latencyMs];
      },
      { nTrials: runs.length },
    );
    assert.deepEqual(
      multi.bestTrials.map((t) => t.number),
      [1, 2, 3],
    );
  });

  test('NaN fails the trial; a thrown error fails it and propagates unless caught; callbacks see each trial', async () => {
    class Flaky extends Error {}
    const study = await createStudy({ name: 'f' });
    const seen: string[] = [];
    await study.optimize(
      (t) => {
        if (t.number === 1) return Number.NaN;
        if (t.number === 2) throw new Flaky('out of memory');
        return 1;
      },
      { nTrials: 4, catch: [Flaky], callbacks: [(_s, t) => void seen.push(t.state)] },
    );
    assert.deepEqual(seen, ['COMPLETE', 'FAIL', 'FAIL', 'COMPLETE']);
    assert.equal(study.trials[2]!.systemAttrs.fail_reason, 'out of memory');
    await assert.rejects(
      study.optimize(
        () => {
          throw new TypeError('bug');
        },
        { nTrials: 1 },
      ),
      /bug/,
    );
    assert.equal(study.trials.at(-1)!.state, 'FAIL');
    await assert.rejects(
      study.optimize(() => [1, 2], { nTrials: 1 }),
      /returned \[1,2\]: expected a number/,
    );
  });

  test('timeout and abort stop starting trials', async () => {
    const study = await createStudy({ name: 't' });
    const t0 = Date.now();
    await study.optimize(async () => new Promise((r) => setTimeout(() => r(1), 20)), { timeout: 0.2 });
    assert.ok(Date.now() - t0 < 1000);
    assert.ok(study.trials.length >= 3 && study.trials.length <= 12, `${study.trials.length} trials`);
    const ac = new AbortController();
    const other = await createStudy({ name: 'a' });
    await other.optimize(
      (t) => {
        if (t.number === 2) ac.abort();
        return 0;
      },
      { nTrials: 100, signal: ac.signal },
    );
    assert.equal(other.trials.length, 3);
  });

  test('createStudy, loadStudy, deleteStudy: duplicates and unknown studies get clear errors', async () => {
    const { InMemoryStorage } = await import('../../src/tune/storage/memory.js');
    const storage = new InMemoryStorage();
    await createStudy({ name: 'one', storage });
    await assert.rejects(
      createStudy({ name: 'one', storage }),
      /study 'one' already exists in memory \(pass loadIfExists: true to resume it\)/,
    );
    const again = await createStudy({ name: 'one', storage, loadIfExists: true });
    assert.equal(again.name, 'one');
    await assert.rejects(loadStudy({ name: 'two', storage }), /study 'two' not found in memory \(studies: one\)/);
    await assert.rejects(
      createStudy({ name: 'one', storage, loadIfExists: true, directions: ['maximize'] }),
      /has directions \[minimize\], asked for \[maximize\]/,
    );
    await deleteStudy({ name: 'one', storage });
    await assert.rejects(loadStudy({ name: 'one', storage }), /not found/);
  });
});
