import { getHeap, type Tensor } from '../../tensor/tensor.js';
import type { MatmulParams } from '../kernels.js';
import { type KernelSettings, threadsFor } from '../settings.js';
import type { NativeAddon } from './addon.js';
import { ArgBlock, GEMM_ARGS } from './args.js';

/**
 * C = A·B (batched, broadcast, transposed operands) on native/gemm.cc. Its
 * settings (settings.ts, kernel 'matmul'): cache blocks mc × kc × nc, threads.
 */
export function matmulKernel(addon: NativeAddon, settings: KernelSettings, maxThreads: () => number) {
  const args = new ArgBlock(GEMM_ARGS);
  return (a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void => {
    const { mc, kc, nc, threads, grain } = settings.get('matmul', p);
    const flops = 2 * p.batch * p.M * p.N * p.K;
    const block = args.fill({
      a: a.ptr,
      b: b.ptr,
      c: out.ptr,
      batch: p.batch,
      M: p.M,
      N: p.N,
      K: p.K,
      batchStrideA: p.batchStrideA,
      batchStrideB: p.batchStrideB,
      transA: p.transA,
      transB: p.transB,
      accumulate: p.accumulate,
      mc,
      kc,
      nc,
      threads: threadsFor(flops, grain as number, maxThreads(), threads),
    });
    addon.gemm(getHeap().u8(), block);
  };
}
