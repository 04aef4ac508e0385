// The fused wasm kernels against the js reference: random shapes and every
// option alone and combined, with 1, 2 and 3 threads.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as at from '../../src/index.ts';
import { assertClose } from '../helpers.ts';

const config = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  numKvHeads: fc.integer({ min: 1, max: 3 }),
  group: fc.constantFrom(1, 2, 3),
  queryLength: fc.integer({ min: 1, max: 70 }),
  keyLength: fc.integer({ min: 1, max: 90 }),
  headDim: fc.constantFrom(1, 3, 4, 7, 16, 33),
  causal: fc.boolean(),
  window: fc.option(fc.tuple(fc.integer({ min: -1, max: 20 }), fc.integer({ min: -1, max: 20 })), { nil: undefined }),
  mask: fc.constantFrom('none', 'bool', 'additive', 'bool-per-head'),
  alibi: fc.boolean(),
  softcap: fc.constantFrom(0, 0, 5),
  dropout: fc.constantFrom(0, 0, 0.2),
  seed: fc.integer({ min: 0, max: 1000 }),
});

type Config = typeof config extends fc.Arbitrary<infer T> ? T : never;

function inputs(c: Config) {
  const H = c.numKvHeads * c.group;
  const q = at.randn([c.batch, H, c.queryLength, c.headDim], { seed: c.seed });
  const k = at.randn([c.batch, c.numKvHeads, c.keyLength, c.headDim], { seed: c.seed + 1 });
  const v = at.randn([c.batch, c.numKvHeads, c.keyLength, c.headDim], { seed: c.seed + 2 });
  const dOut = at.randn(q.shape, { seed: c.seed + 3 });
  const [Nq, Nk] = [c.queryLength, c.keyLength];
  let mask: at.Tensor | undefined;
  if (c.mask === 'bool')
    mask = at.tensor(
      Uint8Array.from({ length: Nq * Nk }, (_, i) => ((i * 7 + c.seed) % 5 === 0 ? 0 : 1)),
      [Nq, Nk],
    );
  if (c.mask === 'bool-per-head')
    mask = at.tensor(
      Uint8Array.from({ length: c.batch * H * Nq * Nk }, (_, i) => ((i * 13 + c.seed) % 4 === 0 ? 0 : 1)),
      [c.batch, H, Nq, Nk],
    );
  if (c.mask === 'additive') mask = at.randn([c.batch, 1, Nq, Nk], { seed: c.seed + 4 });
  const options: at.AttentionOptions = {
    causal: c.causal,
    window: c.window,
    mask,
    alibiSlopes: c.alibi ? at.alibiSlopes(H) : undefined,
    softcap: c.softcap,
    dropout: c.dropout,
    seed: c.seed,
  };
  return { q, k, v, dOut, options };
}

function run(backend: string, c: Config) {
  return at.withBackend(backend, () =>
    at.tidy(() => {
      const { q, k, v, dOut, options } = inputs(c);
      for (const t of [q, k, v]) t.setRequiresGrad();
      const out = at.scaledDotProductAttention(q, k, v, options);
      out.backward(dOut);
      return [out, q.grad!, k.grad!, v.grad!].map((t) => Float64Array.from(t.view()));
    }),
  );
}

