// Conformance: the attention kernels (forward, backward, weights, decode
// against a KV cache with spare capacity) and rotary embeddings of a backend
// against the js reference, every option alone and combined, odd sizes,
// Nq ≠ Nk, grouped-query heads.

import { it } from 'node:test';
import fc from 'fast-check';
import { withBackend } from '../../../src/backend/backend.ts';
import { kernelSettings } from '../../../src/backend/settings.ts';
import * as at from '../../../src/index.ts';
import { assertNear, type Target } from './support.ts';

const config = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  numKvHeads: fc.integer({ min: 1, max: 3 }),
  group: fc.constantFrom(1, 2, 3),
  queryLength: fc.integer({ min: 1, max: 40 }),
  keyLength: fc.integer({ min: 1, max: 70 }),
  headDim: fc.constantFrom(1, 3, 4, 8, 17),
  causal: fc.boolean(),
  window: fc.option(fc.tuple(fc.integer({ min: -1, max: 12 }), fc.integer({ min: -1, max: 12 })), { nil: undefined }),
  mask: fc.constantFrom('none', 'bool', 'additive', 'bool-per-head'),
  alibi: fc.boolean(),
  softcap: fc.constantFrom(0, 0, 5),
  dropout: fc.constantFrom(0, 0, 0.2),
  layout: fc.constantFrom('bhnd', 'bhnd', 'bnhd') as fc.Arbitrary<'bhnd' | 'bnhd'>,
  seed: fc.integer({ min: 0, max: 1000 }),
});
type Drawn = typeof config extends fc.Arbitrary<infer T> ? T : never;
/** A drawn configuration, or one written by hand with any head dim and group size. */
type Config = Omit<Drawn, 'headDim' | 'group'> & { headDim: number; group: number };

function inputs(c: Config) {
  const H = c.numKvHeads * c.group;
  const [Nq, Nk] = [c.queryLength, c.keyLength];
  // 'bnhd': [B, N, heads, D] (the kernels read it through strides)
  const shape = (heads: number, n: number) => (c.layout === 'bnhd' ? [c.batch, n, heads, c.headDim] : [c.batch, heads, n, c.headDim]);
  const q = at.randn(shape(H, Nq), { seed: c.seed });
  const k = at.randn(shape(c.numKvHeads, Nk), { seed: c.seed + 1 });
  const v = at.randn(shape(c.numKvHeads, Nk), { seed: c.seed + 2 });
  let mask: at.Tensor | undefined;
  if (c.mask === 'bool')
    mask = at.tensor(
      Uint8Array.from({ length: Nq * Nk }, (_, i) => ((i * 7 + c.seed) % 5 === 0 ? 0 : 1)),
      [Nq, Nk],
    );
  if (c.mask === 'bool-per-head') {
    const n = c.batch * H * Nq * Nk;
    mask = at.tensor(
      Uint8Array.from({ length: n }, (_, i) => ((i * 13 + c.seed) % 4 === 0 ? 0 : 1)),
      [c.batch, H, Nq, Nk],
    );
  }
  if (c.mask === 'additive') mask = at.randn([c.batch, 1, Nq, Nk], { seed: c.seed + 4 });
  const options: at.AttentionOptions = {
    causal: c.causal,
    window: c.window,
    mask,
    alibiSlopes: c.alibi ? at.alibiSlopes(H) : undefined,
    softcap: c.softcap,
    dropout: c.dropout,
    seed: c.seed,
    layout: c.layout,
  };
  return { q, k, v, dOut: at.randn(q.shape, { seed: c.seed + 3 }), options };
}

/** Output and the three gradients on one backend. */
function forwardBackward(backend: string, c: Config): Float64Array[] {
  return withBackend(backend, () =>
    at.tidy(() => {
      const { q, k, v, dOut, options } = inputs(c);
      for (const t of [q, k, v]) t.setRequiresGrad();
      const out = at.scaledDotProductAttention(q, k, v, options);
      out.backward(dOut);
      return [out, q.grad!, k.grad!, v.grad!].map((t) => Float64Array.from(t.view()));
    }),
  );
}

const near = (got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol: number) => assertNear(got, want, label, () => tol, tol);

