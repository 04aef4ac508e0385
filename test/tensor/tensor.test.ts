import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  add,
  arange,
  full,
  getHeap,
  kaimingNormal,
  keep,
  manualSeed,
  ones,
  rand,
  randn,
  reshape,
  tensor,
  tidy,
  xavierUniform,
  zeros,
} from '../../src/index.ts';

describe('Tensor', () => {
  it('builds from nested arrays and reports shape, size and values', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.size, 6);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.toNested(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('builds int32 tensors from Int32Array', () => {
    const t = tensor(new Int32Array([3, 1, 2]));
    assert.equal(t.dtype, 'int32');
    assert.deepEqual(Array.from(t.view()), [3, 1, 2]);
    assert.deepEqual(Array.from(arange(4).view()), [0, 1, 2, 3]);
  });

  it('rejects data that does not fill the shape', () => {
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\] \(4 elements\)/);
    assert.throws(() => zeros([2, -1]), /must hold non-negative integers/);
  });

  it('shares storage between a reshape and its source, which outlives a dispose of either', () => {
    const t = tensor([1, 2, 3, 4]);
    const r = reshape(t, [2, 2]);
    assert.equal(r.ptr, t.ptr);
    t.dispose();
    assert.deepEqual(r.toNested(), [
      [1, 2],
      [3, 4],
    ]);
    assert.throws(() => reshape(r, [3]), /cannot reshape \[2, 2\] \(4 elements\) to \[3\]/);
    assert.deepEqual(reshape(r, [-1]).shape, [4]);
  });

  it('throws a named error on use after dispose', () => {
    const t = ones([2, 3]);
    t.dispose();
    assert.throws(() => t.view(), /tensor \[2, 3\] float32 was used after dispose/);
    assert.throws(() => add(t, t), /add: a \[2, 3\] float32 was used after dispose/);
  });

  it('tidy frees what it does not return; keep() survives', () => {
    const before = getHeap().stats.liveBytes;
    let inner: ReturnType<typeof ones> | null = null;
    let kept: ReturnType<typeof ones> | null = null;
    const result = tidy(() => {
      inner = ones([100]);
      kept = keep(ones([100]));
      return add(inner, inner);
    });
    assert.ok(inner!.isDisposed);
    assert.ok(!kept!.isDisposed);
    assert.ok(!result.isDisposed);
    result.dispose();
    kept!.dispose();
    assert.equal(getHeap().stats.liveBytes, before);
  });

  it('nested tidy moves returned tensors to the parent scope', () => {
    let escaped: ReturnType<typeof ones> | null = null;
    tidy(() => {
      escaped = tidy(() => full([3], 2));
      assert.ok(!escaped.isDisposed);
      return null;
    });
    assert.ok(escaped!.isDisposed);
  });

  it('item() needs exactly one element', () => {
    assert.equal(full([], 3).item(), 3);
    assert.throws(() => ones([2]).item(), /expected a tensor with one element, got shape \[2\]/);
  });

  it('seeded random tensors repeat exactly', () => {
    assert.deepEqual(randn([50], { seed: 3 }).toArray(), randn([50], { seed: 3 }).toArray());
    assert.notDeepEqual(randn([50], { seed: 3 }).toArray(), randn([50], { seed: 4 }).toArray());
    manualSeed(9);
    const a = rand([10]).toArray();
    manualSeed(9);
    assert.deepEqual(rand([10]).toArray(), a);
  });

  it('random values have the requested distribution', () => {
    const v = Array.from(randn([20000], { seed: 1, mean: 2, std: 3 }).view());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    assert.ok(Math.abs(mean - 2) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(std - 3) < 0.1, `std ${std}`);
    const u = Array.from(rand([10000], { seed: 2, low: -1, high: 1 }).view());
    assert.ok(u.every((x) => x >= -1 && x < 1));
  });

  it('initialisers scale with fan-in and fan-out', () => {
    const w = xavierUniform([64, 32], { seed: 1 });
    const bound = Math.sqrt(6 / 96);
    assert.ok(Array.from(w.view()).every((x) => Math.abs(x) <= bound));
    const k = Array.from(kaimingNormal([256, 128], { seed: 1 }).view());
    const std = Math.sqrt(k.reduce((s, x) => s + x * x, 0) / k.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 128)) < 0.01, `std ${std}`);
    assert.throws(() => xavierUniform([5]), /need a weight of rank >= 2/);
  });
});
