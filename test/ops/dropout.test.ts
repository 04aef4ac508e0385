import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';

describe('dropout', () => {
  it('drops about p of the elements, scales the rest, and repeats with the same seed', () => {
    const x = at.ones([20000]);
    const y = at.dropout(x, { p: 0.3, seed: 7 });
    const v = Array.from(y.view());
    const dropped = v.filter((e) => e === 0).length / v.length;
    assert.ok(Math.abs(dropped - 0.3) < 0.02, `dropped ${dropped}`);
    assert.ok(v.every((e) => e === 0 || Math.abs(e - 1 / 0.7) < 1e-6));
    assert.deepEqual(at.dropout(x, { p: 0.3, seed: 7 }).toArray(), y.toArray());
    assert.notDeepEqual(at.dropout(x, { p: 0.3, seed: 8 }).toArray(), y.toArray());
  });

  it('the backward uses the forward mask', () => {
    const x = at.randn([1000], { seed: 1 }).setRequiresGrad();
    const y = at.dropout(x, { p: 0.5, seed: 3 });
    at.sum(y).backward();
    const yv = y.view();
    const g = x.grad!.view();
    for (let i = 0; i < g.length; i++) assert.equal(g[i] === 0, yv[i] === 0 && x.view()[i] !== 0);
  });

  it('is the identity when not training or p = 0, and rejects p outside [0, 1)', () => {
    const x = at.ones([4]);
    assert.equal(at.dropout(x, { p: 0.5, training: false }), x);
    assert.equal(at.dropout(x, { p: 0 }), x);
    assert.throws(() => at.dropout(x, { p: 1 }), /dropout: p must be in \[0, 1\), got 1/);
  });
});
