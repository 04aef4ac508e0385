// The 'scott' bandwidth of TPE's joint kernels (parzen-estimator.ts): Scott's rule from the
// observations' spread, floored at minBandwidthFactor·range and one grid step, normalised kernels;
// pending trials (constant liar) take no part in the width and get narrow kernels of their own.
// Expected values are computed here from the formulas, independently of the estimator's code.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Distribution } from '../../../src/tune/distributions.js';
import { ParzenEstimator, type ParzenEstimatorParameters } from '../../../src/tune/samplers/parzen-estimator.js';
import { TPESampler } from '../../../src/tune/samplers/tpe.js';
import { erf } from '../../../src/tune/samplers/truncnorm.js';
import { ToyStudy } from './toy-study.js';

const X: Distribution = { kind: 'float', low: 0, high: 10, log: false, step: null };
const scott: ParzenEstimatorParameters = {
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: true,
  bandwidth: 'scott',
  minBandwidthFactor: 0.07,
};

const cdf = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));

/** Scott's rule as written in the header: 1.059·min(sd, IQR/1.34)·m^(−1/(d+4)) over the points and the prior mean. */
function scottSigma(points: number[], d: number): number {
  const m = points.length;
  const mean = points.reduce((a, b) => a + b, 0) / m;
  const sd = Math.sqrt(points.reduce((a, x) => a + (x - mean) ** 2, 0) / (m - 1));
  const s = [...points].sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (m - 1) * p;
    const i = Math.floor(h);
    return s[i]! + (h - i) * ((s[i + 1] ?? s[i]!) - s[i]!);
  };
  const iqr = q(0.75) - q(0.25);
  return 1.059 * Math.min(sd, iqr / 1.34) * m ** (-1 / (d + 4));
}

/** Density at x of equally weighted truncated Gaussians on [0, 10] plus the prior N(5, 10). */
function mixtureDensity(x: number, kernels: [number, number][]): number {
  const all: [number, number][] = [...kernels, [5, 10]];
  let p = 0;
  for (const [mu, s] of all) {
    const mass = cdf((10 - mu) / s) - cdf((0 - mu) / s);
    p += Math.exp(-0.5 * ((x - mu) / s) ** 2) / (s * Math.sqrt(2 * Math.PI) * mass);
  }
  return p / all.length;
}

test("'scott' kernels: one width from the observations' spread, normalised densities", () => {
  const obs = [2, 3, 3.5, 4, 6];
  const sigma = scottSigma([...obs, 5], 1);
  assert.ok(sigma > 0.7, `the example is above the floor (${sigma})`);
  const pe = new ParzenEstimator({ x: obs }, { x: X }, scott, [1, 1, 1, 1, 1]);
  const xs = [0.5, 3.2, 7, 9.9];
  const got = pe.logPdf({ x: xs });
  xs.forEach((x, i) => {
    const want = Math.log(
      mixtureDensity(
        x,
        obs.map((mu) => [mu, sigma]),
      ),
    );
    assert.ok(Math.abs(got[i]! - want) < 1e-10, `log p(${x}) = ${got[i]} vs ${want}`);
  });
  // a proper density: integrates to one over the range
  const n = 4000;
  const grid = Array.from({ length: n + 1 }, (_, k) => (10 * k) / n);
  const dens = pe.logPdf({ x: grid });
  let integral = 0;
  for (let k = 0; k <= n; k++) integral += (k === 0 || k === n ? 0.5 : 1) * Math.exp(dens[k]!);
  assert.ok(Math.abs((integral * 10) / n - 1) < 1e-6, `integral ${(integral * 10) / n}`);
});

