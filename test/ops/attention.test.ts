import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const js = <T>(fn: () => T): T => at.withBackend('js', fn);

/** Attention composed from primitive ops: an independent check of the fused reference. */
function composed(q: at.Tensor, k: at.Tensor, v: at.Tensor, { causal = false, mask }: { causal?: boolean; mask?: at.Tensor } = {}) {
  const [, H, Nq, D] = q.shape;
  const [, Hk, Nk] = k.shape;
  const group = H / Hk;
  const expandHeads = (t: at.Tensor) =>
    group === 1 ? t : at.reshape(at.expand(at.unsqueeze(t, 2), [t.shape[0], Hk, group, Nk, D]), [t.shape[0], H, Nk, D]);
  let s = at.mulScalar(at.matmul(q, expandHeads(k), { transposeB: true }), 1 / Math.sqrt(D));
  const bias = new Float64Array(Nq * Nk);
  for (let i = 0; i < Nq; i++) for (let j = 0; j < Nk; j++) if (causal && j > i + Nk - Nq) bias[i * Nk + j] = -1e30;
  s = at.add(s, at.tensor(bias, [Nq, Nk], q.dtype));
  if (mask) s = at.add(s, mask);
  return at.matmul(at.softmax(s), expandHeads(v));
}

describe('scaledDotProductAttention: the source material’s worked example', () => {
  it('Q = I, K = [[1,1,1],[1,0,0],[0,1,1]], V = [[1,2,3],[4,5,6],[7,8,9]], d_k = 3: softmax(QKᵀ/√3)·V', () => {
    // QKᵀ[i][j] = K[j][i]: row 0 scores [1,1,0]/√3, rows 1 and 2 [1,0,1]/√3.
    // With a = e^(1/√3): row 0 = (a·v0 + a·v1 + v2)/(2a+1) = [5a+7, 7a+8, 9a+9]/(2a+1),
    // rows 1, 2 = (a·v0 + v1 + a·v2)/(2a+1) = [4, 5, 6] exactly.
    const q = at.tensor([
      [
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      ],
    ]);
    const k = at.tensor([
      [
        [
          [1, 1, 1],
          [1, 0, 0],
          [0, 1, 1],
        ],
      ],
    ]);
    const v = at.tensor([
      [
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
      ],
    ]);
    const a = Math.exp(1 / Math.sqrt(3));
    const row0 = [5 * a + 7, 7 * a + 8, 9 * a + 9].map((x) => x / (2 * a + 1));
    for (const backend of ['js', 'wasm']) {
      const o = at.withBackend(backend, () => at.scaledDotProductAttention(q, k, v));
      assertClose(o.view(), [...row0, 4, 5, 6, 4, 5, 6], 1e-6, 1e-6, backend);
    }
    assertClose(row0, [3.48627, 4.48627, 5.48627], 1e-5);
  });
});

