// Shared test tools: float64 finite-difference gradient checks on the js
// reference, and closeness assertions with messages that name the worst element.

import assert from 'node:assert/strict';
import { type Tensor, tensor, tidy, valueAndGrad, withBackend } from '../src/index.ts';

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, label = ''): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} vs ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(e)) assert.fail(`${label}: NaN mismatch at ${i}: ${a} vs ${e}`);
    if (Number.isNaN(a) || a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) assert.fail(`${label}: element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
}

/** A deterministic float64 tensor with values in (-1, 1). */
export function seeded64(shape: number[], seed: number, { positive = false } = {}): Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 4294967296;
    data[i] = positive ? 0.5 + u : 2 * u - 1;
  }
  return tensor(data, shape, 'float64');
}

export function toFloat32(t: Tensor): Tensor {
  return tensor(Float32Array.from(t.view()), t.shape, 'float32');
}

/**
 * Checks the analytic gradient of f (a scalar function of float64 inputs,
 * run on the js reference) against central finite differences.
 */
export function gradcheck(f: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], { eps = 1e-6, rtol = 1e-5, atol = 1e-7 } = {}): void {
  withBackend('js', () => {
    const { value, grads } = valueAndGrad(f)(...inputs);
    value.dispose();
    inputs.forEach((x, idx) => {
      const v = x.view();
      const numeric = new Float64Array(x.size);
      for (let i = 0; i < x.size; i++) {
        const original = v[i];
        v[i] = original + eps;
        const plus = tidy(() => f(...inputs).item());
        v[i] = original - eps;
        const minus = tidy(() => f(...inputs).item());
        v[i] = original;
        numeric[i] = (plus - minus) / (2 * eps);
      }
      assertClose(grads[idx].view(), numeric, rtol, atol, `gradient of input ${idx}`);
      grads[idx].dispose();
    });
  });
}

/** A fixed, input-independent weighting so a tensor-valued op becomes a scalar with a rich gradient. */
export function weightedSum(y: Tensor, mul: (a: Tensor, b: Tensor) => Tensor, sum: (a: Tensor) => Tensor): Tensor {
  const w = seeded64([...y.shape], 7777);
  const out = sum(mul(y, y.dtype === 'float64' ? w : toFloat32(w)));
  return out;
}
