import type { Tensor } from '../../tensor/tensor.js';
import { getHeap } from '../../tensor/tensor.js';
import type { MatmulParams } from '../kernels.js';
import type { NativeAddon } from './addon.js';
import { ArgBlock, GEMM_ARGS } from './args.js';
import type { NativeContext } from './context.js';

/** C = A·B (batched, broadcast, transposed operands) on the native GEMM. */
export function matmulKernel(addon: NativeAddon, ctx: NativeContext) {
  const args = new ArgBlock(GEMM_ARGS);
  return (a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void => {
    const { mc, kc, nc } = ctx.settings.gemm;
    const flops = 2 * p.batch * p.M * p.N * p.K;
    addon.gemm(
      getHeap().u8(),
      args.fill({
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
        threads: ctx.threadsFor(flops, ctx.settings.grain.gemm),
      }),
    );
  };
}
