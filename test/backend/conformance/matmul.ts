// Conformance: the matmul kernel of a backend against the js reference on the
// shapes where fast backends switch paths: matrix–vector products and few-row
// GEMMs (M = 1..5: wasm's unpacked assembly/gemv.ts), odd N and K that leave
// partial vectors, both transposes, broadcast batches, and accumulate. On a
// backend whose settings registry has gemvRows, each case also runs with it
// at 0 (the packed GEMM for every shape).

import { it } from 'node:test';
import { withBackend } from '../../../src/backend/backend.ts';
import type { MatmulParams } from '../../../src/backend/kernels.ts';
import { kernelSettings } from '../../../src/backend/settings.ts';
import * as at from '../../../src/index.ts';
import { assertNear, both, f32, type Target, values } from './support.ts';

interface Shape {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** 'a' or 'b': that operand is one matrix for every batch (stride 0). */
  broadcast: 'none' | 'a' | 'b';
  accumulate: boolean;
}

function shapes(): Shape[] {
  const out: Shape[] = [];
  let i = 0;
  for (const M of [1, 2, 3, 4, 5])
    for (const [N, K] of [
      [1, 1],
      [7, 3],
      [8, 4],
      [33, 5],
      [64, 64],
      [65, 67],
      [200, 16],
    ])
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          i++;
          const batch = i % 3 === 0 ? 3 : 1;
          const broadcast = batch > 1 ? (['none', 'a', 'b'] as const)[i % 3] : 'none';
          out.push({ batch, M, N, K, transA, transB, broadcast, accumulate: i % 4 === 1 });
        }
  return out;
}

function run(target: Target, s: Shape, rng: at.Rng): [Float32Array, Float32Array] {
  const aCount = s.broadcast === 'a' ? 1 : s.batch;
  const bCount = s.broadcast === 'b' ? 1 : s.batch;
  const a = f32(values(rng, aCount * s.M * s.K), [aCount, ...(s.transA ? [s.K, s.M] : [s.M, s.K])]);
  const b = f32(values(rng, bCount * s.K * s.N), [bCount, ...(s.transB ? [s.N, s.K] : [s.K, s.N])]);
  const c0 = values(rng, s.batch * s.M * s.N);
  const p: MatmulParams = {
    batch: s.batch,
    M: s.M,
    N: s.N,
    K: s.K,
    batchStrideA: s.broadcast === 'a' ? 0 : s.M * s.K,
    batchStrideB: s.broadcast === 'b' ? 0 : s.K * s.N,
    transA: s.transA,
    transB: s.transB,
    accumulate: s.accumulate,
  };
  const [[want], [got]] = both(
    target,
    'matmul',
    [a, b],
    () => [at.tensor(Float32Array.from(c0), [s.batch, s.M, s.N])],
    (k, [c]) => k(a, b, c, p),
  );
  a.dispose();
  b.dispose();
  return [want, got];
}

/** Registers this group's tests (inside a describe) for `target`. */
export function matmulConformance(target: Target): void {
  it('matmul: matrix–vector and few-row products, transposes, broadcast batches, accumulate', () => {
    const registry = kernelSettings(target.name);
    const built = registry?.defaults('matmul').gemvRows;
    const settings = built === undefined ? [undefined] : [built, 0];
    for (const threads of target.threads) {
      target.setThreads(threads);
      for (const gemvRows of settings) {
        if (gemvRows !== undefined) registry?.setDefaults('matmul', { gemvRows });
        try {
          const rng = new at.Rng(17);
          for (const s of shapes()) {
            const [want, got] = run(target, s, rng);
            const label = `${JSON.stringify(s)}, gemvRows ${gemvRows}, ${threads} threads`;
            // float32 sums of K products of N(0, 1) terms against float64 ones
            assertNear(got, want, label, () => 2e-6 * (s.K + 1));
          }
        } finally {
          if (built !== undefined) registry?.setDefaults('matmul', { gemvRows: built });
        }
      }
    }
  });

  it('matmul: x·Wᵀ (M = 1, B transposed) against a float64 sum; operands unchanged', () => {
    withBackend(target.name, () => {
      const rng = new at.Rng(3);
      const [K, N] = [37, 45];
      const a = f32(values(rng, K), [1, K]);
      const b = f32(values(rng, K * N), [N, K]);
      const before = [Float32Array.from(a.view()), Float32Array.from(b.view())];
      const row = at.tensor(new Float32Array(N), [1, N]);
      at.getBackend().kernels.matmul?.(a, b, row, {
        batch: 1,
        M: 1,
        N,
        K,
        batchStrideA: 0,
        batchStrideB: 0,
        transA: false,
        transB: true,
        accumulate: false,
      });
      assertNear(a.view(), before[0], 'a unchanged');
      assertNear(b.view(), before[1], 'b unchanged');
      const want = new Float64Array(N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) want[n] += (a.view()[k] as number) * (b.view()[n * K + k] as number);
      assertNear(row.view(), want, 'x·Wᵀ', () => 2e-6 * K);
      for (const t of [a, b, row]) t.dispose();
    });
  });
}
