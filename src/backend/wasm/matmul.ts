import type { Tensor } from '../../tensor/tensor.js';
import type { MatmulParams } from '../kernels.js';
import type { WasmContext } from './context.js';

/** Cache-block sizes for assembly/gemm.ts; parameters so the kernel autotuner can choose them. */
export interface GemmBlocking {
  mc: number;
  kc: number;
  nc: number;
}

// Measured on a Zen 4 (32 KiB L1d, 1 MiB L2 per core): one 8 KiB B micro-panel stays in L1, packed A
// (128 KiB) in L2; sizes from 32 to 4096 came within 2% of each other (scripts/gemm-harness.mjs).
export const defaultGemmBlocking: GemmBlocking = { mc: 128, kc: 256, nc: 1024 };

export function matmulKernel(ctx: WasmContext, blocking: GemmBlocking = defaultGemmBlocking) {
  return (a: Tensor, b: Tensor, out: Tensor, p: MatmulParams): void => {
    const { mc, kc, nc } = blocking;
    const perThread = ctx.wasm.exports.gemmScratchBytes(mc, kc, nc);
    const flops = 2 * p.batch * p.M * p.N * p.K;
    const threads = ctx.threadsFor(flops, 2_000_000);
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
