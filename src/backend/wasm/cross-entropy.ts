import type { Tensor } from '../../tensor/tensor.js';
import type { CrossEntropyParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';

export function crossEntropyKernel(ctx: WasmContext) {
  return (logits: Tensor, targets: Tensor, loss: Tensor, dlogits: Tensor, p: CrossEntropyParams): void => {
    if (p.rows === 0 || p.classes === 0) return;
    ctx.run(
      'crossEntropy',
      [logits.ptr, targets.ptr, loss.ptr, dlogits.ptr, p.rows, p.classes, p.ignoreIndex, p.labelSmoothing],
      Math.min(ctx.threadsFor(p.rows * p.classes, kernelGrains.crossEntropy), p.rows),
    );
  };
}
