import type { Tensor } from '../../tensor/tensor.js';
import type { AxisParams, ReduceParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';

/** Threads for `work` units at `grain` each; rows (inner = 1) are never split, so at most `outer`. */
function axisThreads(ctx: WasmContext, p: AxisParams, work: number, grain: number): number {
  const threads = ctx.threadsFor(work, grain);
  return p.inner === 1 ? Math.min(threads, Math.max(p.outer, 1)) : threads;
}

/** Per-thread scratch of the column (inner > 1) paths; 0 when the kernel works on rows. */
function columnScratch(ctx: WasmContext, inner: number): number {
  return inner > 1 ? ctx.scratch(ctx.wasm.exports.columnScratchBytes()) : 0;
}

export function reduceKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: ReduceParams): void => {
    if (out.size === 0) return;
    ctx.run(
      'reduce',
      [p.op === 'sum' ? 0 : 1, x.ptr, out.ptr, p.outer, p.axisSize, p.inner, columnScratch(ctx, p.inner)],
      axisThreads(ctx, p, x.size, kernelGrains.reduce),
    );
  };
}

export function softmaxKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: AxisParams & { log: boolean }): void => {
    if (x.size === 0) return;
    ctx.run(
      'softmax',
      [x.ptr, out.ptr, p.outer, p.axisSize, p.inner, p.log ? 1 : 0, columnScratch(ctx, p.inner)],
      axisThreads(ctx, p, x.size, kernelGrains.softmax),
    );
  };
}

export function softmaxGradKernel(ctx: WasmContext) {
  return (y: Tensor, dy: Tensor, dx: Tensor, p: AxisParams & { log: boolean }): void => {
    if (y.size === 0) return;
    ctx.run(
      'softmaxGrad',
      [y.ptr, dy.ptr, dx.ptr, p.outer, p.axisSize, p.inner, p.log ? 1 : 0, columnScratch(ctx, p.inner)],
      axisThreads(ctx, p, y.size, p.log ? kernelGrains.softmax : kernelGrains.reduce),
    );
  };
}
