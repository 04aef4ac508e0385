// The Parzen estimator against Optuna 3.1's _ParzenEstimator (Debian python3-optuna 3.1.0):
// the fixtures are its log_pdf on the same observations, printed by
//   P = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, multivariate)
//   _ParzenEstimator({name: obs}, {name: dist}, P).log_pdf({name: np.array(points)})
// (univariate per parameter; multivariate over x, l, i jointly).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/tensor/random.js';
import type { Distribution } from '../../../src/tune/distributions.js';
import { ParzenEstimator } from '../../../src/tune/samplers/parzen-estimator.js';
import { defaultWeights } from '../../../src/tune/samplers/tpe.js';

const space: Record<string, Distribution> = {
  x: { kind: 'float', low: -5, high: 10, log: false, step: null },
  l: { kind: 'float', low: 1e-5, high: 1e-1, log: true, step: null },
  i: { kind: 'int', low: 32, high: 512, log: false, step: 32 },
  c: { kind: 'categorical', choices: ['a', 'b', 'c'] },
};
const obs: Record<string, number[]> = {
  x: [1.0, 2.5, -4.0, 9.0, 3.3],
  l: [1e-3, 3e-4, 0.05, 2e-5, 1e-2],
  i: [64, 256, 512, 32, 128],
  c: [0, 1, 1, 2, 0],
};
const optuna31: Record<string, [number[], number[]]> = {
  x: [
    [-5, 0, 1.1, 9.99],
    [-1.0822677394413232, -0.7570854056186838, -0.702952599805069, -1.1115230865150458],
  ],
  l: [
    [1e-5, 1e-3, 0.09],
    [-1.2179684689744372, -0.9140903027333728, -1.1811618179860517],
  ],
  i: [
    [32, 96, 512],
    [-2.155157551557104, -2.197711058166178, -3.513211182226745],
  ],
  c: [
    [0, 1, 2],
    [-0.9932517730102834, -0.9932517730102837, -1.3499267169490157],
  ],
};
const univariate = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate: false };

test("log_pdf matches Optuna 3.1's Parzen estimator: float, log float, stepped int, categorical", () => {
  for (const [name, [points, expected]] of Object.entries(optuna31)) {
    const pe = new ParzenEstimator({ [name]: obs[name]! }, { [name]: space[name]! }, univariate, defaultWeights(5));
    const got = pe.logPdf({ [name]: points });
    for (const [k, e] of expected.entries()) assert.ok(Math.abs(got[k]! - e) < 1e-12, `${name}(${points[k]}): ${got[k]} vs Optuna ${e}`);
  }
});

test('multivariate log_pdf matches Optuna 3.1 (Scott-like bandwidth, product kernels)', () => {
  const names = ['x', 'l', 'i'];
  const pe = new ParzenEstimator(
    Object.fromEntries(names.map((n) => [n, obs[n]!])),
    Object.fromEntries(names.map((n) => [n, space[n]!])),
    { ...univariate, multivariate: true },
    defaultWeights(5),
  );
  const got = pe.logPdf({ x: [0, 2], l: [1e-3, 1e-2], i: [64, 256] });
  for (const [k, e] of [-4.105446157043072, -4.346071397691791].entries()) assert.ok(Math.abs(got[k]! - e) < 1e-12, `${got[k]} vs ${e}`);
});

test('normalised kernels integrate to one; samples stay on the grid and in bounds', () => {
  const pe = new ParzenEstimator({ x: obs.x! }, { x: space.x! }, { ...univariate, normalizeBandwidth: true }, defaultWeights(5));
  const n = 3000;
  const xs = Array.from({ length: n + 1 }, (_, k) => -5 + (15 * k) / n);
  const dens = pe.logPdf({ x: xs });
  let integral = 0;
  for (let k = 0; k <= n; k++) integral += (k === 0 || k === n ? 0.5 : 1) * Math.exp(dens[k]!);
  assert.ok(Math.abs((integral * 15) / n - 1) < 1e-4, `integral ${(integral * 15) / n}`);
  const grid = new ParzenEstimator({ i: obs.i! }, { i: space.i! }, univariate, defaultWeights(5));
  const mass = grid.logPdf({ i: Array.from({ length: 16 }, (_, k) => 32 + 32 * k) });
  assert.ok(Math.abs(mass.reduce((a, m) => a + Math.exp(m), 0) - 1) < 1e-12, 'grid masses sum to one');
  const s = grid.sample(new Rng(1), 500).i!;
  for (const v of s) assert.ok(v >= 32 && v <= 512 && (v - 32) % 32 === 0, `sample ${v}`);
});
