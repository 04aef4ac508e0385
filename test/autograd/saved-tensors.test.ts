// Gradients through tidy() and dispose(): a recorded backward holds the
// tensors it needs, so the gradient is the same, bit for bit, as without
// them, on every backend; memory goes when the graph's root goes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { record } from '../../src/autograd/tape.ts';
import * as at from '../../src/index.ts';

const f = (w: at.Tensor) => at.sum(at.exp(at.mulScalar(w, 2)));

/** A small network with every kind of saved tensor: inputs, norm statistics, attention LSE and mask, max's argmax, crossEntropy's gradient. */
function network(w: at.Tensor, x: at.Tensor, targets: at.Tensor, mask: at.Tensor): at.Tensor {
  const h = at.layerNorm(at.matmul(x, w), at.ones([4]), at.zeros([4]));
  const q = at.reshape(h, [1, 2, 3, 2]);
  const a = at.scaledDotProductAttention(q, q, q, { mask, causal: true });
  const m = at.max(at.reshape(a, [6, 2]), 1, { keepDims: true });
  const logits = at.mul(at.reshape(a, [6, 2]), at.gelu(m));
  return at.add(at.crossEntropy(logits, targets), at.mean(at.embedding(w, at.tensor(new Int32Array([0, 2, 1])))));
}

for (const backend of ['js', 'wasm']) {
  describe(`gradients through tidy and dispose (${backend})`, () => {
    const withB = <T>(fn: () => T) => at.withBackend(backend, fn);

    it('valueAndGrad of a function that uses tidy inside equals the plain one, bit for bit', () =>
      withB(() => {
        const w = at.randn([3, 2], { seed: 1 });
        const plain = at.valueAndGrad(f)(w).grads[0].toArray();
        const tidied = at
          .valueAndGrad((w) => at.tidy(() => f(w)))(w)
          .grads[0].toArray();
        assert.ok(plain.some((g) => g !== 0));
        assert.deepEqual(tidied, plain);
      }));

    it('loss.backward() on a loss returned by tidy fills w.grad', () =>
      withB(() => {
        const w = at.randn([3, 2], { seed: 1 }).setRequiresGrad();
        const expected = at.valueAndGrad(f)(w).grads[0].toArray();
        const loss = at.tidy(() => f(w));
        loss.backward();
        assert.deepEqual(w.grad?.toArray(), expected);
      }));

    it('a disposed intermediate only drops the handle while the graph needs it', () =>
      withB(() => {
        const w = at.randn([3, 2], { seed: 1 }).setRequiresGrad();
        const expected = at
          .valueAndGrad((w) => at.sum(at.exp(w)))(w)
          .grads[0].toArray();
        const h = at.exp(w);
        const loss = at.sum(h);
        h.dispose();
        assert.ok(h.isDisposed);
        assert.ok(h.isHeldByGraph);
        assert.throws(() => at.add(h, h), /add: a \[3, 2\] float32 was used after dispose/);
        loss.backward();
        assert.deepEqual(w.grad?.toArray(), expected);
      }));

    it('every kind of saved tensor survives tidy: a network gives the same gradients', () =>
      withB(() => {
        const w = at.randn([4, 4], { seed: 2 });
        const x = at.randn([3, 4], { seed: 3 });
        const targets = at.tensor(new Int32Array([0, 1, 1, 0, 1, 0]));
        const mask = at.tensor([
          [true, false, true],
          [true, true, false],
          [false, true, true],
        ]);
        const plain = at.valueAndGrad((w) => network(w, x, targets, mask))(w);
        const tidied = at.valueAndGrad((w) => at.tidy(() => network(w, x, targets, mask)))(w);
        assert.deepEqual(tidied.value.toArray(), plain.value.toArray());
        assert.deepEqual(tidied.grads[0].toArray(), plain.grads[0].toArray());
        assert.ok(plain.grads[0].toArray().some((g) => g !== 0));
      }));

    it('frees the intermediates with the root, and after valueAndGrad at once', () =>
      withB(() => {
        const w = at.randn([64, 64], { seed: 1 }).setRequiresGrad();
        const live = () => at.getHeap().stats.liveBytes;
        const before = live();
        const loss = at.tidy(() => f(at.tanh(w)));
        assert.ok(live() > before + 3 * 64 * 64 * 4, 'the graph holds its intermediates');
        loss.backward();
        w.grad?.dispose();
        w.grad = null;
        loss.dispose();
        assert.equal(live(), before);
        const { value, grads } = at.valueAndGrad((w) => at.tidy(() => f(at.tanh(w))))(w);
        assert.equal(live(), before + 64 + 64 * 64 * 4, 'only the value and the gradient remain');
        value.dispose();
        grads[0].dispose();
        assert.equal(live(), before);
      }));

    it('backward names the op when a tensor its rule reads was freed', () =>
      withB(() => {
        const x = at.ones([2]).setRequiresGrad();
        const out = at.tidy(() => {
          const hidden = at.full([2], 3); // read by the rule but not declared as saved: tidy frees it
          const y = at.mulScalar(x, 3);
          return record('tripled', [x], at.addScalar(y, 0), (g) => [at.mul(g, hidden)]);
        });
        assert.throws(() => at.sum(out).backward(), /backward of tripled: .*was used after dispose/);
      }));
  });
}
