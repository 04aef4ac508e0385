// Reductions over axes: sum, mean, max. Several axes reduce one at a time,
// each viewing the tensor as [outer, axis, inner].

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { broadcastStrides, normalizeAxes, type Shape, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions, optionKeys } from './checks.js';

export interface ReduceOptions {
  keepDims?: boolean;
}

const KEYS = optionKeys<ReduceOptions>({ keepDims: true });

function reduceAxis(x: Tensor, axis: number, op: 'sum' | 'max'): Tensor {
  const outShape = x.shape.map((d, i) => (i === axis ? 1 : d));
  const out = Tensor.empty(outShape, x.dtype);
  const p = { op, outer: sizeOf(x.shape.slice(0, axis)), axisSize: x.shape[axis], inner: sizeOf(x.shape.slice(axis + 1)) };
  kernelFor('reduce', [x])(x, out, p);
  return out;
}

/** Reduces the given axes, keeping them as size-1 dims (no autograd). */
function reduceKeep(x: Tensor, axes: number[], op: 'sum' | 'max'): Tensor {
  let cur = x;
  for (const axis of [...axes].reverse()) {
    const next = reduceAxis(cur, axis, op);
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur === x ? copyTensor(x) : cur;
}

function copyTensor(x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, x.dtype);
  out.view().set(x.view());
  return out;
}

function dropAxes(shape: Shape, axes: number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** Repeats g (shaped like x with reduced axes of size 1) to x's shape. */
export function broadcastTo(g: Tensor, shape: Shape): Tensor {
  const out = Tensor.empty(shape, g.dtype);
  const gShape = g.shape.length === shape.length ? g.shape : [...new Array(shape.length - g.shape.length).fill(1), ...g.shape];
  kernelFor('copy', [g])(g, out, {
    shape,
    srcStrides: broadcastStrides(gShape, shape),
    srcOffset: 0,
    dstStrides: contiguous(shape),
    dstOffset: 0,
  });
  return out;
}

function contiguous(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sum(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  checkOptions('sum', options, KEYS);
  checkInputs('sum', { x });
  const ax = normalizeAxes(axes, x.rank, 'sum');
  const kept = reduceKeep(x, ax, 'sum');
  const out = options.keepDims ? kept : kept.reshapeView(dropAxes(x.shape, ax));
  if (out !== kept) kept.dispose();
  return record('sum', [x], out, (g) => [broadcastTo(g.reshapeView(x.shape.map((d, i) => (ax.includes(i) ? 1 : d))), x.shape)]);
}

export function mean(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  checkOptions('mean', options, KEYS);
  checkInputs('mean', { x });
  const ax = normalizeAxes(axes, x.rank, 'mean');
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  const kept = reduceKeep(x, ax, 'sum');
  scaleInPlace(kept, 1 / count);
  const out = options.keepDims ? kept : kept.reshapeView(dropAxes(x.shape, ax));
  if (out !== kept) kept.dispose();
  return record('mean', [x], out, (g) => {
    const dx = broadcastTo(g.reshapeView(x.shape.map((d, i) => (ax.includes(i) ? 1 : d))), x.shape);
    scaleInPlace(dx, 1 / count);
    return [dx];
  });
}

/** Max over axes; the gradient is shared equally among tied maxima (like PyTorch's amax). */
export function max(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  checkOptions('max', options, KEYS);
  checkInputs('max', { x });
  const ax = normalizeAxes(axes, x.rank, 'max');
  const kept = reduceKeep(x, ax, 'max');
  const out = options.keepDims ? kept : kept.reshapeView(dropAxes(x.shape, ax));
  return record(
    'max',
    [x],
    out,
    (g) => {
      const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
      const maxFull = broadcastTo(kept, x.shape);
      const gFull = broadcastTo(g.reshapeView(keptShape), x.shape);
      const mask = Tensor.empty(x.shape, x.dtype);
      const X = x.view();
      const MX = maxFull.view();
      const MK = mask.view();
      for (let i = 0; i < X.length; i++) MK[i] = X[i] === MX[i] ? 1 : 0;
      const counts = broadcastTo(reduceKeep(mask, ax, 'sum'), x.shape);
      const dx = Tensor.empty(x.shape, x.dtype);
      const DX = dx.view();
      const G = gFull.view();
      const C = counts.view();
      for (let i = 0; i < DX.length; i++) DX[i] = (MK[i] * G[i]) / C[i];
      return [dx];
    },
    [kept],
  );
}

/** Sums a broadcast gradient back to the shape of the input it was broadcast from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const kept = reduceKeep(g, axes, 'sum');
  const out = kept.reshapeView(shape);
  kept.dispose();
  return out;
}

function scaleInPlace(t: Tensor, factor: number): void {
  kernelFor('unary', [t])(t, t, { op: 'mulScalar', alpha: factor });
}