describe('attention: wasm kernels against the js reference', () => {
  for (const threads of [1, 2, 3]) {
    it(`outputs within 1e-5 and gradients within 1e-4 for random shapes and options, ${threads} thread(s) (property)`, () => {
      const wasm = at.withBackend('wasm', at.getBackend);
      assert.equal(wasm.name, 'wasm');
      wasm.setThreads(threads);
      try {
        fc.assert(
          fc.property(config, (c) => {
            const [o, dq, dk, dv] = run('wasm', c);
            const [ro, rdq, rdk, rdv] = run('js', c);
            assertClose(o, ro, 1e-5, 1e-5, 'output');
            assertClose(dq, rdq, 1e-4, 1e-4, 'dq');
            assertClose(dk, rdk, 1e-4, 1e-4, 'dk');
            assertClose(dv, rdv, 1e-4, 1e-4, 'dv');
          }),
          { numRuns: threads === 1 ? 120 : 40 },
        );
      } finally {
        wasm.setThreads(1);
      }
    });
  }

  it('weights for pictures match the reference', () => {
    const c = {
      batch: 1,
      numKvHeads: 2,
      group: 2,
      queryLength: 33,
      keyLength: 45,
      headDim: 16,
      causal: true,
      window: undefined,
      mask: 'bool',
      alibi: true,
      softcap: 0,
      dropout: 0,
      seed: 3,
    } as const satisfies Config;
    const get = (backend: string) =>
      at.withBackend(backend, () => {
        const { q, k, v, options } = inputs(c);
        return Float64Array.from(at.scaledDotProductAttention(q, k, v, { ...options, returnWeights: true }).weights.view());
      });
    assertClose(get('wasm'), get('js'), 1e-5, 1e-6);
  });

  it('decode against a KV cache (split over keys) matches the reference, with 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      at.withBackend('wasm', at.getBackend).setThreads(threads);
      const [B, H, Hk, D, N] = [2, 8, 2, 24, 700];
      const q = at.randn([B, H, 1, D], { seed: 1 });
      const k = at.randn([B, Hk, N, D], { seed: 2 });
      const v = at.randn([B, Hk, N, D], { seed: 3 });
      const mask = at.tensor(
        Uint8Array.from({ length: N }, (_, j) => (j % 11 === 3 ? 0 : 1)),
        [1, N],
      );
      for (const options of [
        {},
        { causal: true, alibiSlopes: at.alibiSlopes(H) },
        { mask, softcap: 4, window: [100, 0] as [number, number] },
      ]) {
        const cache = new at.KVCache({ batch: B, numKvHeads: Hk, headDim: D, capacity: 64 });
        cache.append(k, v);
        const fast = at.withBackend('wasm', () => cache.attend(q, options));
        const reference = at.withBackend('js', () => at.scaledDotProductAttention(q, k, v, options));
        assertClose(fast.view(), reference.view(), 1e-5, 1e-6, `threads ${threads}`);
        cache.dispose();
      }
    }
    at.withBackend('wasm', at.getBackend).setThreads(1);
  });

  it('rotary embeddings match the reference forward and backward', () => {
    const x = at.randn([2, 3, 17, 10], { seed: 5 });
    const positions = at.tensor(
      Int32Array.from({ length: 34 }, (_, i) => (i * 7) % 50),
      [2, 17],
    );
    for (const options of [{}, { interleaved: true }, { rotaryDim: 6, positionOffset: 9 }, { positions }]) {
      const [y, g] = ['wasm', 'js'].map((backend) =>
        at.withBackend(backend, () => {
          const xi = at.tensor(Float32Array.from(x.view()), x.shape).setRequiresGrad();
          const out = at.applyRotary(xi, options);
          out.backward(at.randn(x.shape, { seed: 6 }));
          return [Float64Array.from(out.view()), Float64Array.from(xi.grad!.view())];
        }),
      );
      assertClose(y[0], g[0], 1e-5, 1e-6, 'rotary forward');
      assertClose(y[1], g[1], 1e-5, 1e-6, 'rotary backward');
    }
  });

  it('very large scores stay finite and a fully masked row gives zeros', () => {
    const q = at.mulScalar(at.randn([1, 2, 9, 16], { seed: 7 }), 1e4);
    const k = at.randn([1, 2, 9, 16], { seed: 8 });
    const keep = Uint8Array.from({ length: 81 }, (_, i) => (Math.floor(i / 9) === 4 ? 0 : 1));
    const out = at.scaledDotProductAttention(q, k, k, { scale: 1, mask: at.tensor(keep, [9, 9]) });
    const o = Array.from(out.view());
    assert.ok(o.every(Number.isFinite));
    for (let h = 0; h < 2; h++) assert.deepEqual(o.slice((h * 9 + 4) * 16, (h * 9 + 5) * 16), new Array(16).fill(0));
  });
});
