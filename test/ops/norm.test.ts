import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const weigh = (y: at.Tensor) => at.sum(at.mul(y, seeded64([...y.shape], 41)));

describe('layerNorm and rmsNorm', () => {
  it('layerNorm normalises each row to mean 0 and variance 1 before the affine map', () => {
    const x = seeded64([4, 8], 1);
    const y = at.layerNorm(x, at.ones([8], 'float64'), at.zeros([8], 'float64'), { eps: 0 });
    const rows = y.toNested() as number[][];
    for (const r of rows) {
      const m = r.reduce((s, v) => s + v, 0) / r.length;
      const v = r.reduce((s, x) => s + (x - m) ** 2, 0) / r.length;
      assert.ok(Math.abs(m) < 1e-12 && Math.abs(v - 1) < 1e-9);
    }
  });

  it('rmsNorm divides by the root mean square', () => {
    const y = at.rmsNorm(at.tensor([[3, 4]], undefined, 'float64'), at.tensor([1, 2], undefined, 'float64'), { eps: 0 });
    const rms = Math.sqrt(12.5);
    assertClose(y.view(), [3 / rms, 8 / rms], 1e-12);
  });

  it('gradients of x, gamma and beta match finite differences', () => {
    gradcheck((x, g, b) => weigh(at.layerNorm(x, g, b)), [seeded64([3, 6], 2), seeded64([6], 3), seeded64([6], 4)]);
    gradcheck((x, g) => weigh(at.rmsNorm(x, g)), [seeded64([2, 3, 5], 5), seeded64([5], 6)]);
  });

  it('rejects a gamma of the wrong size', () => {
    assert.throws(
      () => at.layerNorm(at.zeros([2, 4]), at.ones([3]), at.zeros([4])),
      /layerNorm: gamma must have shape \[4\] to match x \[2, 4\], got \[3\]/,
    );
  });
});
