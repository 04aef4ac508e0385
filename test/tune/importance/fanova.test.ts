import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../../src/tensor/random.ts';
import type { Distribution, ParamValue } from '../../../src/tune/distributions.ts';
import type { FrozenTrial } from '../../../src/tune/frozen-trial.ts';
import { fanovaImportances } from '../../../src/tune/importance/fanova.ts';

const distributions: Record<string, Distribution> = {
  x: { kind: 'float', low: 0, high: 1, log: false, step: null },
  lr: { kind: 'float', low: 1e-4, high: 1e-1, log: true, step: null },
  noise: { kind: 'int', low: 0, high: 9, log: false, step: 1 },
  kind: { kind: 'categorical', choices: ['a', 'b', 'c'] },
};

function trials(n: number, f: (p: Record<string, ParamValue>) => number): FrozenTrial[] {
  const rng = new Rng(3);
  const u = () => rng.nextU32() / 2 ** 32;
  return Array.from({ length: n }, (_, number) => {
    const params = { x: u(), lr: 10 ** (-4 + 3 * u()), noise: Math.floor(10 * u()), kind: ['a', 'b', 'c'][Math.floor(3 * u())] };
    return {
      number,
      trialId: number,
      state: 'COMPLETE',
      params,
      distributions,
      values: [f(params)],
      intermediateValues: new Map(),
      userAttrs: {},
      systemAttrs: {},
      datetimeStart: null,
      datetimeComplete: null,
    };
  });
}

describe('fANOVA importances', () => {
  it('matches the analytic variance shares of an additive function by how much of the objective they explain, and sums to 1', () => {
    const imp = fanovaImportances(
      trials(200, (p) => 10 * (p.x as number) + Math.log10(p.lr as number) + (p.kind === 'c' ? 4 : 0)),
      { seed: 1 },
    );
    const sum = [...imp.values()].reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
    const x = imp.get('x') ?? 0;
    const lr = imp.get('lr') ?? 0;
    const kind = imp.get('kind') ?? 0;
    const noise = imp.get('noise') ?? 1;
    assert.ok(x > lr && x > kind, `x ${x}, lr ${lr}, kind ${kind}`);
    assert.ok(noise < 0.05, `irrelevant parameter got ${noise}`);
    // analytic main-effect shares: Var(10x) = 100/12, Var(log10 lr) = 9/12, Var(4·[kind = c]) = 16·2/9
    const total = 100 / 12 + 9 / 12 + 32 / 9;
    for (const [name, expected] of [
      ['x', 100 / 12 / total],
      ['lr', 9 / 12 / total],
      ['kind', 32 / 9 / total],
    ] as const) {
      const got = imp.get(name) ?? 0;
      assert.ok(Math.abs(got - expected) < 0.06, `${name}: ${got.toFixed(3)} vs analytic ${expected.toFixed(3)}`);
    }
  });

  it('is seeded and refuses too few trials', () => {
    const t = trials(60, (p) => (p.x as number) ** 2);
    assert.deepEqual(fanovaImportances(t, { seed: 5 }), fanovaImportances(t, { seed: 5 }));
    assert.throws(() => fanovaImportances(t.slice(0, 1)), /at least 2 completed trials, got 1/);
  });
});
