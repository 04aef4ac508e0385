// scaledDotProductAttention's layout 'bnhd' (q, k, v, output [B, N, H, D]):
// the same numbers as 'bhnd' on permuted inputs, gradients included;
// finite differences in float64; a backend that reads only 'bhnd' gets
// permuted copies; bad layouts and KV caches are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Backend, getBackend, registerBackend, withBackend } from '../../src/backend/backend.ts';
import type { AttentionParams } from '../../src/backend/kernels.ts';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64 } from '../helpers.ts';

const swap = (t: at.Tensor) => at.permute(t, [0, 2, 1, 3]);

/** Output and q, k, v gradients of attention on bhnd inputs, run either natively or through the bnhd layout. */
function run(q: at.Tensor, k: at.Tensor, v: at.Tensor, options: at.AttentionOptions, viaLayout: boolean): Float64Array[] {
  return at.tidy(() => {
    const [qi, ki, vi] = [q, k, v].map((t) => at.tensor(Float64Array.from(t.view()), t.shape, t.dtype).setRequiresGrad());
    let out: at.Tensor;
    if (viaLayout) {
      const [qs, ks, vs] = [qi, ki, vi].map(swap);
      out = swap(at.scaledDotProductAttention(qs, ks, vs, { ...options, layout: 'bnhd' }));
    } else {
      out = at.scaledDotProductAttention(qi, ki, vi, options);
    }
    const w = seeded64([...out.shape], 9);
    at.sum(at.mul(out, out.dtype === 'float64' ? w : at.tensor(Float32Array.from(w.view()), w.shape))).backward();
    return [out, qi.grad!, ki.grad!, vi.grad!].map((t) => Float64Array.from(t.view()));
  });
}

describe("attention layout 'bnhd'", () => {
  const q = seeded64([2, 4, 5, 3], 1);
  const k = seeded64([2, 2, 7, 3], 2);
  const v = seeded64([2, 2, 7, 3], 3);
  const optionSets: at.AttentionOptions[] = [{}, { causal: true }, { window: [2, 1], alibiSlopes: at.alibiSlopes(4), softcap: 3 }];

  for (const backend of ['js', 'wasm']) {
    it(`equals 'bhnd' on permuted inputs, forward and gradients (${backend}, float64 on js, float32 on wasm)`, () => {
      withBackend(backend, () => {
        for (const options of optionSets) {
          const cast = (t: at.Tensor) => (backend === 'js' ? t : at.tensor(Float32Array.from(t.view()), t.shape));
          const [qc, kc, vc] = [q, k, v].map(cast);
          const want = run(qc, kc, vc, options, false);
          const got = run(qc, kc, vc, options, true);
          const tol = backend === 'js' ? 1e-12 : 1e-5;
          for (const [i, g] of got.entries()) assertClose(g, want[i], tol, tol, `${backend} ${JSON.stringify(Object.keys(options))} #${i}`);
        }
      });
    });
  }

  it('returnWeights: the same [B, H, Nq, Nk] probabilities in either layout (wasm against js)', () => {
    const [qs, ks, vs] = [q, k, v].map((t) => at.tensor(Float32Array.from(swap(t).view()), swap(t).shape));
    const options = { causal: true, layout: 'bnhd', returnWeights: true } as const;
    const want = withBackend('js', () => at.scaledDotProductAttention(swap(qs), swap(ks), swap(vs), { causal: true, returnWeights: true }));
    const got = withBackend('wasm', () => at.scaledDotProductAttention(qs, ks, vs, options));
    assert.deepEqual(got.weights.shape, [2, 4, 5, 7]);
    assertClose(got.weights.toArray(), want.weights.toArray(), 1e-5, 1e-6);
    assertClose(swap(got.output).toArray(), want.output.toArray(), 1e-5, 1e-6);
  });

  it('gradients match finite differences (float64, js)', () => {
    const [qs, ks, vs] = [q, k, v].map((t) => at.tensor(Float64Array.from(swap(t).view()), swap(t).shape, 'float64'));
    const w = seeded64([2, 5, 4, 3], 11);
    gradcheck((x, y, z) => at.sum(at.mul(at.scaledDotProductAttention(x, y, z, { causal: true, layout: 'bnhd' }), w)), [qs, ks, vs]);
  });

  it("a backend that reads only 'bhnd' gets permuted copies and the same numbers", () => {
    const js = withBackend('js', getBackend);
    const seen: (string | undefined)[] = [];
    const forward = js.kernels.attentionForward!;
    const plain: Backend = {
      name: 'test-bhnd-only',
      threads: 1,
      setThreads() {},
      kernels: {
        ...js.kernels,
        attentionForward: (...args: Parameters<typeof forward>) => {
          seen.push((args[5] as AttentionParams).layout);
          forward(...args);
        },
      },
    };
    registerBackend(plain);
    // float32: float64 inputs always take the js reference
    const [qs, ks, vs] = [q, k, v].map((t) => at.tensor(Float32Array.from(swap(t).view()), swap(t).shape));
    const want = withBackend('js', () => at.scaledDotProductAttention(qs, ks, vs, { layout: 'bnhd' }).toArray());
    const got = withBackend('test-bhnd-only', () => at.scaledDotProductAttention(qs, ks, vs, { layout: 'bnhd' }));
    assert.deepEqual(got.shape, qs.shape);
    assertClose(got.toArray(), want, 1e-6, 1e-6);
    assert.deepEqual(seen, [undefined], 'the kernel saw the default layout');
  });

  it('refuses an unknown layout, mismatched shapes and a KV cache', () => {
    assert.throws(
      () => at.scaledDotProductAttention(q, k, v, { layout: 'nbhd' as 'bnhd' }),
      /attention: layout must be 'bhnd' or 'bnhd', got "nbhd"/,
    );
    // [B, N, H, D]: k has 7 heads for q's 5 → numKvHeads must divide numHeads
    assert.throws(() => at.scaledDotProductAttention(q, k, v, { layout: 'bnhd' }), /attention: key has 7 heads, query 5/);
    const cache = new at.KVCache({ batch: 2, numKvHeads: 2, headDim: 3, capacity: 8 });
    cache.append(k, v);
    assert.throws(() => cache.attend(q, { layout: 'bnhd' }), /a KV cache holds \[B, Hk, capacity, D\]; layout 'bnhd' is not for it/);
    cache.dispose();
  });
});
