import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const mulW = (y: at.Tensor) => at.sum(at.mul(y, seeded64([...y.shape], 99)));

const cases: [string, (x: at.Tensor) => at.Tensor, (v: number) => number, { positive?: boolean }][] = [
  ['neg', at.neg, (v) => -v, {}],
  ['exp', at.exp, Math.exp, {}],
  ['log', at.log, Math.log, { positive: true }],
  ['sqrt', at.sqrt, Math.sqrt, { positive: true }],
  ['rsqrt', at.rsqrt, (v) => 1 / Math.sqrt(v), { positive: true }],
  ['abs', at.abs, Math.abs, {}],
  ['square', at.square, (v) => v * v, {}],
  ['tanh', at.tanh, Math.tanh, {}],
  ['sigmoid', at.sigmoid, (v) => 1 / (1 + Math.exp(-v)), {}],
  ['relu', at.relu, (v) => Math.max(v, 0), {}],
  ['silu', at.silu, (v) => v / (1 + Math.exp(-v)), {}],
  ['gelu', (x) => at.gelu(x), (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)), {}],
  [
    'gelu tanh',
    (x) => at.gelu(x, { approximate: 'tanh' }),
    (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    {},
  ],
  ['addScalar', (x) => at.addScalar(x, 2.5), (v) => v + 2.5, {}],
  ['mulScalar', (x) => at.mulScalar(x, -3), (v) => v * -3, {}],
  ['powScalar', (x) => at.powScalar(x, 1.7), (v) => v ** 1.7, { positive: true }],
  ['rsubScalar', (x) => at.rsubScalar(x, 1), (v) => 1 - v, {}],
  ['rdivScalar', (x) => at.rdivScalar(x, 2), (v) => 2 / v, { positive: true }],
];

/** erf by Simpson integration: independent of the library's series. */
function erfRef(x: number): number {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
}

describe('unary ops', () => {
  for (const [name, f, ref, opts] of cases) {
    it(`${name}: values match the formula`, () => {
      const x = seeded64([3, 7], name.length, opts);
      const y = at.withBackend('js', () => f(x));
      assertClose(y.view(), Array.from(x.view(), ref), 1e-10, 1e-12, name);
    });
    it(`${name}: gradient matches finite differences`, () => {
      gradcheck((x) => mulW(f(x)), [seeded64([2, 5], 3 + name.length, opts)]);
    });
  }

  it('relu passes no gradient at negative inputs', () => {
    const x = at.tensor([-2, -0.5, 0.5, 2]).setRequiresGrad();
    at.sum(at.relu(x)).backward();
    assert.deepEqual(Array.from(x.grad!.view()), [0, 0, 1, 1]);
  });

  it('float32 results agree with the float64 reference', () => {
    const x64 = seeded64([4, 33], 5);
    const x32 = at.tensor(Float32Array.from(x64.view()), x64.shape);
    for (const [name, f, , opts] of cases) {
      if (opts.positive) continue;
      assertClose(f(x32).view(), at.withBackend('js', () => f(x64)).view(), 1e-5, 1e-6, name);
    }
  });
});
