// The native kernels (native/, both the AVX-512 and the AVX2 + FMA builds)
// against the js reference: GEMM on random shapes (transposed operands,
// batched and broadcast batches, accumulate), attention forward, backward and
// decode with every option, 1 to 3 threads; NaN propagation; the addon's
// argument layout; bad calls refused with a clear error. Skipped (with the
// reason) where the addon is not built: `node scripts/build-native.mjs`.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { getBackend, listBackends, registerBackend, withBackend } from '../../src/backend/backend.ts';
import { jsBackend } from '../../src/backend/js/index.ts';
import type { MatmulParams } from '../../src/backend/kernels.ts';
import { loadNativeAddon } from '../../src/backend/native/addon.ts';
import { ATTENTION_ARGS, GEMM_ARGS } from '../../src/backend/native/args.ts';
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
  const grains = { ...n.settings.grain };
  n.settings.grain.gemm = n.settings.grain.attention = n.settings.grain.decode = 1;
  n.setThreads(threads);
  try {
    for (const isa of ISAS) {
      n.addon.useIsa(isa);
      fn(isa);
    }
  } finally {
    Object.assign(n.settings.grain, grains);
    n.addon.useIsa(ISAS[0] as 'avx512' | 'avx2');
    n.setThreads(1);
  }
}

describe('native backend', { skip }, () => {
  it('the addon lists the argument slots args.ts fills, in the same order', () => {
    const addon = loadNativeAddon();
    assert.deepEqual(addon.argLayouts.gemm, [...GEMM_ARGS]);
    assert.deepEqual(addon.argLayouts.attention, [...ATTENTION_ARGS]);
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
              const saved = { ...n.settings.gemm };
              if (c.blocking) Object.assign(n.settings.gemm, c.blocking);
              const got = Tensor.empty(start.shape);
              got.view().set(start.view());
              try {
                n.kernels.matmul?.(a, b, got, p);
              } finally {
                Object.assign(n.settings.gemm, saved);
              }
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

  it('refuses an argument block that points outside the heap, naming the tensor', () => {
    const addon = loadNativeAddon();
    const args = new Float64Array(GEMM_ARGS.length);
    args.set([getHeap().memory.buffer.byteLength - 16, 64, 128, 1, 8, 8, 8]);
    assert.throws(() => addon.gemm(getHeap().u8(), args), /gemm: A at byte \d+ with 64 floats lies outside the \d+-byte heap/);
    assert.throws(() => addon.gemm(getHeap().u8(), new Float64Array(3)), /Float64Array of 16 slots/);
  });
});
