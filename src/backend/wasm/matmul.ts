import type { Tensor } from '../../tensor/tensor.js';
import type { MatmulParams } from '../kernels.js';
import { type KernelSettings, threadsFor } from '../settings.js';
import type { WasmContext } from './context.js';

/**
 * GEMM on assembly/gemm.ts. Its settings (settings.ts, kernel 'matmul'): the
 * cache blocks mc × kc × nc and the threads (0: one per `grain` flops).
 */
export function matmulKernel(ctx: WasmContext, settings: KernelSettings) {
  return (a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void => {
    const { mc, kc, nc, threads: fixed, grain } = settings.get('matmul', p);
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
