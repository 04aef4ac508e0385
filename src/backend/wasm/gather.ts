import { bytesPerElement } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { referenceKernel } from '../backend.js';
import type { CopyParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';
import { mergeDims } from './strided.js';

export function copyKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: CopyParams): void => {
    let total = 1;
    for (const d of p.shape) total *= d;
    if (total === 0) return;
    // the kernel moves 32-bit words
    if (bytesPerElement(x.dtype) !== 4) {
      referenceKernel('copy')(x, out, p);
      return;
    }
    const merged = mergeDims(p.shape, [p.srcStrides, p.dstStrides]);
    if (!merged) {
      referenceKernel('copy')(x, out, p);
      return;
    }
    const [srcStrides, dstStrides] = merged.strides;
    // a destination written twice (stride 0) keeps the reference's last-wins order on one thread
    const overlapping = merged.shape.some((n, d) => n > 1 && dstStrides[d] === 0);
    ctx.run(
      'copy',
      [x.ptr + 4 * p.srcOffset, out.ptr + 4 * p.dstOffset, ...merged.shape, ...srcStrides, ...dstStrides],
      overlapping ? 1 : ctx.threadsFor(total, kernelGrains.gather),
    );
  };
}

export function embeddingKernel(ctx: WasmContext) {
  return (weight: Tensor, indices: Tensor, out: Tensor): void => {
    const dim = weight.shape[1];
    if (indices.size === 0 || dim === 0) return;
    ctx.run('embedding', [weight.ptr, indices.ptr, out.ptr, indices.size, dim], ctx.threadsFor(indices.size * dim, kernelGrains.gather));
  };
}

export function embeddingGradKernel(ctx: WasmContext) {
  return (indices: Tensor, dy: Tensor, dweight: Tensor): void => {
    const dim = dweight.shape[1];
    if (indices.size === 0 || dim === 0) return;
    // threads split the columns in 16-float blocks
    const threads = Math.min(ctx.threadsFor(indices.size * dim, kernelGrains.gather), Math.ceil(dim / 16));
    ctx.run('embeddingGrad', [indices.ptr, dy.ptr, dweight.ptr, indices.size, dim], threads);
  };
}