/** Registers this group's tests (inside a describe) for `target`. */
export function attentionConformance(target: Target): void {
  it('attention forward and backward: random shapes and every option (property)', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
      fc.assert(
        fc.property(config, (c) => {
          const [o, dq, dk, dv] = forwardBackward(target.name, c);
          const [ro, rdq, rdk, rdv] = forwardBackward('js', c);
          const label = `${JSON.stringify(c)}, ${threads} threads`;
          near(o, ro, `output ${label}`, 1e-5);
          near(dq, rdq, `dq ${label}`, 1e-4);
          near(dk, rdk, `dk ${label}`, 1e-4);
          near(dv, rdv, `dv ${label}`, 1e-4);
        }),
        { numRuns: target.runs, includeErrorInReport: true },
      );
    }
  });

  it('attention on short sequences with many heads (ViT-sized; the wasm short path and the tiled one)', () => {
    // the registry's shortLength sends Nq, Nk ≤ it to the untiled kernels; 0 sends everything to the tiles
    const registry = kernelSettings(target.name);
    const builtShort = registry?.defaults('attentionForward').shortLength;
    const hasShortPath = builtShort !== undefined;
    const setShort = (shortLength: number) => {
      registry?.setDefaults('attentionForward', { shortLength });
      registry?.setDefaults('attentionBackward', { shortLength });
    };
    const base: Config = {
      ...fc.sample(config, { seed: 5, numRuns: 1 })[0],
      batch: 3,
      numKvHeads: 4,
      group: 1,
      dropout: 0,
      headDim: 16,
      layout: 'bhnd',
    };
    const cases: [string, Partial<Config>][] = [
      ['plain N=17', { queryLength: 17, keyLength: 17, causal: false, window: undefined, mask: 'none', alibi: false, softcap: 0 }],
      ['N=1', { queryLength: 1, keyLength: 1, causal: false, window: undefined, mask: 'none', alibi: false, softcap: 0 }],
      [
        'causal N=5, D=4',
        { queryLength: 5, keyLength: 5, headDim: 4, causal: true, window: undefined, mask: 'none', alibi: false, softcap: 0 },
      ],
      ['Nq=3 < Nk=17, causal', { queryLength: 3, keyLength: 17, causal: true, window: undefined, mask: 'none', alibi: false, softcap: 0 }],
      ['Nq=17 > Nk=6, window', { queryLength: 17, keyLength: 6, causal: false, window: [2, 1], mask: 'none', alibi: false, softcap: 0 }],
      [
        'GQA 8 heads on 2, bool mask per head',
        { numKvHeads: 2, group: 4, queryLength: 9, keyLength: 13, mask: 'bool-per-head', causal: false },
      ],
      ['additive mask, ALiBi, softcap', { queryLength: 17, keyLength: 17, mask: 'additive', alibi: true, softcap: 5, causal: false }],
      [
        'everything but dropout, N=64',
        { queryLength: 64, keyLength: 64, mask: 'bool', alibi: true, softcap: 5, causal: true, window: [20, 3] },
      ],
      [
        'layout bnhd, N=17',
        { queryLength: 17, keyLength: 17, layout: 'bnhd', causal: false, window: undefined, mask: 'none', alibi: false, softcap: 0 },
      ],
      [
        'layout bnhd, GQA, causal, additive mask',
        { numKvHeads: 2, group: 2, queryLength: 11, keyLength: 14, layout: 'bnhd', causal: true, mask: 'additive' },
      ],
      ['dropout (tiled fallback)', { queryLength: 17, keyLength: 17, dropout: 0.2, mask: 'none', causal: false }],
    ];
    for (const threads of target.threads) {
      target.setThreads(threads);
      for (const shortLength of hasShortPath ? [64, 0] : [undefined]) {
        if (shortLength !== undefined) setShort(shortLength);
        try {
          for (const [name, change] of cases) {
            const c: Config = { ...base, ...change };
            const [o, dq, dk, dv] = forwardBackward(target.name, c);
            const [ro, rdq, rdk, rdv] = forwardBackward('js', c);
            const label = `${name}, shortLength ${shortLength}, ${threads} threads`;
            near(o, ro, `output ${label}`, 1e-5);
            near(dq, rdq, `dq ${label}`, 1e-4);
            near(dk, rdk, `dk ${label}`, 1e-4);
            near(dv, rdv, `dv ${label}`, 1e-4);
          }
        } finally {
          if (builtShort !== undefined) setShort(builtShort);
        }
      }
    }
  });

  it('attention weights, and decode against a KV cache with spare capacity', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
      at.tidy(() => {
        const c: Config = { ...fc.sample(config, { seed: 11, numRuns: 1 })[0], queryLength: 13, keyLength: 29, causal: true, dropout: 0 };
        const weights = (backend: string) =>
          withBackend(backend, () => {
            const { q, k, v, options } = inputs(c);
            return Float64Array.from(at.scaledDotProductAttention(q, k, v, { ...options, returnWeights: true }).weights.view());
          });
        near(weights(target.name), weights('js'), `weights, ${threads} threads`, 1e-5);

        const [B, H, Hk, D, N] = [2, 4, 2, 12, 300];
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
          const fast = withBackend(target.name, () => {
            const cache = new at.KVCache({ batch: B, numKvHeads: Hk, headDim: D, capacity: 64 });
            cache.append(k, v);
            const out = Float64Array.from(cache.attend(q, options).view());
            cache.dispose();
            return out;
          });
          const reference = withBackend('js', () => at.scaledDotProductAttention(q, k, v, options));
          near(fast, reference.view(), `decode ${JSON.stringify(Object.keys(options))}, ${threads} threads`, 1e-5);
        }
      });
    }
  });

  it('rotary embeddings forward and backward: rotate-half, interleaved, partial, explicit positions', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
      at.tidy(() => {
        const x = at.randn([2, 3, 17, 10], { seed: 5 });
        const positions = at.tensor(
          Int32Array.from({ length: 34 }, (_, i) => (i * 7) % 50),
          [2, 17],
        );
        for (const options of [{}, { interleaved: true }, { rotaryDim: 6, positionOffset: 9 }, { positions }]) {
          const [fast, reference] = [target.name, 'js'].map((backend) =>
            withBackend(backend, () => {
              const xi = at.tensor(Float32Array.from(x.view()), x.shape).setRequiresGrad();
              const out = at.applyRotary(xi, options);
              out.backward(at.randn(x.shape, { seed: 6 }));
              return [Float64Array.from(out.view()), Float64Array.from(xi.grad!.view())];
            }),
          );
          near(fast[0], reference[0], `rotary forward, ${threads} threads`, 1e-5);
          near(fast[1], reference[1], `rotary backward, ${threads} threads`, 1e-5);
        }
      });
    }
  });
}
