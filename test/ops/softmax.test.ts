import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const weigh = (y: at.Tensor) => at.sum(at.mul(y, seeded64([...y.shape], 31)));

describe('softmax and logSoftmax', () => {
  it('rows sum to one and large logits stay finite', () => {
    const y = at.softmax(
      at.tensor([
        [1, 2, 3],
        [1000, 1000, -1000],
      ]),
    );
    const v = Array.from(y.view());
    assertClose(v.slice(0, 3), [0.09003057, 0.24472847, 0.66524096], 1e-6);
    assertClose(v.slice(3), [0.5, 0.5, 0], 1e-7);
    assertClose(at.logSoftmax(at.tensor([[1e4, 0]])).view(), [0, -1e4], 1e-7);
  });

  it('works along any axis', () => {
    const x = seeded64([3, 4, 5], 1);
    const s = at.sum(at.softmax(x, 1), 1);
    assertClose(s.view(), new Array(15).fill(1), 1e-12);
    assertClose(at.exp(at.logSoftmax(x, 0)).view(), at.softmax(x, 0).view(), 1e-12);
  });

  it('gradients match finite differences', () => {
    gradcheck((x) => weigh(at.softmax(x, -1)), [seeded64([3, 5], 2)]);
    gradcheck((x) => weigh(at.softmax(x, 0)), [seeded64([4, 3], 3)]);
    gradcheck((x) => weigh(at.logSoftmax(x, 1)), [seeded64([2, 4, 3], 4)]);
  });

  it('names the op on a bad axis', () => {
    assert.throws(() => at.softmax(at.zeros([2, 2]), 3), /softmax: axis 3 is out of range for a tensor of rank 2/);
  });
});
