import type { Tensor } from '../../tensor/tensor.js';
import type { NormParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';

export function normKernel(ctx: WasmContext) {
  return (x: Tensor, gamma: Tensor, beta: Tensor | null, out: Tensor, mean: Tensor, rstd: Tensor, p: NormParams): void => {
    if (p.rows === 0) return;
    ctx.run(
      'norm',
      [x.ptr, gamma.ptr, beta ? beta.ptr : 0, out.ptr, mean.ptr, rstd.ptr, p.rows, p.cols, p.eps, p.rms ? 1 : 0],
      Math.min(ctx.threadsFor(p.rows * p.cols, kernelGrains.norm), p.rows),
    );
  };
}

/**
 * dx per row on up to `threads` threads, each also summing its rows' dγ, dβ
 * into its own partial row in scratch (normPartialBytes per thread); then
 * normGradReduce sums the partials with threads splitting the columns. No
 * two threads write one element.
 */
export function normGradKernel(ctx: WasmContext) {
  return (
    x: Tensor,
    gamma: Tensor,
    mean: Tensor,
    rstd: Tensor,
    dy: Tensor,
    dx: Tensor,
    dgamma: Tensor,
    dbeta: Tensor | null,
    p: NormParams,
  ): void => {
    if (p.cols === 0) return;
    const threads = Math.min(ctx.threadsFor(p.rows * p.cols, kernelGrains.norm), Math.max(p.rows, 1));
    const partials = ctx.scratch(ctx.wasm.exports.normPartialBytes(p.cols));
    const hasBeta = dbeta ? 1 : 0;
    ctx.run('normGrad', [x.ptr, gamma.ptr, mean.ptr, rstd.ptr, dy.ptr, dx.ptr, partials, p.rows, p.cols, p.rms ? 1 : 0], threads);
    ctx.run(
      'normGradReduce',
      [partials, dgamma.ptr, dbeta ? dbeta.ptr : 0, p.cols, threads, hasBeta],
      ctx.threadsFor(p.cols * threads, kernelGrains.norm),
    );
  };
}
