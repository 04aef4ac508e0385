import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NSGAIISampler } from '../../../src/tune/samplers/nsga2.js';
import { crowdingDistance, hypervolume2d, nonDominatedSort, selectElite } from '../../../src/tune/samplers/pareto.js';
import { RandomSampler } from '../../../src/tune/samplers/random.js';
import { ToyStudy, type ToyTrial } from './toy-study.js';

/** ZDT1 with d variables; the true front is f2 = 1 − √f1, hypervolume 1.1² − 1/3 − … at (1.1, 1.1). */
function zdt1(t: ToyTrial, d: number): number[] {
  const x = Array.from({ length: d }, (_, i) => t.float(`x${i}`, 0, 1));
  const g = 1 + (9 * x.slice(1).reduce((a, b) => a + b, 0)) / (d - 1);
  return [x[0]!, g * (1 - Math.sqrt(x[0]! / g))];
}

// ∫₀¹ (1.1 − (1 − √f)) df + 0.1·1.1 = 1.1·1.1 − (1 − 2/3) = 0.87667 (true front, reference (1.1, 1.1))
const TRUE_HV = 1.21 - 1 / 3;

test('pareto tools: fronts, crowding distance, elite selection, 2-D hypervolume', () => {
  const pts = [
    [1, 5],
    [2, 3],
    [4, 1],
    [3, 4],
    [5, 5],
  ];
  assert.deepEqual(nonDominatedSort(pts), [[0, 1, 2], [3], [4]]);
  const cd = crowdingDistance([0, 1, 2], pts);
  assert.equal(cd.get(0), Number.POSITIVE_INFINITY);
  assert.ok(Math.abs(cd.get(1)! - (3 / 3 + 4 / 4)) < 1e-12);
  assert.deepEqual(selectElite(pts, null, 4), [0, 1, 2, 3]);
  // constrained domination: an infeasible point never beats a feasible one
  assert.deepEqual(nonDominatedSort(pts, [0, 0, 3, 0, 0]), [[0, 1], [3], [4], [2]]);
  assert.equal(
    hypervolume2d(
      [
        [0, 1],
        [1, 0],
      ],
      [2, 2],
    ),
    3,
  );
  assert.equal(
    hypervolume2d(
      [
        [0.5, 0.5],
        [1, 1],
      ],
      [2, 2],
    ),
    2.25,
  );
});

test('NSGA-II front on ZDT1 (5 variables, 600 evaluations) approaches the true front', () => {
  const hv = (make: (seed: number) => NSGAIISampler | RandomSampler) => {
    const hvs: number[] = [];
    for (let seed = 0; seed < 2; seed++) {
      const study = new ToyStudy(['minimize', 'minimize']);
      study.optimize(make(seed), (t) => zdt1(t, 5), 600);
      hvs.push(
        hypervolume2d(
          study.trials.map((t) => t.values!),
          [1.1, 1.1],
        ),
      );
    }
    return Math.min(...hvs);
  };
  const nsga = hv((seed) => new NSGAIISampler({ seed, populationSize: 20, crossover: 'sbx' }));
  const random = hv((seed) => new RandomSampler({ seed }));
  // Optuna-style mutation (a uniform resample of 1/d of the genes) keeps NSGA-II from closing the last
  // gap within 600 evaluations; random search gets ~0.1 here
  assert.ok(nsga > 0.65 * TRUE_HV, `hypervolume ${nsga} vs true ${TRUE_HV}`);
  assert.ok(nsga > random + 0.4, `NSGA-II ${nsga} vs random ${random}`);
});

test('NSGA-II with concurrent workers: trials asked in batches (others RUNNING) still converge', () => {
  const study = new ToyStudy(['minimize', 'minimize']);
  const sampler = new NSGAIISampler({ seed: 3, populationSize: 20, crossover: 'sbx' });
  for (let batch = 0; batch < 100; batch++) {
    const trials = Array.from({ length: 6 }, () => study.ask(sampler));
    const values = trials.map((t) => zdt1(t, 5));
    for (const [i, t] of trials.entries()) study.tell(t, i === 5 && batch % 7 === 0 ? 'FAIL' : 'COMPLETE', values[i]!);
  }
  const hv = hypervolume2d(
    study.trials.filter((t) => t.state === 'COMPLETE').map((t) => t.values!),
    [1.1, 1.1],
  );
  assert.ok(hv > 0.55 * TRUE_HV, `hypervolume ${hv}`);
});

test('NSGA-II with constraints: late generations are mostly feasible', () => {
  const study = new ToyStudy(['minimize', 'minimize']);
  // feasible when x0 >= 0.5: half of the true front is cut away
  const sampler = new NSGAIISampler({ seed: 1, populationSize: 20, constraintsFunc: (t) => [0.5 - (t.params.x0 as number)] });
  study.optimize(sampler, (t) => zdt1(t, 5), 300);
  const late = study.trials.slice(200);
  const feasible = late.filter((t) => (t.params.x0 as number) >= 0.5).length;
  assert.ok(feasible >= 75, `${feasible}/100 late trials feasible`);
});

test('NSGA-II: generations from trial numbers; bad options are named', () => {
  const s = new NSGAIISampler({ populationSize: 10 });
  assert.equal(s.generationOf({ number: 25 } as never), 2);
  assert.throws(() => new NSGAIISampler({ populationSize: 1 }), /populationSize must be an integer >= 2, got 1/);
  assert.throws(() => new NSGAIISampler({ mutationProb: 2 }), /mutationProb must be in \[0, 1\] or null, got 2/);
  assert.throws(() => new NSGAIISampler({ crossover: 'blx' as never }), /crossover must be 'uniform' or 'sbx', got blx/);
});
