import type { Tensor } from '../../tensor/tensor.js';
import type { AxisParams, ReduceParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';

export function reduceKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: ReduceParams): void => {
    if (out.size === 0) return;
    ctx.run('reduce', [p.op === 'sum' ? 0 : 1, x.ptr, out.ptr, p.outer, p.axisSize, p.inner], ctx.threadsFor(x.size, kernelGrains.reduce));
  };
}

export function softmaxKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: AxisParams & { log: boolean }): void => {
    if (x.size === 0) return;
    ctx.run('softmax', [x.ptr, out.ptr, p.outer, p.axisSize, p.inner, p.log ? 1 : 0], ctx.threadsFor(x.size, kernelGrains.softmax));
  };
}

export function softmaxGradKernel(ctx: WasmContext) {
  return (y: Tensor, dy: Tensor, dx: Tensor, p: AxisParams & { log: boolean }): void => {
    if (y.size === 0) return;
    ctx.run(
      'softmaxGrad',
      [y.ptr, dy.ptr, dx.ptr, p.outer, p.axisSize, p.inner, p.log ? 1 : 0],
      ctx.threadsFor(y.size, p.log ? kernelGrains.softmax : kernelGrains.reduce),
    );
  };
}
