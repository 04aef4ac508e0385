import type { Tensor } from '../../tensor/tensor.js';
import { referenceKernel } from '../backend.js';
import { BINARY_OPS, type BinaryParams, type DropoutParams, UNARY_OPS, type UnaryOp, type UnaryParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';
import { mergeDims } from './strided.js';

/**
 * Cost of one element of each unary op (and of its gradient) in cheap-element
 * units (an add ≈ 0.19 ns, single thread), for the thread decision.
 */
export const UNARY_COST: Readonly<Record<UnaryOp, number>> = {
  neg: 1,
  abs: 1,
  square: 1,
  relu: 1,
  sqrt: 1,
  rsqrt: 1,
  addScalar: 1,
  mulScalar: 1,
  rsubScalar: 1,
  rdivScalar: 1,
  exp: 4,
  log: 4,
  sigmoid: 7,
  silu: 8,
  tanh: 10,
  gelu: 9,
  geluTanh: 20,
  powScalar: 150,
};

function unaryThreads(ctx: WasmContext, op: UnaryOp, n: number): number {
  return ctx.threadsFor(n * UNARY_COST[op], kernelGrains.elementwise);
}

export function binaryKernel(ctx: WasmContext) {
  return (a: Tensor, b: Tensor, out: Tensor, p: BinaryParams): void => {
    if (out.size === 0) return;
    const merged = mergeDims(p.outShape, [p.stridesA, p.stridesB]);
    if (!merged) {
      referenceKernel('binary')(a, b, out, p);
      return;
    }
    const [stridesA, stridesB] = merged.strides;
    ctx.run(
      'binary',
      [BINARY_OPS.indexOf(p.op), a.ptr, b.ptr, out.ptr, ...merged.shape, ...stridesA, ...stridesB],
      ctx.threadsFor(out.size, kernelGrains.elementwise),
    );
  };
}

export function unaryKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: UnaryParams): void => {
    if (x.size === 0) return;
    ctx.run('unary', [UNARY_OPS.indexOf(p.op), x.ptr, out.ptr, x.size, p.alpha], unaryThreads(ctx, p.op, x.size));
  };
}

export function unaryGradKernel(ctx: WasmContext) {
  return (x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, p: UnaryParams): void => {
    if (x.size === 0) return;
    ctx.run('unaryGrad', [UNARY_OPS.indexOf(p.op), x.ptr, y.ptr, dy.ptr, dx.ptr, x.size, p.alpha], unaryThreads(ctx, p.op, x.size));
  };
}

export function dropoutKernel(ctx: WasmContext) {
  return (x: Tensor, out: Tensor, p: DropoutParams): void => {
    if (x.size === 0) return;
    // dropoutKeep keeps h ≥ p·2^32 for a u32 h, i.e. h ≥ ⌈p·2^32⌉ (exact: p·2^32 is exact in float64)
    const threshold = Math.ceil(p.p * 4294967296);
    const keepNone = threshold >= 4294967296 ? 1 : 0;
    ctx.run(
      'dropout',
      [x.ptr, out.ptr, x.size, p.seed | 0, threshold | 0, keepNone, 1 / (1 - p.p)],
      ctx.threadsFor(x.size, kernelGrains.dropout),
    );
  };
}
