import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as at from '../../src/index.ts';

it('attention forward + backward at N = 8192 holds O(N·D) extra memory, not the N² scores', () => {
  const [B, H, N, D] = [1, 2, 8192, 16];
  const q = at.randn([B, H, N, D], { seed: 1 }).setRequiresGrad();
  const k = at.randn([B, H, N, D], { seed: 2 }).setRequiresGrad();
  const v = at.randn([B, H, N, D], { seed: 3 }).setRequiresGrad();
  const dOut = at.randn([B, H, N, D], { seed: 4 });
  const heap = at.getHeap();
  heap.resetPeak();
  const before = heap.stats.liveBytes;
  at.tidy(() => at.scaledDotProductAttention(q, k, v, { causal: true }).backward(dOut));
  const extra = heap.stats.peakBytes - before;
  const tensorBytes = B * H * N * D * 4;
  const scoreBytes = B * H * N * N * 4;
  // out, logSumExp, dq, dk, dv and kernel scratch: a few tensors' worth, against 512 MiB of scores.
  assert.ok(
    extra < 8 * tensorBytes,
    `extra heap ${(extra / 2 ** 20).toFixed(1)} MiB for tensors of ${(tensorBytes / 2 ** 20).toFixed(1)} MiB`,
  );
  assert.ok(extra < scoreBytes / 32);
  assert.ok(Array.from(q.grad!.view()).every(Number.isFinite));
});
