import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const weigh = (y: at.Tensor) => at.sum(at.mul(y, seeded64([...y.shape], 5)));

describe('reductions', () => {
  it('sum, mean and max over axes, with and without keepDims', () => {
    const x = at.tensor([
      [1, 5, 3],
      [4, 2, 6],
    ]);
    assert.deepEqual(at.sum(x).toNested(), 21);
    assert.deepEqual(at.sum(x, 0).toNested(), [5, 7, 9]);
    assert.deepEqual(at.sum(x, -1, { keepDims: true }).toNested(), [[9], [12]]);
    assert.deepEqual(at.mean(x, 1).toNested(), [3, 4]);
    assert.deepEqual(at.max(x, 1).toNested(), [5, 6]);
    assert.deepEqual(at.max(x, [0, 1]).toNested(), 6);
    assert.throws(() => at.sum(x, 2), /sum: axis 2 is out of range for a tensor of rank 2/);
  });

  it('sum over random axes equals a direct loop (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(3)), (shape, axesRaw) => {
        const axes = [...new Set(axesRaw.filter((a) => a < shape.length))];
        const x = seeded64(shape, 3);
        const y = at.withBackend('js', () => at.sum(x, axes.length ? axes : undefined, { keepDims: true }));
        const reduced = axes.length ? axes : shape.map((_, i) => i);
        const outShape = shape.map((d, i) => (reduced.includes(i) ? 1 : d));
        const expected = new Float64Array(outShape.reduce((a, b) => a * b, 1));
        const X = x.view();
        for (let flat = 0; flat < x.size; flat++) {
          let rem = flat;
          let o = 0;
          let stride = 1;
          for (let d = shape.length - 1; d >= 0; d--) {
            const i = rem % shape[d];
            rem = Math.floor(rem / shape[d]);
            o += (reduced.includes(d) ? 0 : i) * stride;
            stride *= outShape[d];
          }
          expected[o] += X[flat];
        }
        assertClose(y.view(), expected, 1e-12, 1e-12);
      }),
      { numRuns: 50 },
    );
  });

  it('gradients match finite differences', () => {
    gradcheck((x) => weigh(at.sum(x, [0, 2])), [seeded64([2, 3, 4], 1)]);
    gradcheck((x) => weigh(at.mean(x, 1, { keepDims: true })), [seeded64([2, 3, 4], 2)]);
    gradcheck((x) => weigh(at.max(x, -1)), [seeded64([3, 5], 3)]);
  });

  it('max shares the gradient among ties', () => {
    const x = at.tensor([[2, 2, 1]]).setRequiresGrad();
    at.sum(at.max(x, 1)).backward();
    assert.deepEqual(Array.from(x.grad!.view()), [0.5, 0.5, 0]);
  });
});
