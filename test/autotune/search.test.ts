// The search strategies on synthetic cost functions (no timing noise): the
// exhaustive sweep finds the global minimum; coordinate descent finds the
// minimum of separable costs with far fewer candidates; racing drops clearly
// slower candidates after one sample; the time budget stops a search.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { combinations, coordinateDescent, exhaustive, spaceSize } from '../../src/autotune/search.ts';
import type { Settings } from '../../src/backend/settings.ts';

const space = { a: [1, 2, 4, 8, 16], b: [16, 32, 64, 128, 256, 512], c: [0, 1, 2] };
const options = { repeats: 3, budgetSeconds: 60, maxPasses: 3, raceMargin: 1.25 };

/** A separable cost with its minimum at (aBest, bBest, cBest). */
function separable(aBest: number, bBest: number, cBest: number) {
  return (s: Settings) =>
    1 + (Math.log2(s.a) - Math.log2(aBest)) ** 2 + 0.5 * (Math.log2(s.b) - Math.log2(bBest)) ** 2 + 0.3 * Math.abs(s.c - cBest);
}

describe('autotune search', () => {
  it('combinations enumerate the product of the settings', () => {
    assert.equal(combinations(space).length, spaceSize(space));
    assert.equal(spaceSize(space), 90);
    assert.deepEqual(combinations({ x: [1, 2], y: [3] }), [
      { x: 1, y: 3 },
      { x: 2, y: 3 },
    ]);
  });

  it('coordinate descent reaches the minimum of any separable cost in under a third of the candidates (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...space.a), fc.constantFrom(...space.b), fc.constantFrom(...space.c), (a, b, c) => {
        const cost = separable(a, b, c);
        const sampler = (s: Settings, n: number) => new Array(n).fill(cost(s));
        const sweep = exhaustive(space, sampler, options);
        const descent = coordinateDescent(space, { a: 4, b: 64, c: 0 }, sampler, options);
        assert.deepEqual(sweep.best, { a, b, c });
        assert.deepEqual(descent.best, { a, b, c });
        assert.equal(descent.seconds, sweep.seconds);
        assert.ok(descent.evaluations < sweep.evaluations / 3, `${descent.evaluations} vs ${sweep.evaluations}`);
      }),
    );
  });

  it('walks each setting only while it improves: a minimum at the defaults costs one neighbour per side', () => {
    const cost = separable(4, 64, 1);
    const sampler = (s: Settings, n: number) => new Array(n).fill(cost(s));
    const r = coordinateDescent(space, { a: 4, b: 64, c: 1 }, sampler, options);
    assert.deepEqual(r.best, { a: 4, b: 64, c: 1 });
    assert.equal(r.evaluations, 1 + 2 + 2 + 2, 'the origin and both neighbours of each setting');
  });

  it('racing takes one sample of a candidate slower than best × raceMargin, all samples of the others', () => {
    const cost = separable(4, 16, 0);
    const taken = new Map<string, number>();
    const sampler = (s: Settings, n: number) => {
      const id = JSON.stringify(s);
      taken.set(id, (taken.get(id) ?? 0) + n);
      return new Array(n).fill(cost(s));
    };
    const r = coordinateDescent(space, { a: 1, b: 16, c: 0 }, sampler, options);
    assert.deepEqual(r.best, { a: 4, b: 16, c: 0 });
    assert.equal(taken.get(JSON.stringify({ a: 4, b: 16, c: 0 })), 3);
    assert.equal(taken.get(JSON.stringify({ a: 4, b: 32, c: 0 })), 1, 'a far worse candidate costs one sample');
    assert.ok(r.samples < r.evaluations * options.repeats);
  });

  it('asks for a probe (the cheaper first sample) only for raced candidates, never in the sweep', () => {
    const cost = separable(4, 64, 1);
    const probes: boolean[] = [];
    const sampler = (s: Settings, n: number, probe = false) => {
      probes.push(probe);
      return new Array(n).fill(cost(s));
    };
    exhaustive(space, sampler, options);
    assert.ok(probes.every((p) => !p));
    probes.length = 0;
    const r = coordinateDescent(space, { a: 4, b: 64, c: 1 }, sampler, options);
    assert.equal(probes.filter((p) => p).length, r.evaluations - 1, 'every candidate but the origin is raced');
  });

  it('a search stops at its time budget and keeps the best it saw', () => {
    const slow = (s: Settings, n: number) => {
      const until = performance.now() + 5;
      while (performance.now() < until);
      return new Array(n).fill(s.a);
    };
    const r = exhaustive(space, slow, { ...options, budgetSeconds: 0.05, repeats: 1 });
    assert.ok(r.evaluations < 90 && r.evaluations >= 1, `${r.evaluations} evaluations`);
    assert.equal(r.best.a, 1);
  });
});
