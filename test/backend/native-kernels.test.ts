// The native kernels (native/, both the AVX-512 and the AVX2 + FMA builds)
// against the js reference: GEMM on random shapes (transposed operands,
// batched and broadcast batches, accumulate), attention forward, backward and
// decode with every option, 1 to 3 threads; NaN propagation; the addon's
// argument layout; bad calls refused with a clear error. Skipped (with the
// reason) where the addon is not built: `node scripts/build-native.mjs`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { ATTENTION_SLOTS } from '../../src/backend/attention-schema.ts';
import { getBackend, kernelFor, listBackends, registerBackend, withBackend } from '../../src/backend/backend.ts';
import { jsBackend } from '../../src/backend/js/index.ts';
import type { MatmulParams } from '../../src/backend/kernels.ts';
import { loadNativeAddon } from '../../src/backend/native/addon.ts';
import { GEMM_ARGS, ROW_ARGS } from '../../src/backend/native/args.ts';
import { NATIVE_ATTENTION_SLOTS, renderNativeSlots } from '../../src/backend/native/attention-block.ts';
import { NativeBackend } from '../../src/backend/native/index.ts';
import * as at from '../../src/index.ts';
import { getHeap, Tensor } from '../../src/tensor/tensor.ts';
import { assertClose } from '../helpers.ts';

getBackend();
let native: NativeBackend | null = null;
let skip: string | false = false;
try {
  native = listBackends().includes('native') ? (withBackend('native', getBackend) as NativeBackend) : NativeBackend.load();
  if (!listBackends().includes('native')) registerBackend(native);
} catch (e) {
  skip = `native addon not loaded: ${(e as Error).message}`;
}

const cpuIsas = (): ('avx512' | 'avx2')[] => {
  if (!native) return [];
  const start = native.addon.isa() as 'avx512' | 'avx2';
  const list: ('avx512' | 'avx2')[] = [start];
  if (start === 'avx512') list.push('avx2');
  return list;
};
const ISAS = cpuIsas();

after(() => {
  if (native) {
    native.addon.useIsa(ISAS[0] ?? 'avx2');
    native.setThreads(1);
  }
});

/** Runs fn on each ISA build with n threads and every kernel's work split even when tiny. */
function onEachBuild(threads: number, fn: (isa: string) => void): void {
  const n = native as NativeBackend;
  for (const kernel of ['matmul', 'attentionForward', 'attentionBackward', 'attentionDecode', 'rows'])
    n.settings.setDefaults(kernel, { grain: 1 });
  n.setThreads(threads);
  try {
    for (const isa of ISAS) {
      n.addon.useIsa(isa);
      fn(isa);
    }
  } finally {
    n.settings.resetDefaults();
    n.addon.useIsa(ISAS[0] as 'avx512' | 'avx2');
    n.setThreads(1);
  }
}

