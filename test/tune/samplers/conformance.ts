// One conformance suite for every sampler (as Optuna's test_samplers.py): values inside their
// distributions (bounds, steps, log scales, int, categorical), single-point distributions,
// conditional parameters, and reproducibility with a seed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contains, type Distribution, distributionToString } from '../../../src/tune/distributions.js';
import type { Sampler } from '../../../src/tune/samplers/base.js';
import { ToyStudy, type ToyTrial } from './toy-study.js';

export const CONFORMANCE_SPACE: Record<string, Distribution> = {
  uniform: { kind: 'float', low: -3.5, high: 7.25, log: false, step: null },
  logFloat: { kind: 'float', low: 1e-5, high: 1e-1, log: true, step: null },
  stepFloat: { kind: 'float', low: 0.1, high: 1.0, log: false, step: 0.15 },
  int: { kind: 'int', low: -4, high: 9, log: false, step: 1 },
  stepInt: { kind: 'int', low: 2, high: 20, log: false, step: 3 },
  logInt: { kind: 'int', low: 1, high: 1024, log: true, step: 1 },
  cat: { kind: 'categorical', choices: ['relu', 'gelu', 7, true, null] },
};

/** A smooth objective over CONFORMANCE_SPACE, so model-based samplers leave their startup phase. */
function objective(t: ToyTrial): number[] {
  let y = 0;
  for (const [name, d] of Object.entries(CONFORMANCE_SPACE)) {
    const v = t.suggest(name, d);
    if (d.kind === 'categorical') y += d.choices.indexOf(v);
    else if (d.log) y += Math.log(v as number);
    else y += ((v as number) - d.low) / (d.high - d.low);
  }
  return [y, -y];
}

/** A conditional space: the model choice decides which parameters exist. */
function conditional(t: ToyTrial): number[] {
  const model = t.categorical('model', ['linear', 'tree']);
  let y: number;
  if (model === 'linear') y = (t.float('lr', 1e-4, 1, { log: true }) - 0.01) ** 2;
  else y = (t.int('depth', 1, 12) - 4) ** 2 + t.float('minLeaf', 0, 1, { step: 0.25 });
  return [y, -y];
}

export interface ConformanceOptions {
  /** the samplers work on several objectives (NSGA-II) */
  directions?: ('minimize' | 'maximize')[];
  nTrials?: number;
}

/** Registers the conformance tests for samplers made by `make(seed)`. */
export function samplerConformance(name: string, make: (seed: number) => Sampler, options: ConformanceOptions = {}): void {
  const directions = options.directions ?? ['minimize'];
  const nTrials = options.nTrials ?? 40;
  const values = (study: ToyStudy) => study.trials.map((t) => ({ ...t.params }));
  const run = (seed: number, fn: (t: ToyTrial) => number[]): ToyStudy => {
    const study = new ToyStudy(directions);
    study.optimize(make(seed), (t) => fn(t).slice(0, directions.length), nTrials);
    return study;
  };

  test(`${name}: every sampled value lies in its distribution (bounds, steps, log, int, categorical)`, () => {
    const study = run(1, objective);
    for (const t of study.trials) {
      for (const [param, d] of Object.entries(CONFORMANCE_SPACE)) {
        const v = t.params[param]!;
        assert.ok(contains(d, v), `trial ${t.number}: ${param} = ${JSON.stringify(v)} not in ${distributionToString(d)}`);
      }
    }
    // every categorical choice is reachable, and the log int spans a decade
    const cats = new Set(study.trials.map((t) => t.params.cat));
    assert.ok(cats.size >= 3, `only ${cats.size} categorical choices seen`);
    const logInts = study.trials.map((t) => t.params.logInt as number);
    assert.ok(Math.max(...logInts) >= 10 * Math.min(...logInts), `log int range ${Math.min(...logInts)}..${Math.max(...logInts)}`);
  });

  test(`${name}: the same seed gives the same trials, another seed different ones`, () => {
    assert.deepEqual(values(run(7, objective)), values(run(7, objective)));
    assert.notDeepEqual(values(run(7, objective)), values(run(8, objective)));
  });

  test(`${name}: conditional parameters are sampled only in their branch and within bounds`, () => {
    const study = run(3, conditional);
    const models = new Set(study.trials.map((t) => t.params.model));
    assert.deepEqual([...models].sort(), ['linear', 'tree']);
    for (const t of study.trials) {
      const keys = Object.keys(t.params).sort();
      if (t.params.model === 'linear') {
        assert.deepEqual(keys, ['lr', 'model']);
        assert.ok((t.params.lr as number) >= 1e-4 && (t.params.lr as number) <= 1);
      } else {
        assert.deepEqual(keys, ['depth', 'minLeaf', 'model']);
        assert.ok(Number.isInteger(t.params.depth) && (t.params.depth as number) >= 1 && (t.params.depth as number) <= 12);
        assert.ok([0, 0.25, 0.5, 0.75, 1].includes(t.params.minLeaf as number), `minLeaf ${t.params.minLeaf}`);
      }
    }
  });

  test(`${name}: single-point distributions give their one value`, () => {
    const study = run(5, (t) => {
      const a = t.float('a', 2.5, 2.5);
      const b = t.int('b', 3, 3);
      const c = t.categorical('c', ['only']);
      const x = t.float('x', 0, 1);
      assert.equal(a, 2.5);
      assert.equal(b, 3);
      assert.equal(c, 'only');
      return [x, -x];
    });
    assert.equal(study.trials.length, nTrials);
  });
}