describe('scaledDotProductAttention: reference semantics (js)', () => {
  it('matches attention composed from matmul and softmax, with causal, masks and GQA', () => {
    const q = seeded64([2, 4, 5, 3], 1);
    const k = seeded64([2, 2, 7, 3], 2);
    const v = seeded64([2, 2, 7, 3], 3);
    const additive = seeded64([5, 7], 4);
    for (const causal of [false, true]) {
      const fused = js(() => at.scaledDotProductAttention(q, k, v, { causal, mask: additive }));
      const reference = js(() => composed(q, k, v, { causal, mask: additive }));
      assertClose(fused.view(), reference.view(), 1e-12, 1e-12, `causal ${causal}`);
    }
  });

  it('a boolean keep-mask equals an additive −∞ mask, and a fully masked row gives zeros and zero gradients', () => {
    const q = seeded64([1, 2, 3, 4], 5);
    const k = seeded64([1, 2, 4, 4], 6);
    const v = seeded64([1, 2, 4, 4], 7);
    const keep = [1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1];
    const boolMask = at.tensor(Uint8Array.from(keep), [3, 4]);
    const additive = at.tensor(
      Float64Array.from(keep, (x) => (x ? 0 : Number.NEGATIVE_INFINITY)),
      [3, 4],
    );
    const a = js(() => at.scaledDotProductAttention(q, k, v, { mask: boolMask }));
    const b = js(() => at.scaledDotProductAttention(q, k, v, { mask: additive }));
    assertClose(a.view(), b.view(), 1e-12);
    const row1 = Array.from(a.view()).slice(4, 8);
    assert.deepEqual(row1, [0, 0, 0, 0]);
    const [gq] = js(() => at.grad((x) => at.sum(at.scaledDotProductAttention(x, k, v, { mask: boolMask })))(q));
    assert.ok(Array.from(gq.view()).every(Number.isFinite));
    assert.deepEqual(Array.from(gq.view()).slice(4, 8), [0, 0, 0, 0]);
  });

  it('causal is aligned bottom-right when Nq ≠ Nk: the last query sees every key', () => {
    const q = seeded64([1, 1, 2, 4], 8);
    const k = seeded64([1, 1, 5, 4], 9);
    const v = seeded64([1, 1, 5, 4], 10);
    const { weights } = js(() => at.scaledDotProductAttention(q, k, v, { causal: true, returnWeights: true }));
    const w = Array.from(weights.view());
    assert.deepEqual(
      w.slice(0, 5).map((x) => x > 0),
      [true, true, true, true, false],
    );
    assert.ok(w.slice(5).every((x) => x > 0));
  });

  it('very large scores stay finite', () => {
    const q = at.mulScalar(seeded64([1, 1, 4, 8], 11), 1e4);
    const k = seeded64([1, 1, 4, 8], 12);
    const o = js(() => at.scaledDotProductAttention(q, k, k, { scale: 1 }));
    assert.ok(Array.from(o.view()).every(Number.isFinite));
  });

  it('gradients of q, k and v match finite differences with every option', () => {
    const options: at.AttentionOptions[] = [
      {},
      { causal: true },
      { window: [1, 0] },
      { alibiSlopes: at.alibiSlopes(4) },
      { softcap: 2 },
      { dropout: 0.3, seed: 5 },
      { mask: at.tensor(Uint8Array.from([1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1]), [3, 5]) },
      { mask: seeded64([2, 1, 3, 5], 13), causal: true, softcap: 3, alibiSlopes: [0.5, 0.25, 0.1, 0.05], window: [2, 1] },
    ];
    for (const opts of options) {
      const weights = seeded64([2, 4, 3, 3], 14);
      gradcheck(
        (q, k, v) => at.sum(at.mul(at.scaledDotProductAttention(q, k, v, opts), weights)),
        [seeded64([2, 4, 3, 3], 15), seeded64([2, 2, 5, 3], 16), seeded64([2, 2, 5, 3], 17)],
        { rtol: 1e-5, atol: 1e-7 },
      );
    }
  });

  it('ALiBi slopes follow the paper: 2^(−8i/n), interpolated for 6 heads', () => {
    assertClose(at.alibiSlopes(4), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8], 1e-15);
    assertClose(at.alibiSlopes(6), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3], 1e-15);
  });

  it('explains bad shapes and options', () => {
    const q = at.zeros([1, 8, 4, 16]);
    const k7 = at.zeros([1, 7, 4, 16]);
    assert.throws(() => at.scaledDotProductAttention(q, k7, k7), /attention: key has 7 heads, query 8; numKvHeads must divide numHeads/);
    assert.throws(
      () => at.scaledDotProductAttention(at.zeros([8, 4, 16]), q, q),
      /attention: query must be \[batch, heads, seq, headDim\], got \[8, 4, 16\]/,
    );
    const k = at.zeros([1, 2, 6, 16]);
    assert.throws(
      () => at.scaledDotProductAttention(q, k, at.zeros([1, 2, 5, 16])),
      /key \[1, 2, 6, 16\] and value \[1, 2, 5, 16\] must have the same shape/,
    );
    assert.throws(
      () => at.scaledDotProductAttention(q, k, k, { mask: at.zeros([3, 6]) }),
      /mask \[3, 6\] does not broadcast to \[B, H, Nq, Nk\] = \[1, 8, 4, 6\]/,
    );
    assert.throws(() => at.scaledDotProductAttention(q, k, k, { dropout: 1 }), /dropout must be in \[0, 1\), got 1/);
    assert.throws(() => at.scaledDotProductAttention(q, k, k, { alibiSlopes: [1, 2] }), /alibiSlopes has 2 slopes for 8 query heads/);
  });
});

