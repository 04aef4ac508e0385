import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const ops = [
  ['add', at.add, (a: number, b: number) => a + b],
  ['sub', at.sub, (a: number, b: number) => a - b],
  ['mul', at.mul, (a: number, b: number) => a * b],
  ['div', at.div, (a: number, b: number) => a / b],
  ['maximum', at.maximum, Math.max],
  ['minimum', at.minimum, Math.min],
] as const;

/** Broadcast reference: index arithmetic written independently of the kernel's odometer. */
function broadcastRef(a: at.Tensor, b: at.Tensor, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const rank = Math.max(a.rank, b.rank);
  const pa = [...Array(rank - a.rank).fill(1), ...a.shape];
  const pb = [...Array(rank - b.rank).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const total = shape.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  const A = a.view();
  const B = b.view();
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      ia += (pa[d] === 1 ? 0 : i) * sa;
      ib += (pb[d] === 1 ? 0 : i) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    data.push(f(A[ia], B[ib]));
  }
  return { shape, data };
}

const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      fc.integer({ min: 0, max: shape.length }),
    ),
  )
  .map(([shape, ones, drop]) => [shape, shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as const);

describe('binary ops', () => {
  it('broadcasting matches an independent reference for random shape pairs (property)', () => {
    fc.assert(
      fc.property(broadcastPair, fc.boolean(), ([sa, sb], swap) => {
        const [shapeA, shapeB] = swap ? [sb, sa] : [sa, sb];
        const a = seeded64([...shapeA], 1);
        const b = seeded64([...shapeB], 2, { positive: true });
        for (const [name, f, ref] of ops) {
          const y = at.withBackend('js', () => f(a, b));
          const expected = broadcastRef(a, b, ref);
          assert.deepEqual(y.shape, expected.shape, name);
          assertClose(y.view(), expected.data, 1e-12, 0, name);
        }
      }),
      { numRuns: 60 },
    );
  });

  for (const [name, f] of ops) {
    it(`${name}: gradients with broadcasting match finite differences`, () => {
      const a = seeded64([2, 3, 4], 11);
      const b = seeded64([3, 1], 12, { positive: true });
      gradcheck((x, y) => at.sum(at.mul(f(x, y), seeded64([2, 3, 4], 13))), [a, b]);
    });
  }

  it('names the op and both shapes when they cannot broadcast', () => {
    assert.throws(
      () => at.add(at.zeros([2, 3]), at.zeros([4, 3])),
      /add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast \(dimension 0: 2 vs 4\)/,
    );
  });

  it('rejects mixed dtypes and int32 arithmetic', () => {
    assert.throws(() => at.mul(at.zeros([2]), at.zeros([2], 'float64')), /mul: dtypes differ, \[2\] float32 and \[2\] float64/);
    assert.throws(() => at.add(at.zeros([2], 'int32'), at.zeros([2], 'int32')), /add: a must be float32 or float64, got \[2\] int32/);
  });

  it('rejects NaN inputs when numerics checking is on', () => {
    at.setCheckNumerics(true);
    try {
      assert.throws(() => at.add(at.tensor([1, Number.NaN]), at.ones([2])), /add: a \[2\] contains NaN at flat index 1/);
    } finally {
      at.setCheckNumerics(false);
    }
    assert.ok(Number.isNaN(at.add(at.tensor([1, Number.NaN]), at.ones([2])).view()[1]));
  });
});
