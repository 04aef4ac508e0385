import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  contains,
  type Distribution,
  floatDistribution,
  intDistribution,
  isSingle,
  sameDistribution,
  toExternal,
  toInternal,
  validateDistribution,
} from '../../../src/tune/distributions.js';

test('validateDistribution: bad distributions get errors naming the parameter and the value', () => {
  const bad: [Distribution, RegExp][] = [
    [{ kind: 'float', low: 2, high: 1, log: false, step: null }, /'x'.*low must be <= high, got low=2, high=1/],
    [{ kind: 'float', low: 0, high: 1, log: true, step: null }, /log scale needs low > 0, got low=0/],
    [{ kind: 'float', low: 1, high: 2, log: true, step: 0.1 }, /step and log cannot be combined/],
    [{ kind: 'float', low: 0, high: 1, log: false, step: -1 }, /step must be > 0/],
    [{ kind: 'int', low: 0.5, high: 3, log: false, step: 1 }, /int bounds must be integers, got low=0.5/],
    [{ kind: 'int', low: 1, high: 9, log: true, step: 2 }, /step and log cannot be combined/],
    [{ kind: 'int', low: 0, high: 9, log: false, step: 0 }, /int step must be an integer >= 1, got 0/],
    [{ kind: 'categorical', choices: [] }, /non-empty/],
    [{ kind: 'categorical', choices: [{}] as never }, /number, string, boolean or null, got object/],
    [{ kind: 'normal' } as never, /unknown kind 'normal'/],
  ];
  for (const [d, re] of bad) assert.throws(() => validateDistribution('x', d), re);
  validateDistribution('ok', { kind: 'float', low: 1e-3, high: 1, log: true, step: null });
});

test('helpers adjust high down to the step grid, as Optuna does', () => {
  assert.equal(floatDistribution(0, 1, { step: 0.3 }).high, 0.9);
  assert.equal(intDistribution(2, 11, { step: 4 }).high, 10);
  assert.throws(() => intDistribution(0, 5, { log: true }), /log scale needs low > 0, got low=0/);
});

test('toInternal/toExternal round-trip; categoricals map to indices', () => {
  const cat: Distribution = { kind: 'categorical', choices: ['a', 3, null, false] };
  for (const [i, c] of cat.choices.entries()) {
    assert.equal(toInternal(cat, c), i);
    assert.equal(toExternal(cat, i), c);
  }
  assert.throws(() => toInternal(cat, 'b'), /"b" is not one of the choices/);
  assert.throws(() => toExternal(cat, 4), /index must be in \[0, 3\], got 4/);
  const int: Distribution = { kind: 'int', low: 0, high: 9, log: false, step: 1 };
  assert.equal(toExternal(int, 3.0000001), 3);
  assert.throws(() => toInternal(int, 'x'), /int distribution expects a number, got "x"/);
});

test('contains respects bounds, integer-ness and the step grid', () => {
  const f: Distribution = { kind: 'float', low: 0.1, high: 1, log: false, step: 0.15 };
  assert.ok(contains(f, 0.1 + 3 * 0.15));
  assert.ok(!contains(f, 0.2));
  assert.ok(!contains(f, 1.2));
  const i: Distribution = { kind: 'int', low: 2, high: 20, log: false, step: 3 };
  assert.ok(contains(i, 14));
  assert.ok(!contains(i, 15));
  assert.ok(!contains(i, 14.5));
  assert.ok(!contains(i, '14' as never));
  assert.ok(contains({ kind: 'categorical', choices: [Number.NaN] }, Number.NaN));
});

test('sameDistribution and isSingle', () => {
  const a: Distribution = { kind: 'float', low: 0, high: 1, log: false, step: null };
  assert.ok(sameDistribution(a, { ...a }));
  assert.ok(!sameDistribution(a, { ...a, high: 2 }));
  assert.ok(!sameDistribution(a, { kind: 'int', low: 0, high: 1, log: false, step: 1 }));
  assert.ok(sameDistribution({ kind: 'categorical', choices: [1, 'a'] }, { kind: 'categorical', choices: [1, 'a'] }));
  assert.ok(!sameDistribution({ kind: 'categorical', choices: [1, 'a'] }, { kind: 'categorical', choices: ['a', 1] }));
  assert.ok(isSingle({ kind: 'float', low: 0, high: 0.5, log: false, step: 1 }));
  assert.ok(isSingle({ kind: 'categorical', choices: ['x'] }));
  assert.ok(!isSingle(a));
});
