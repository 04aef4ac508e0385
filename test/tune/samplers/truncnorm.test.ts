// The truncated-normal math of TPE against reference values: erfc / Φ / Φ⁻¹ tables (as scipy.special
// prints them), and the tail asymptotics log Q(z) ≈ −z²/2 − log(z·√(2π)) + log(1 − 1/z² + 3/z⁴).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/tensor/random.js';
import { uniform53 } from '../../../src/tune/samplers/random.js';
import { erfc, logGaussMass, logNdtr, ndtriExp, truncnormLogPdf, truncnormPpf } from '../../../src/tune/samplers/truncnorm.js';

const close = (a: number, b: number, rel = 1e-12) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('erfc and log Φ match scipy far into the tails', () => {
  close(erfc(0.5), 0.4795001221869535);
  close(erfc(1.9), 0.007209570764742524, 1e-13);
  close(erfc(2.1), 0.002979466656333533, 1e-12);
  close(erfc(5), 1.537459794428035e-12, 1e-12);
  close(erfc(3), 2.209049699858544e-5, 1e-12);
  close(erfc(4), 1.541725790028002e-8, 1e-12);
  close(erfc(7), 4.183825607779414e-23, 1e-12);
  close(erfc(9), 4.13703174651381e-37, 1e-12);
  close(erfc(-1), 1.8427007929497148);
  close(logNdtr(-40), -804.6084420137538);
  close(logNdtr(3), -0.0013508099647482027, 1e-12);
  close(logNdtr(0), Math.log(0.5));
});

test('ndtriExp inverts log Φ from 1e-300 to 1 − 1e-6', () => {
  for (const p of [1e-300, 1e-10, 0.01, 0.3, 0.5, 0.9, 0.999999]) close(Math.exp(logNdtr(ndtriExp(Math.log(p)))), p, 1e-11);
  close(ndtriExp(Math.log(0.975)), 1.959963984540054, 1e-12);
});

test('truncated normal: mass, sampling stays in [a, b] and follows the CDF, even 30σ out', () => {
  close(logGaussMass(-1, 1), Math.log(0.6826894921370859));
  close(logGaussMass(30, 31), -450 - Math.log(30 * Math.sqrt(2 * Math.PI)) + Math.log(1 - 1 / 900 + 3 / 810000), 1e-10);
  const rng = new Rng(1);
  for (const [a, b] of [
    [-1, 1],
    [30, 40],
    [-40, -30],
    [-2, 100],
  ] as const) {
    const xs = Array.from({ length: 2000 }, () => truncnormPpf(uniform53(rng), a, b));
    assert.ok(xs.every((x) => x >= a && x <= b));
    // median of the sample vs the ppf at ½
    xs.sort((p, q) => p - q);
    const med = truncnormPpf(0.5, a, b);
    assert.ok(Math.abs(xs[1000]! - med) < 0.1, `${a},${b}: sample median ${xs[1000]} vs ${med}`);
  }
  // density integrates to 1 on [a, b] (trapezoid rule)
  let s = 0;
  const n = 4000;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(truncnormLogPdf(-0.5 + (2.5 * i) / n, -0.5, 2));
  close((s * 2.5) / n, 1, 1e-6);
});
