import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose } from '../helpers.ts';

describe('autograd', () => {
  it('loss.backward() fills .grad of leaves that require it, and accumulates across calls', () => {
    const w = at.tensor([1, 2, 3]).setRequiresGrad();
    const x = at.tensor([4, 5, 6]);
    at.sum(at.mul(w, x)).backward();
    assert.deepEqual(Array.from(w.grad!.view()), [4, 5, 6]);
    assert.equal(x.grad, null);
    at.sum(at.mul(w, x)).backward();
    assert.deepEqual(Array.from(w.grad!.view()), [8, 10, 12]);
  });

  it('sums gradients over fan-out (x used twice)', () => {
    const x = at.tensor([3]).setRequiresGrad();
    at.sum(at.add(at.mul(x, x), x)).backward();
    assert.deepEqual(Array.from(x.grad!.view()), [7]);
  });

  it('valueAndGrad returns the value and the gradient of every input, leaving inputs untouched', () => {
    const f = (a: at.Tensor, b: at.Tensor) => at.sum(at.mul(at.exp(a), b));
    const a = at.tensor([0, 1]);
    const b = at.tensor([2, 3]);
    const { value, grads } = at.valueAndGrad(f)(a, b);
    assertClose([value.item()], [2 + 3 * Math.E], 1e-6);
    assertClose(grads[0].view(), [2, 3 * Math.E], 1e-6);
    assertClose(grads[1].view(), [1, Math.E], 1e-6);
    assert.equal(a.requiresGrad, false);
    assert.equal(a.grad, null);
  });

  it('gives zero gradients for inputs the value does not depend on', () => {
    const [ga, gb] = at.grad((a: at.Tensor, _b: at.Tensor) => at.sum(a))(at.ones([2]), at.ones([3]));
    assert.deepEqual(Array.from(ga.view()), [1, 1]);
    assert.deepEqual(Array.from(gb.view()), [0, 0, 0]);
  });

  it('noGrad records nothing', () => {
    const w = at.ones([2]).setRequiresGrad();
    const y = at.noGrad(() => at.mul(w, w));
    assert.equal(y.gradNode, null);
    assert.throws(() => at.sum(y).backward(), /backward: tensor \[\] does not require a gradient/);
  });

  it('explains a backward from a non-scalar without gradOutput', () => {
    const w = at.ones([2]).setRequiresGrad();
    assert.throws(() => at.mul(w, w).backward(), /backward: a non-scalar tensor \[2\] needs gradOutput of the same shape/);
    const y = at.mul(w, w);
    y.backward(at.tensor([1, 10]));
    assert.deepEqual(Array.from(w.grad!.view()), [2, 20]);
  });

  it('int32 tensors cannot require gradients', () => {
    assert.throws(() => at.zeros([2], 'int32').setRequiresGrad(), /an int32 tensor \[2\] cannot require a gradient/);
  });
});

describe('memory', () => {
  it('a 1,000-step training loop holds heap memory flat', () => {
    const w1 = at.randn([16, 32], { seed: 1, std: 0.1 });
    const w2 = at.randn([32, 4], { seed: 2, std: 0.1 });
    const x = at.randn([64, 16], { seed: 3 });
    const targets = at.tensor(Int32Array.from({ length: 64 }, (_, i) => i % 4));
    const params = [w1, w2].map((p) => p.setRequiresGrad());
    const step = () =>
      at.tidy(() => {
        const loss = at.crossEntropy(at.matmul(at.gelu(at.matmul(x, w1)), w2), targets);
        loss.backward();
        at.noGrad(() => {
          for (const p of params) {
            const updated = at.sub(p, at.mulScalar(p.grad!, 0.1));
            p.view().set(updated.view());
            p.grad!.dispose();
            p.grad = null;
          }
        });
        return loss.item();
      });
    const first = step();
    const afterWarmup = at.getHeap().stats;
    let last = first;
    for (let i = 0; i < 999; i++) last = step();
    const after = at.getHeap().stats;
    assert.equal(after.liveBytes, afterWarmup.liveBytes, 'live bytes changed over 1,000 steps');
    assert.equal(after.heapBytes, afterWarmup.heapBytes, 'the heap grew over 1,000 steps');
    assert.ok(last < first * 0.5, `loss did not fall: ${first} -> ${last}`);
  });
});