describe('native backend', { skip }, () => {
  it('the addon reads the slots args.ts and the attention schema fill, in the same order; attention-slots.h is current', () => {
    const addon = loadNativeAddon();
    assert.deepEqual(addon.argLayouts.gemm, [...GEMM_ARGS]);
    assert.deepEqual(addon.argLayouts.rows, [...ROW_ARGS]);
    assert.deepEqual(
      addon.argLayouts.attention,
      NATIVE_ATTENTION_SLOTS.map((s) => s.name),
    );
    assert.deepEqual(
      NATIVE_ATTENTION_SLOTS.slice(0, ATTENTION_SLOTS.length).map((s) => s.name),
      ATTENTION_SLOTS.map((s) => s.name),
    );
    assert.equal(readFileSync(new URL('../../native/attention-slots.h', import.meta.url), 'utf8'), renderNativeSlots());
  });

  const gemmCase = fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    M: fc.integer({ min: 1, max: 70 }),
    N: fc.integer({ min: 1, max: 90 }),
    K: fc.integer({ min: 1, max: 80 }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    broadcastA: fc.boolean(),
    broadcastB: fc.boolean(),
    accumulate: fc.boolean(),
    blocking: fc.constantFrom(null, { mc: 12, kc: 7, nc: 32 }, { mc: 30, kc: 33, nc: 40 }),
    seed: fc.integer({ min: 0, max: 1000 }),
  });

  for (const threads of [1, 2, 3]) {
    it(`GEMM matches the reference on random shapes, transposes, broadcast batches, accumulate, blockings; ${threads} thread(s) (property)`, () => {
      const n = native as NativeBackend;
      onEachBuild(threads, (isa) => {
        fc.assert(
          fc.property(gemmCase, (c) =>
            at.tidy(() => {
              const a = at.randn([c.broadcastA ? 1 : c.batch, c.M * c.K], { seed: c.seed });
              const b = at.randn([c.broadcastB ? 1 : c.batch, c.K * c.N], { seed: c.seed + 1 });
              const start = at.randn([c.batch, c.M * c.N], { seed: c.seed + 2 });
              const p: MatmulParams = {
                batch: c.batch,
                M: c.M,
                N: c.N,
                K: c.K,
                batchStrideA: c.broadcastA ? 0 : c.M * c.K,
                batchStrideB: c.broadcastB ? 0 : c.K * c.N,
                transA: c.transA,
                transB: c.transB,
                accumulate: c.accumulate,
              };
              const got = Tensor.empty(start.shape);
              got.view().set(start.view());
              n.settings.withSettings('matmul', c.blocking ?? {}, () => n.kernels.matmul?.(a, b, got, p));
              const want = Tensor.empty(start.shape);
              want.view().set(start.view());
              jsBackend.kernels.matmul?.(a, b, want, p);
              assertClose(got.view(), want.view(), 1e-5, 2e-5 * Math.sqrt(c.K), `${isa} ${JSON.stringify(c)}`);
            }),
          ),
          { numRuns: threads === 1 ? 40 : 15 },
        );
      });
    });
  }

  it('GEMM 257 × 300 × 129 through the matmul op, with the real thread grains', () => {
    const a = at.randn([257, 129], { seed: 1 });
    const b = at.randn([129, 300], { seed: 2 });
    (native as NativeBackend).setThreads(2);
    const got = withBackend('native', () => at.matmul(a, b));
    (native as NativeBackend).setThreads(1);
    const want = withBackend('js', () => at.matmul(a, b));
    assertClose(got.view(), want.view(), 1e-5, 1e-4);
  });

  const attentionCase = fc.record({
    batch: fc.integer({ min: 1, max: 2 }),
    numKvHeads: fc.integer({ min: 1, max: 3 }),
    group: fc.constantFrom(1, 2, 3),
    queryLength: fc.integer({ min: 1, max: 80 }),
    keyLength: fc.integer({ min: 1, max: 100 }),
    headDim: fc.constantFrom(1, 3, 7, 16, 33, 64),
    causal: fc.boolean(),
    window: fc.option(fc.tuple(fc.integer({ min: -1, max: 20 }), fc.integer({ min: -1, max: 20 })), { nil: undefined }),
    mask: fc.constantFrom('none', 'bool', 'additive', 'bool-per-head'),
    alibi: fc.boolean(),
    softcap: fc.constantFrom(0, 0, 5),
    dropout: fc.constantFrom(0, 0, 0.2),
    seed: fc.integer({ min: 0, max: 1000 }),
  });
  type AttentionCase = typeof attentionCase extends fc.Arbitrary<infer T> ? T : never;

  function attentionInputs(c: AttentionCase) {
    const H = c.numKvHeads * c.group;
    const [Nq, Nk] = [c.queryLength, c.keyLength];
    const q = at.randn([c.batch, H, Nq, c.headDim], { seed: c.seed });
    const k = at.randn([c.batch, c.numKvHeads, Nk, c.headDim], { seed: c.seed + 1 });
    const v = at.randn([c.batch, c.numKvHeads, Nk, c.headDim], { seed: c.seed + 2 });
    const dOut = at.randn(q.shape, { seed: c.seed + 3 });
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

  function attentionRun(backend: string, c: AttentionCase) {
    return withBackend(backend, () =>
      at.tidy(() => {
        const { q, k, v, dOut, options } = attentionInputs(c);
        for (const t of [q, k, v]) t.setRequiresGrad();
        const out = at.scaledDotProductAttention(q, k, v, options);
        out.backward(dOut);
        return [out, q.grad, k.grad, v.grad].map((t) => Float64Array.from((t as at.Tensor).view()));
      }),
    );
  }

  for (const threads of [1, 2, 3]) {
    it(`attention forward within 1e-5 and gradients within 1e-4 on random shapes and every option, ${threads} thread(s) (property)`, () => {
      onEachBuild(threads, (isa) => {
        fc.assert(
          fc.property(attentionCase, (c) => {
            const [o, dq, dk, dv] = attentionRun('native', c);
            const [ro, rdq, rdk, rdv] = attentionRun('js', c);
            const label = `${isa} ${JSON.stringify(c)}`;
            assertClose(o, ro, 1e-5, 1e-5, `output ${label}`);
            assertClose(dq, rdq, 1e-4, 1e-4, `dq ${label}`);
            assertClose(dk, rdk, 1e-4, 1e-4, `dk ${label}`);
            assertClose(dv, rdv, 1e-4, 1e-4, `dv ${label}`);
          }),
          { numRuns: threads === 1 ? 40 : 12 },
        );
      });
    });
  }

  it('decode against a KV cache (split over keys, GQA) matches the reference with every option, 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      onEachBuild(threads, (isa) => {
        const [B, H, Hk, D, N] = [2, 8, 2, 24, 700];
        const q = at.randn([B, H, 2, D], { seed: 1 });
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
          const fast = withBackend('native', () => cache.attend(q, options));
          const reference = withBackend('js', () => at.scaledDotProductAttention(q, k, v, options));
          assertClose(fast.view(), reference.view(), 1e-5, 1e-6, `${isa}, ${threads} threads, ${JSON.stringify(Object.keys(options))}`);
          cache.dispose();
        }
      });
    }
  });

  // A NaN at a key a row cannot see: the reference multiplies it by P = 0 in O = P·V (so a NaN value
  // reaches every row), the tiled kernels skip blocks no row of a tile can see. N = 40 fits one tile,
  // where both agree; for queries and keys they agree at any size (masked scores are replaced, not added).
  it('NaN in a query row, a key or a value propagates as in the reference; other rows stay finite', () => {
    const [B, H, N, D] = [1, 2, 40, 16];
    for (const where of ['query', 'key', 'value'] as const) {
      for (const causal of [false, true]) {
        const run = (backend: string) =>
          withBackend(backend, () =>
            at.tidy(() => {
              const t = {
                query: at.randn([B, H, N, D], { seed: 1 }),
                key: at.randn([B, H, N, D], { seed: 2 }),
                value: at.randn([B, H, N, D], { seed: 3 }),
              };
              const view = t[where].view();
              view[(0 * N + 5) * D + 3] = Number.NaN; // head 0, row 5, dim 3
              for (const x of Object.values(t)) x.setRequiresGrad();
              const out = at.scaledDotProductAttention(t.query, t.key, t.value, { causal });
              out.backward(at.randn(out.shape, { seed: 4 }));
              return [out, t.query.grad, t.key.grad, t.value.grad].map((x) => Float64Array.from((x as at.Tensor).view()));
            }),
          );
        const got = run('native');
        const want = run('js');
        const names = ['output', 'dq', 'dk', 'dv'];
        for (let i = 0; i < 4; i++) {
          const g = got[i] as Float64Array;
          const w = want[i] as Float64Array;
          for (let e = 0; e < w.length; e++) {
            assert.equal(
              Number.isNaN(g[e]),
              Number.isNaN(w[e]),
              `${where} NaN, causal ${causal}: ${names[i]}[${e}] is ${g[e]}, reference ${w[e]}`,
            );
          }
          assertClose(g, w, 1e-4, 1e-4, `${where} NaN, causal ${causal}: ${names[i]}`);
        }
      }
    }
  });

  it('very large scores stay finite and a fully masked row gives zeros (LSE −∞, zero gradients)', () => {
    const q = at.mulScalar(at.randn([1, 2, 9, 16], { seed: 7 }), 1e4);
    const k = at.randn([1, 2, 9, 16], { seed: 8 });
    const keep = Uint8Array.from({ length: 81 }, (_, i) => (Math.floor(i / 9) === 4 ? 0 : 1));
    const out = withBackend('native', () => at.scaledDotProductAttention(q, k, k, { scale: 1, mask: at.tensor(keep, [9, 9]) }));
    const o = Array.from(out.view());
    assert.ok(o.every(Number.isFinite));
    for (let h = 0; h < 2; h++) assert.deepEqual(o.slice((h * 9 + 4) * 16, (h * 9 + 5) * 16), new Array(16).fill(0));
  });

  it('row kernels (softmax, log-softmax, LayerNorm, RMSNorm and gradients) match the reference on both builds, 1 and 2 threads', () => {
    const n = native as NativeBackend;
    const js = jsBackend.kernels;
    for (const threads of [1, 2]) {
      onEachBuild(threads, (isa) => {
        for (const [rows, cols, offset] of [
          [1, 1, 0],
          [3, 17, 0],
          [70, 33, 1000],
          [5, 300, -20],
        ]) {
          at.tidy(() => {
            const x = at.addScalar(at.mulScalar(at.randn([rows, cols], { seed: rows + cols }), 3), offset);
            const dy = at.randn([rows, cols], { seed: 7 });
            const gamma = at.randn([cols], { seed: 8 });
            const beta = at.randn([cols], { seed: 9 });
            const label = `${isa} ${threads}T [${rows}, ${cols}] +${offset}`;
            const run = (k: typeof js, f: (k: typeof js, outs: Tensor[]) => void, shapes: number[][]) => {
              const outs = shapes.map((shape) => at.zeros(shape));
              f(k, outs);
              return outs.map((t) => Float64Array.from(t.view()));
            };
            for (const log of [false, true]) {
              const axis = { outer: rows, axisSize: cols, inner: 1, log };
              const [y] = run(n.kernels as typeof js, (k, [o]) => k.softmax?.(x, o as Tensor, axis), [[rows, cols]]);
              const [yRef] = run(js, (k, [o]) => k.softmax?.(x, o as Tensor, axis), [[rows, cols]]);
              assertClose(y as Float64Array, yRef as Float64Array, 1e-5, 1e-6, `softmax log=${log} ${label}`);
              const yT = at.tensor(Float32Array.from(yRef as Float64Array), [rows, cols]);
              const [dx] = run(n.kernels as typeof js, (k, [o]) => k.softmaxGrad?.(yT, dy, o as Tensor, axis), [[rows, cols]]);
              const [dxRef] = run(js, (k, [o]) => k.softmaxGrad?.(yT, dy, o as Tensor, axis), [[rows, cols]]);
              assertClose(dx as Float64Array, dxRef as Float64Array, 1e-4, 1e-5, `softmaxGrad log=${log} ${label}`);
            }
            for (const rms of [false, true]) {
              const p = { rows, cols, eps: 1e-5, rms };
              const b = rms ? null : beta;
              const shapes = [[rows, cols], [rows], [rows]];
              const got = run(
                n.kernels as typeof js,
                (k, [o, m, r]) => k.norm?.(x, gamma, b, o as Tensor, m as Tensor, r as Tensor, p),
                shapes,
              );
              const want = run(js, (k, [o, m, r]) => k.norm?.(x, gamma, b, o as Tensor, m as Tensor, r as Tensor, p), shapes);
              assertClose(got[0] as Float64Array, want[0] as Float64Array, 1e-4, 1e-4, `norm rms=${rms} ${label}`);
              assertClose(got[2] as Float64Array, want[2] as Float64Array, 1e-5, 1e-6, `rstd rms=${rms} ${label}`);
              const mean = at.tensor(Float32Array.from(want[1] as Float64Array), [rows]);
              const rstd = at.tensor(Float32Array.from(want[2] as Float64Array), [rows]);
              const gshapes = [[rows, cols], [cols], [cols]];
              const grad = (k: typeof js) =>
                run(
                  k,
                  (kk, [dx, dg, db]) => kk.normGrad?.(x, gamma, mean, rstd, dy, dx as Tensor, dg as Tensor, rms ? null : (db as Tensor), p),
                  gshapes,
                );
              const [gx, gg, gb] = grad(n.kernels as typeof js);
              const [rx, rg, rb] = grad(js);
              assertClose(gx as Float64Array, rx as Float64Array, 1e-3, 1e-4, `normGrad dx rms=${rms} ${label}`);
              assertClose(gg as Float64Array, rg as Float64Array, 1e-4, 1e-4 * rows, `normGrad dgamma rms=${rms} ${label}`);
              if (!rms) assertClose(gb as Float64Array, rb as Float64Array, 1e-4, 1e-4 * rows, `normGrad dbeta ${label}`);
            }
          });
        }
      });
    }
  });

  it('a kernel native lacks comes from the wasm backend through the registry (then js)', () => {
    const q = at.randn([1, 1, 2, 4], { seed: 1 });
    const wasmKernel = withBackend('wasm', () => getBackend().kernels.attentionWeights);
    assert.ok(wasmKernel, 'the wasm backend has attentionWeights');
    assert.equal((native as NativeBackend).kernels.attentionWeights, undefined);
    assert.equal(
      withBackend('native', () => kernelFor('attentionWeights', [q])),
      wasmKernel,
    );
    // float64 still goes to the reference
    const q64 = at.tensor(new Float64Array(8), [1, 1, 2, 4]);
    assert.equal(
      withBackend('native', () => kernelFor('attentionWeights', [q64])),
      jsBackend.kernels.attentionWeights,
    );
  });

  it('two JS threads (worker_threads) calling the native kernels at once both get the reference results', async () => {
    const worker = (seed: number) =>
      new Promise<number>((resolve, reject) => {
        const file = new URL('./native-threads-worker.ts', import.meta.url).href;
        const code = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`;
        const w = new Worker(code, { eval: true, workerData: { seed, rounds: 30 } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    assert.deepEqual(await Promise.all([worker(1), worker(2)]), [0, 0]);
  });

  it('refuses an argument block that points outside the heap, naming the tensor', () => {
    const addon = loadNativeAddon();
    const args = new Float64Array(GEMM_ARGS.length);
    args.set([getHeap().memory.buffer.byteLength - 16, 64, 128, 1, 8, 8, 8]);
    assert.throws(() => addon.gemm(getHeap().u8(), args), /gemm: A at byte \d+ with 64 floats lies outside the \d+-byte heap/);
    assert.throws(() => addon.gemm(getHeap().u8(), new Float64Array(3)), /Float64Array of 16 slots/);
  });
});
