import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GridSampler } from '../../../src/tune/samplers/grid.js';
import { ToyStudy } from './toy-study.js';

const space = { x: [0, 0.5, 1], n: [1, 2], act: ['relu', 'gelu'] } as const;

test('GridSampler covers its grid exactly once, then says it is exhausted', () => {
  const study = new ToyStudy();
  const sampler = new GridSampler(space, { seed: 3 });
  assert.equal(sampler.size, 12);
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    assert.ok(!sampler.isExhausted(study));
    const t = study.ask(sampler);
    const key = JSON.stringify([t.float('x', 0, 1), t.int('n', 1, 2), t.categorical('act', ['relu', 'gelu'])]);
    assert.ok(!seen.has(key), `duplicate grid point ${key}`);
    seen.add(key);
    study.tell(t, 'COMPLETE', [0]);
  }
  assert.equal(seen.size, 12);
  assert.ok(sampler.isExhausted(study));
  // past the grid: a random grid point again (a duplicate), as Optuna
  const extra = study.ask(sampler);
  assert.ok(space.x.includes(extra.float('x', 0, 1) as 0));
});

test('GridSampler: trials asked concurrently (all RUNNING) still get distinct points', () => {
  const study = new ToyStudy();
  const sampler = new GridSampler(space, { seed: 1 });
  const trials = Array.from({ length: 12 }, () => study.ask(sampler));
  const keys = trials.map((t) => JSON.stringify([t.float('x', 0, 1), t.int('n', 1, 2), t.categorical('act', ['relu', 'gelu'])]));
  assert.equal(new Set(keys).size, 12);
});

test('GridSampler: another sampler instance on the same study (another worker) skips taken points', () => {
  const study = new ToyStudy();
  const a = new GridSampler(space, { seed: 1 });
  const b = new GridSampler(space, { seed: 1 });
  const keys = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const t = study.ask(i % 2 === 0 ? a : b);
    keys.add(JSON.stringify([t.float('x', 0, 1), t.int('n', 1, 2), t.categorical('act', ['relu', 'gelu'])]));
    study.tell(t, 'COMPLETE', [0]);
  }
  assert.equal(keys.size, 12);
});

test('GridSampler: an enqueued trial (fixed_params) takes its own grid point', () => {
  const study = new ToyStudy();
  const sampler = new GridSampler({ x: [0, 1] }, { seed: 0 });
  const first = study.ask(sampler);
  study.trials[0]!.systemAttrs.fixed_params = { x: 1 };
  // the fixed point is recognised when the next trial picks
  first.frozen.params.x = 1;
  study.tell(first, 'COMPLETE', [0]);
  const second = study.ask(sampler);
  assert.equal(second.float('x', 0, 1), 0);
});

test('GridSampler: clear errors for a bad space, unknown parameters and values outside the distribution', () => {
  assert.throws(() => new GridSampler({ x: [] }), /'x' needs a non-empty array of values, got \[\]/);
  const study = new ToyStudy();
  const t = study.ask(new GridSampler({ x: [0, 5] }, { seed: 0 }));
  assert.throws(() => t.float('y', 0, 1), /parameter 'y' is not in the grid \(grid parameters: x\)/);
  const u = study.ask(new GridSampler({ x: [5] }, { seed: 0 }));
  assert.throws(() => u.float('x', 0, 1), /grid value 5 of 'x' is outside its distribution float\(0, 1\)/);
});