test("'scott' floors: a tight cluster keeps minBandwidthFactor·range; a grid reaches its neighbour cells", () => {
  const obs = [4.9, 5, 5, 5.1];
  const pe = new ParzenEstimator({ x: obs }, { x: X }, scott, [1, 1, 1, 1]);
  const want = Math.log(
    mixtureDensity(
      5.6,
      obs.map((mu) => [mu, 0.7]),
    ),
  );
  assert.ok(Math.abs(pe.logPdf({ x: [5.6] })[0]! - want) < 1e-10);
  // layers in 1..8, every observation at 3: one step (1) beats 0.07·range (0.56), so cell 4 keeps mass
  const layers: Distribution = { kind: 'int', low: 1, high: 8, log: false, step: 1 };
  const grid = new ParzenEstimator({ layers: [3, 3, 3, 3, 3] }, { layers }, scott, [1, 1, 1, 1, 1]);
  const mass = grid.logPdf({ layers: [3, 4] }).map(Math.exp);
  const cell = (lo: number, hi: number, mu: number, s: number) =>
    (cdf((hi - mu) / s) - cdf((lo - mu) / s)) / (cdf((8.5 - mu) / s) - cdf((0.5 - mu) / s));
  const want4 = (5 * cell(3.5, 4.5, 3, 1) + cell(3.5, 4.5, 4.5, 8)) / 6;
  assert.ok(Math.abs(mass[1]! - want4) < 1e-10, `mass of 4: ${mass[1]} vs ${want4}`);
  assert.ok(mass[1]! > 0.2, 'the neighbouring cell is still proposed');
});

test("'scott' with pending trials: they take no part in the width and get kernels of 0.01·range", () => {
  const obs = [2, 3, 4, 9];
  const pe = new ParzenEstimator({ x: obs }, { x: X }, scott, [1, 1, 1, 1], [false, false, false, true]);
  const sigma = Math.max(0.7, scottSigma([2, 3, 4, 5], 1));
  const kernels: [number, number][] = [
    [2, sigma],
    [3, sigma],
    [4, sigma],
    [9, 0.1],
  ];
  const xs = [3, 8.9, 9];
  const got = pe.logPdf({ x: xs });
  xs.forEach((x, i) => {
    const want = Math.log(mixtureDensity(x, kernels));
    assert.ok(Math.abs(got[i]! - want) < 1e-10, `log p(${x}) = ${got[i]} vs ${want}`);
  });
});

test('TPE defaults: multivariate with group decomposition; bad bandwidth options are named', () => {
  const study = new ToyStudy();
  const sampler = new TPESampler({ seed: 3 });
  study.optimize(sampler, (t) => t.float('x', 0, 1) + t.int('k', 0, 4), 12);
  const probe = study.ask(sampler);
  assert.deepEqual(Object.keys(sampler.inferRelativeSearchSpace(study, probe.frozen)).sort(), ['k', 'x']);
  assert.deepEqual(Object.keys(new TPESampler({ multivariate: false }).inferRelativeSearchSpace(study, probe.frozen)), []);
  assert.throws(() => new TPESampler({ bandwidth: 'silverman' as 'scott' }), /bandwidth must be 'scott' or 'optuna', got silverman/);
  assert.throws(() => new TPESampler({ minBandwidthFactor: -0.1 }), /minBandwidthFactor must be in \[0, 1\], got -0.1/);
});

test("TPE's default closes in on Branin's minimum (0.398) better than Optuna 3.1's settings", () => {
  const branin = (x1: number, x2: number) =>
    (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 ** 2 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
  const medianBest = (options: object) => {
    const bests: number[] = [];
    for (let seed = 0; seed < 5; seed++) {
      const study = new ToyStudy();
      study.optimize(new TPESampler({ seed, ...options }), (t) => branin(t.float('x1', -5, 10), t.float('x2', 0, 15)), 80);
      bests.push(Math.min(...study.trials.map((t) => t.values![0]!)));
    }
    return bests.sort((a, b) => a - b)[2]!;
  };
  const ours = medianBest({});
  const optuna31 = medianBest({ multivariate: false });
  assert.ok(ours < 0.42, `median best ${ours}`);
  assert.ok(ours < optuna31, `${ours} vs Optuna 3.1's settings ${optuna31}`);
});
