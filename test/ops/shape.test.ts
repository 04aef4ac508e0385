import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as at from '../../src/index.ts';
import { gradcheck, seeded64 } from '../helpers.ts';

const weigh = (y: at.Tensor) => at.sum(at.mul(y, seeded64([...y.shape], 21)));

describe('shape ops', () => {
  it('transpose and permute move elements', () => {
    const x = at.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(at.transpose(x).toNested(), [
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const y = at.reshape(at.arange(24, undefined, 1, 'float32'), [2, 3, 4]);
    const p = at.permute(y, [2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    assert.equal((p.toNested() as number[][][])[3][1][2], 12 + 2 * 4 + 3);
    assert.throws(() => at.permute(y, [0, 0, 1]), /is not a permutation of 3 axes/);
  });

  it('permute then its inverse is the identity (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: shape.length, maxLength: shape.length },
            ),
          ),
        ),
        ([shape, perm]) => {
          const x = seeded64(shape, 4);
          const inverse = perm.map((_, i) => perm.indexOf(i));
          const back = at.permute(at.permute(x, perm), inverse);
          assert.deepEqual(Array.from(back.view()), Array.from(x.view()));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('slice, pad and concat', () => {
    const x = at.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(at.slice(x, [0, 1], [2, 2]).toNested(), [
      [2, 3],
      [5, 6],
    ]);
    assert.deepEqual(at.slice(x, [1]).toNested(), [[4, 5, 6]]);
    assert.deepEqual(
      at
        .pad(at.tensor([[1]]), [
          [1, 0],
          [0, 2],
        ])
        .toNested(),
      [
        [0, 0, 0],
        [1, 0, 0],
      ],
    );
    assert.deepEqual(at.concat([x, at.tensor([[7, 8, 9]])], 0).toNested(), [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    assert.deepEqual(at.concat([x, at.tensor([[0], [0]])], 1).toNested(), [
      [1, 2, 3, 0],
      [4, 5, 6, 0],
    ]);
    assert.throws(() => at.slice(x, [1, 2], [2, 1]), /slice: begin \[1, 2\] size \[2, 1\] exceeds \[2, 3\] on axis 0/);
    assert.throws(
      () => at.concat([x, at.zeros([2, 2])], 0),
      /concat: tensors\[1\] \[2, 2\] float32 does not match \[2, 3\] float32 outside axis 0/,
    );
  });

  it('expand, squeeze and unsqueeze', () => {
    const x = at.tensor([[1], [2]]);
    assert.deepEqual(at.expand(x, [2, 3]).toNested(), [
      [1, 1, 1],
      [2, 2, 2],
    ]);
    assert.deepEqual(at.unsqueeze(at.tensor([1, 2]), 0).shape, [1, 2]);
    assert.deepEqual(at.squeeze(x, 1).shape, [2]);
    assert.throws(() => at.squeeze(x, 0), /squeeze: axis 0 of \[2, 1\] has size 2, not 1/);
    assert.throws(() => at.expand(at.zeros([2, 3]), [4, 3]), /expand: cannot broadcast \[2, 3\] to \[4, 3\]/);
  });

  it('gradients match finite differences', () => {
    gradcheck((x) => weigh(at.permute(x, [1, 2, 0])), [seeded64([2, 3, 4], 1)]);
    gradcheck((x) => weigh(at.transpose(x)), [seeded64([3, 4], 2)]);
    gradcheck((x) => weigh(at.slice(x, [1, 0], [2, 3])), [seeded64([4, 5], 3)]);
    gradcheck(
      (x) =>
        weigh(
          at.pad(x, [
            [1, 2],
            [0, 1],
          ]),
        ),
      [seeded64([2, 3], 4)],
    );
    gradcheck((x, y) => weigh(at.concat([x, y, x], 1)), [seeded64([2, 3], 5), seeded64([2, 1], 6)]);
    gradcheck((x) => weigh(at.expand(x, [2, 3, 4])), [seeded64([3, 1], 7)]);
    gradcheck((x) => weigh(at.reshape(x, [4, 3])), [seeded64([2, 6], 8)]);
  });
});
