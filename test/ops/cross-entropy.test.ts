import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

describe('crossEntropy', () => {
  it('matches −log softmax at the target, averaged over rows', () => {
    const logits = at.tensor([
      [2, 1, 0.1],
      [0.5, 2.5, 0.3],
    ]);
    const loss = at.crossEntropy(logits, at.tensor(new Int32Array([0, 1])));
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const expected = (lse([2, 1, 0.1]) - 2 + lse([0.5, 2.5, 0.3]) - 2.5) / 2;
    assertClose([loss.item()], [expected], 1e-6);
  });

  it('label smoothing mixes in the uniform distribution (PyTorch semantics)', () => {
    const row = [1, 2, 3];
    const logZ = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const logp = row.map((v) => v - logZ);
    const expected = -(0.9 * logp[2]) - (0.1 / 3) * logp.reduce((s, v) => s + v, 0);
    const loss = at.crossEntropy(at.tensor([row]), at.tensor(new Int32Array([2])), { labelSmoothing: 0.1 });
    assertClose([loss.item()], [expected], 1e-6);
  });

  it('ignored rows count for neither loss nor gradient', () => {
    const logits = at
      .tensor([
        [1, 2],
        [3, 4],
      ])
      .setRequiresGrad();
    const loss = at.crossEntropy(logits, at.tensor(new Int32Array([1, -100])));
    assertClose([loss.item()], [Math.log(Math.exp(1) + Math.exp(2)) - 2], 1e-6);
    loss.backward();
    assert.deepEqual(Array.from(logits.grad!.view()).slice(2), [0, 0]);
  });

  it('gradients match finite differences for mean, sum and none reductions', () => {
    const targets = at.tensor(new Int32Array([2, 0, -100, 1]), [2, 2]);
    for (const reduction of ['mean', 'sum'] as const) {
      gradcheck((x) => at.crossEntropy(x, targets, { labelSmoothing: 0.2, reduction }), [seeded64([2, 2, 3], 1)]);
    }
    gradcheck((x) => at.sum(at.mul(at.crossEntropy(x, targets, { reduction: 'none' }), seeded64([2, 2], 3))), [seeded64([2, 2, 3], 2)]);
  });

  it('names a target out of range and a shape mismatch', () => {
    assert.throws(
      () => at.crossEntropy(at.zeros([2, 3]), at.tensor(new Int32Array([0, 3]))),
      /crossEntropy: target 3 at row 1 is out of range for 3 classes/,
    );
    assert.throws(
      () => at.crossEntropy(at.zeros([2, 3]), at.tensor(new Int32Array([0]))),
      /targets \[1\] must hold one class per row of logits \[2, 3\] \(2 rows\)/,
    );
  });
});
