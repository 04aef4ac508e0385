import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose } from '../helpers.ts';

it('AdamW: the first step moves each weight by lr·(sign(g) + λ·p), bias-corrected', () => {
  const w = at.tensor([1, -2, 0.5]).setRequiresGrad();
  const opt = new at.AdamW([w], { lr: 0.1, weightDecay: 0.01, eps: 0 });
  at.sum(at.mul(w, at.tensor([3, 4, -5]))).backward();
  opt.step();
  assertClose(w.view(), [1 - 0.1 * (1 + 0.01), -2 - 0.1 * (1 - 0.02), 0.5 - 0.1 * (-1 + 0.005)], 1e-6);
});

it('AdamW minimises a quadratic; parameters that do not require gradients are rejected', () => {
  const w = at.tensor([3, -1, 2]).setRequiresGrad();
  const opt = new at.AdamW([w], { lr: 0.1, weightDecay: 0 });
  for (let i = 0; i < 200; i++) {
    at.tidy(() => at.sum(at.square(w)).backward());
    opt.step();
    opt.zeroGrad();
  }
  assert.ok(
    Array.from(w.view()).every((x) => Math.abs(x) < 0.05),
    `${Array.from(w.view())}`,
  );
  assert.throws(() => new at.AdamW([at.ones([2])]), /AdamW: parameter Tensor\(\[2\], float32\) does not require a gradient/);
});
