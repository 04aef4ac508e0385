import type { Tensor } from '../../tensor/tensor.js';
import type { MatmulParams } from '../kernels.js';
import { type KernelSettings, threadsFor } from '../settings.js';
import type { WasmContext } from './context.js';

/**
 * Does this product take assembly/gemv.ts (no packing)? M ≤ gemvRows with B
 * transposed (x·Wᵀ: dot products of contiguous rows), M ≤ min(2, gemvRows)
 * with B row-major; never A transposed with M > 1. Measured at 1 thread
 * (bench/small-kernels.ts, GFLOP/s gemv vs packed gemm): 1×512·512×512ᵀ
 * 43 vs 8, 1×512·512×512 18 vs 7.4, 2×512·512×512 49 vs 15, 4×512·512×512ᵀ
 * 56 vs 34, but 4×512·512×512 31 vs 31.
 */
function useGemv(p: MatmulParams, gemvRows: number): boolean {
  if (p.M > (p.transB ? gemvRows : Math.min(2, gemvRows))) return false;
  return p.M === 1 || !p.transA;
}

/**
 * GEMM on assembly/gemm.ts, and few-row products on assembly/gemv.ts. Its
 * settings (settings.ts, kernel 'matmul'): the cache blocks mc × kc × nc,
 * gemvRows (see useGemv; 0 = never) and the threads (0: one per `grain` flops).
 */
export function matmulKernel(ctx: WasmContext, settings: KernelSettings) {
  return (a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void => {
    const { mc, kc, nc, threads: fixed, grain, gemvRows } = settings.get('matmul', p);
    if (useGemv(p, gemvRows ?? 0)) {
      const threads = threadsFor(2 * p.batch * p.M * p.N * p.K, grain, ctx.threads, fixed);
      const flags = [p.transA ? 1 : 0, p.transB ? 1 : 0, p.accumulate ? 1 : 0];
      const shape = [p.batch, p.M, p.N, p.K, p.batchStrideA, p.batchStrideB, p.M * p.N];
      ctx.run('gemvSmall', [a.ptr, b.ptr, out.ptr, ...shape, ...flags], threads);
      return;
    }
    const perThread = ctx.wasm.exports.gemmScratchBytes(mc, kc, nc);
    const flops = 2 * p.batch * p.M * p.N * p.K;
    const threads = threadsFor(flops, grain, ctx.threads, fixed);
    const scratch = ctx.block('gemm', perThread * threads);
    ctx.run(
      'gemm',
      [
        a.ptr,
        b.ptr,
        out.ptr,
        p.batch,
        p.M,
        p.N,
        p.K,
        p.batchStrideA,
        p.batchStrideB,
        p.M * p.N,
        p.transA ? 1 : 0,
        p.transB ? 1 : 0,
        p.accumulate ? 1 : 0,
        mc,
        kc,
        nc,
        scratch,
      ],
      threads,
    );
  };
}
