import type { Tensor } from '../../tensor/tensor.js';
import { binary as binaryReference } from '../js/elementwise.js';
import type { BinaryOp, BinaryParams, DropoutParams, UnaryOp, UnaryParams } from '../kernels.js';
import type { WasmContext } from './context.js';
import { kernelGrains } from './grains.js';
import { mergeDims } from './strided.js';

/** Op codes of assembly/elementwise.ts: the position in these lists. */
const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'equal'];
const UNARY_OPS: readonly UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'abs',
  'square',
  'tanh',
  'sigmoid',
  'relu',
  'gelu',
  'geluTanh',
  'silu',
  'addScalar',
  'mulScalar',
  'powScalar',
  'rsubScalar',
  'rdivScalar',
];

const MATH_OPS: ReadonlySet<UnaryOp> = new Set(['exp', 'log', 'tanh', 'sigmoid', 'gelu', 'geluTanh', 'silu']);

function unaryGrain(op: UnaryOp): number {
  if (op === 'powScalar') return kernelGrains.pow;
  return MATH_OPS.has(op) ? kernelGrains.transcendental : kernelGrains.elementwise;
}

export function binaryKernel(ctx: WasmContext) {
  return (a: Tensor, b: Tensor, out: Tensor, p: BinaryParams): void => {
    if (out.size === 0) return;
    const merged = mergeDims(p.outShape, [p.stridesA, p.stridesB]);
    if (!merged) {
      binaryReference(a, b, out, p);
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
    ctx.run('unary', [UNARY_OPS.indexOf(p.op), x.ptr, out.ptr, x.size, p.alpha], ctx.threadsFor(x.size, unaryGrain(p.op)));
  };
}

export function unaryGradKernel(ctx: WasmContext) {
  return (x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, p: UnaryParams): void => {
    if (x.size === 0) return;
    ctx.run(
      'unaryGrad',
      [UNARY_OPS.indexOf(p.op), x.ptr, y.ptr, dy.ptr, dx.ptr, x.size, p.alpha],
      ctx.threadsFor(x.size, unaryGrain(p.op)),
    );
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
      ctx.threadsFor(x.size, kernelGrains.elementwise),
    );
  };
}