describe('KVCache', () => {
  it('decoding token by token against the cache equals causal attention over the whole sequence', () => {
    const [B, H, Hk, N, D] = [1, 4, 2, 40, 8];
    const q = seeded64([B, H, N, D], 20);
    const k = seeded64([B, Hk, N, D], 21);
    const v = seeded64([B, Hk, N, D], 22);
    const full = js(() => at.scaledDotProductAttention(q, k, v, { causal: true }));
    const cache = new at.KVCache({ batch: B, numKvHeads: Hk, headDim: D, capacity: 4, dtype: 'float64' });
    const rows: number[] = [];
    js(() => {
      for (let t = 0; t < N; t++) {
        cache.append(at.slice(k, [0, 0, t], [B, Hk, 1, D]), at.slice(v, [0, 0, t], [B, Hk, 1, D]));
        const o = cache.attend(at.slice(q, [0, 0, t], [B, H, 1, D]), { causal: true });
        rows.push(...o.view());
      }
    });
    assert.ok(cache.capacity >= N && cache.capacity < 2 * N + 4);
    const expected = full.toNested() as number[][][][];
    const got = rows;
    for (let t = 0; t < N; t++)
      for (let h = 0; h < H; h++)
        assertClose(got.slice((t * H + h) * D, (t * H + h + 1) * D), expected[0][h][t], 1e-12, 1e-12, `token ${t}`);
  });

  it('rejects rows of the wrong shape and training through the cache', () => {
    const cache = new at.KVCache({ batch: 1, numKvHeads: 2, headDim: 4 });
    assert.throws(
      () => cache.append(at.zeros([1, 3, 1, 4]), at.zeros([1, 3, 1, 4])),
      /KVCache.append: key must be \[1, 2, n, 4\], got \[1, 3, 1, 4\]/,
    );
    cache.append(at.zeros([1, 2, 1, 4]), at.zeros([1, 2, 1, 4]));
    assert.throws(() => cache.attend(at.zeros([1, 2, 1, 4]).setRequiresGrad()), /attending to a KV cache is for inference/);
  });
});

describe('applyRotary', () => {
  it('rotates pairs by pos·θ and keeps the norm of each pair', () => {
    const x = seeded64([1, 2, 5, 8], 30);
    const y = js(() => at.applyRotary(x));
    const X = x.toNested() as number[][][][];
    const Y = y.toNested() as number[][][][];
    for (let n = 0; n < 5; n++)
      for (let k = 0; k < 4; k++) {
        const angle = n * 10000 ** (-(2 * k) / 8);
        const [x1, x2] = [X[0][1][n][k], X[0][1][n][k + 4]];
        assertClose(
          [Y[0][1][n][k], Y[0][1][n][k + 4]],
          [x1 * Math.cos(angle) - x2 * Math.sin(angle), x2 * Math.cos(angle) + x1 * Math.sin(angle)],
          1e-12,
        );
      }
  });

  it('relative positions: ⟨RoPE(q, m), RoPE(k, n)⟩ depends only on m − n', () => {
    const q = seeded64([1, 1, 1, 8], 31);
    const k = seeded64([1, 1, 1, 8], 32);
    const dot = (m: number, n: number) =>
      js(() => at.sum(at.mul(at.applyRotary(q, { positionOffset: m }), at.applyRotary(k, { positionOffset: n }))).item());
    assertClose([dot(7, 3)], [dot(14, 10)], 1e-12);
  });

  it('gradient matches finite differences (rotate-half, interleaved, partial rotaryDim, explicit positions)', () => {
    const w = seeded64([2, 2, 3, 6], 33);
    const positions = at.tensor(Int32Array.from([4, 0, 9, 1, 2, 3]), [2, 3]);
    for (const opts of [{}, { interleaved: true }, { rotaryDim: 4, positionOffset: 5 }, { positions }]) {
      gradcheck((x) => at.sum(at.mul(at.applyRotary(x, opts), w)), [seeded64([2, 2, 3, 6], 34)]);
    }
  });

  it('rejects an odd rotaryDim and negative positions', () => {
    assert.throws(() => at.applyRotary(at.zeros([1, 1, 2, 6]), { rotaryDim: 3 }), /rotaryDim must be even and in \[2, headDim 6\], got 3/);
    assert.throws(
      () => at.applyRotary(at.zeros([1, 1, 2, 6]), { positions: at.tensor(Int32Array.from([0, -1])) }),
      /position -1 at index 1 is negative/,
    );
  });
});
