import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { gradcheck, seeded64 } from '../helpers.ts';

describe('embedding', () => {
  it('gathers rows and accumulates gradients of repeated indices', () => {
    const w = at
      .tensor([
        [0, 1],
        [2, 3],
        [4, 5],
      ])
      .setRequiresGrad();
    const idx = at.tensor(new Int32Array([2, 0, 2]), [3]);
    const y = at.embedding(w, idx);
    assert.deepEqual(y.toNested(), [
      [4, 5],
      [0, 1],
      [4, 5],
    ]);
    at.sum(y).backward();
    assert.deepEqual(w.grad!.toNested(), [
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
  });

  it('keeps the index shape as leading dims', () => {
    assert.deepEqual(at.embedding(at.zeros([5, 3]), at.zeros([2, 4], 'int32')).shape, [2, 4, 3]);
  });

  it('gradient matches finite differences', () => {
    const idx = at.tensor(new Int32Array([1, 3, 1, 0]), [2, 2]);
    gradcheck((w) => at.sum(at.mul(at.embedding(w, idx), seeded64([2, 2, 3], 2))), [seeded64([4, 3], 1)]);
  });

  it('names an index out of range and a float index tensor', () => {
    assert.throws(
      () => at.embedding(at.zeros([3, 2]), at.tensor(new Int32Array([0, 3]))),
      /embedding: index 3 at position 1 is out of range for a vocabulary of 3/,
    );
    assert.throws(() => at.embedding(at.zeros([3, 2]), at.zeros([2])), /embedding: indices must be int32, got \[2\] float32/);
  });
});
