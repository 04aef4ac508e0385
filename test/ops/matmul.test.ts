import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

/** C = op(A)·op(B) by definition, per broadcast batch. */
function matmulRef(a: at.Tensor, b: at.Tensor, transA: boolean, transB: boolean): Float64Array {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const N = transB ? br : bc;
  const batchA = a.size / (ar * ac);
  const batchB = b.size / (br * bc);
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * M * N);
  const A = a.view();
  const B = b.view();
  for (let t = 0; t < batch; t++) {
    const oa = (batchA === 1 ? 0 : t) * ar * ac;
    const ob = (batchB === 1 ? 0 : t) * br * bc;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[oa + (transA ? k * M + i : i * K + k)] * B[ob + (transB ? j * K + k : k * N + j)];
        out[(t * M + i) * N + j] = s;
      }
  }
  return out;
}

const dims = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  M: fc.integer({ min: 1, max: 21 }),
  N: fc.integer({ min: 1, max: 21 }),
  K: fc.integer({ min: 1, max: 21 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  broadcast: fc.constantFrom('none', 'a', 'b'),
});

function operands(d: { batch: number; M: number; N: number; K: number; transA: boolean; transB: boolean; broadcast: string }) {
  const aShape = [d.broadcast === 'a' ? 1 : d.batch, ...(d.transA ? [d.K, d.M] : [d.M, d.K])];
  const bShape = [d.broadcast === 'b' ? 1 : d.batch, ...(d.transB ? [d.N, d.K] : [d.K, d.N])];
  return { a: seeded64(aShape, d.M * 31 + d.K), b: seeded64(bShape, d.N * 17 + d.K) };
}

describe('matmul', () => {
  it('2x2 by hand', () => {
    assert.deepEqual(
      at
        .matmul(
          at.tensor([
            [1, 2],
            [3, 4],
          ]),
          at.tensor([
            [5, 6],
            [7, 8],
          ]),
        )
        .toNested(),
      [
        [19, 22],
        [43, 50],
      ],
    );
  });

  it('js reference matches the definition for random shapes, transposes and batch broadcast (property)', () => {
    fc.assert(
      fc.property(dims, (d) => {
        const { a, b } = operands(d);
        const c = at.withBackend('js', () => at.matmul(a, b, { transposeA: d.transA, transposeB: d.transB }));
        assert.deepEqual(c.shape, [d.batch, d.M, d.N]);
        assertClose(c.view(), matmulRef(a, b, d.transA, d.transB), 1e-12, 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it('the active backend in float32 matches the reference with 1, 2 and 3 threads (property)', () => {
    const backend = at.getBackend();
    for (const threads of [1, 2, 3]) {
      backend.setThreads(threads);
      fc.assert(
        fc.property(dims, (d) => {
          const { a, b } = operands(d);
          const a32 = at.tensor(Float32Array.from(a.view()), a.shape);
          const b32 = at.tensor(Float32Array.from(b.view()), b.shape);
          const c = at.matmul(a32, b32, { transposeA: d.transA, transposeB: d.transB });
          assertClose(c.view(), matmulRef(a32, b32, d.transA, d.transB), 1e-5, 1e-5 * Math.sqrt(d.K), `${backend.name} ${threads} threads`);
        }),
        { numRuns: 40 },
      );
    }
    backend.setThreads(1);
  });

  it('broadcasts partial batch dims', () => {
    const a = seeded64([2, 1, 3, 4], 1);
    const b = seeded64([1, 5, 4, 2], 2);
    assert.deepEqual(at.matmul(a, b).shape, [2, 5, 3, 2]);
  });

  it('gradients match finite differences for every transpose combination and batch broadcast', () => {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const a = seeded64(transA ? [2, 4, 3] : [2, 3, 4], 3);
        const b = seeded64(transB ? [1, 5, 4] : [1, 4, 5], 4);
        gradcheck((x, y) => at.sum(at.mul(at.matmul(x, y, { transposeA: transA, transposeB: transB }), seeded64([2, 3, 5], 9))), [a, b]);
      }
  });

  it('names both shapes when the inner dimensions differ', () => {
    assert.throws(
      () => at.matmul(at.zeros([2, 3]), at.zeros([4, 5])),
      /matmul: inner dimensions differ: a \[2, 3\] has K=3, b \[4, 5\] has K=4/,
    );
    assert.throws(() => at.matmul(at.zeros([3]), at.zeros([3, 1])), /matmul: both operands need rank >= 2, got a \[3\]/);
  });
});
