import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomSampler } from '../../../src/tune/samplers/random.js';
import { defaultGamma, defaultWeights, TPESampler } from '../../../src/tune/samplers/tpe.js';
import { ToyStudy } from './toy-study.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('TPE concentrates near the optimum of a 1-D quadratic (late trials much closer than random)', () => {
  const distance = (make: (seed: number) => TPESampler | RandomSampler) => {
    const ds: number[] = [];
    for (let seed = 0; seed < 3; seed++) {
      const study = new ToyStudy();
      study.optimize(make(seed), (t) => (t.float('x', -10, 10) - 3.7) ** 2, 60);
      for (const t of study.trials.slice(40)) ds.push(Math.abs((t.params.x as number) - 3.7));
    }
    return median(ds);
  };
  const tpe = distance((seed) => new TPESampler({ seed }));
  const random = distance((seed) => new RandomSampler({ seed }));
  // Optuna's TPE keeps exploring (bandwidths >= range / (1 + kernels)), so "near" is a few units of 20
  assert.ok(tpe < 2, `median |x − x*| of trials 40-59: ${tpe}`);
  assert.ok(tpe < random / 2.5, `TPE ${tpe} vs random ${random}`);
});

test('TPE on maximize, log and int scales finds the optimum region', () => {
  const study = new ToyStudy(['maximize']);
  study.optimize(
    new TPESampler({ seed: 4 }),
    (t) => -((Math.log10(t.float('lr', 1e-6, 1, { log: true })) + 3) ** 2) - (t.int('layers', 1, 32) - 6) ** 2 / 10,
    80,
  );
  const late = study.trials.slice(50);
  assert.ok(median(late.map((t) => Math.abs(Math.log10(t.params.lr as number) + 3))) < 0.6);
  assert.ok(median(late.map((t) => Math.abs((t.params.layers as number) - 6))) <= 3);
});

test('TPE multivariate learns a correlated valley better than random', () => {
  const best = (make: (seed: number) => TPESampler | RandomSampler) => {
    const bests: number[] = [];
    for (let seed = 0; seed < 3; seed++) {
      const study = new ToyStudy();
      study.optimize(make(seed), (t) => (t.float('x', -5, 5) - t.float('y', -5, 5)) ** 2 + 0.1 * (t.float('x', -5, 5) - 1) ** 2, 60);
      bests.push(Math.min(...study.trials.map((t) => t.values![0]!)));
    }
    return median(bests);
  };
  assert.ok(best((seed) => new TPESampler({ seed, multivariate: true })) < best((seed) => new RandomSampler({ seed })));
});

test('TPE with constraints prefers feasible points: the best feasible value approaches the boundary', () => {
  // minimize x² subject to x >= 1: the unconstrained optimum 0 is infeasible
  const run = (constrained: boolean) => {
    let feasible = 0;
    let bestFeasible = Number.POSITIVE_INFINITY;
    for (let seed = 0; seed < 3; seed++) {
      const study = new ToyStudy();
      const sampler = new TPESampler({ seed, constraintsFunc: constrained ? (t) => [1 - (t.params.x as number)] : undefined });
      study.optimize(sampler, (t) => t.float('x', -10, 10) ** 2, 60);
      if (constrained)
        for (const t of study.trials) assert.ok(Array.isArray(t.systemAttrs.constraints), 'afterTrial records the constraints');
      for (const t of study.trials.slice(30)) if ((t.params.x as number) >= 1) feasible++;
      for (const t of study.trials) if ((t.params.x as number) >= 1) bestFeasible = Math.min(bestFeasible, t.values![0]!);
    }
    return { feasible, bestFeasible };
  };
  const withConstraints = run(true);
  const without = run(false);
  assert.ok(
    withConstraints.feasible > without.feasible * 1.3,
    `late feasible trials ${withConstraints.feasible} vs ${without.feasible} unaware`,
  );
  assert.ok(withConstraints.bestFeasible < 1.4, `best feasible ${withConstraints.bestFeasible}`);
});

test('TPE constant liar: trials asked while others run propose different points', () => {
  const spread = (constantLiar: boolean) => {
    const study = new ToyStudy();
    const sampler = new TPESampler({ seed: 5, constantLiar, nStartupTrials: 10 });
    study.optimize(sampler, (t) => (t.float('x', 0, 1) - 0.3) ** 2, 30);
    // 8 workers ask at once: the liar sees the 7 others RUNNING at their proposals
    const xs: number[] = [];
    for (let i = 0; i < 8; i++) xs.push(study.ask(sampler).float('x', 0, 1));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
  };
  const liar = spread(true);
  assert.ok(liar > 0.02, `spread with the liar ${liar}`);
  assert.ok(liar > spread(false) * 0.8, 'the liar does not collapse the batch');
});

for (const [label, options] of [
  ['multivariate+group, Optuna 3.1 widths', { multivariate: true, group: true, bandwidth: 'optuna' }],
  ['defaults', {}],
] as const) {
  test(`TPE conditional space (${label}) samples each branch from its own trials`, () => {
    const study = new ToyStudy();
    study.optimize(
      new TPESampler({ seed: 1, ...options }),
      (t) => {
        if (t.categorical('kind', ['a', 'b']) === 'a') return (t.float('u', 0, 1) - 0.8) ** 2;
        return 0.5 + (t.int('k', 0, 20) - 3) ** 2 / 100;
      },
      60,
    );
    const late = study.trials.slice(40);
    assert.ok(late.filter((t) => t.params.kind === 'a').length >= 12, 'the better branch dominates late trials');
    assert.ok(median(late.filter((t) => t.params.kind === 'a').map((t) => Math.abs((t.params.u as number) - 0.8))) < 0.15);
  });
}

test('TPE pruned trials count by their last step and value; defaults match Optuna', () => {
  assert.deepEqual([0, 1, 10, 11, 300].map(defaultGamma), [0, 1, 1, 2, 25]);
  assert.deepEqual([...defaultWeights(3)], [1, 1, 1]);
  const w = defaultWeights(30);
  assert.equal(w.length, 30);
  assert.ok(Math.abs(w[0]! - 1 / 30) < 1e-12 && w[4] === 1 && w[29] === 1);
  assert.throws(() => new TPESampler({ multivariate: false, group: true }), /group=true needs multivariate=true/);
  assert.throws(() => new TPESampler({ nEiCandidates: 0 }), /nEiCandidates must be an integer >= 1, got 0/);
});
