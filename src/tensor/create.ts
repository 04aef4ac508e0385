// Creating tensors: from data, constants, seeded random values and the
// standard initialisers (Glorot/Xavier, He/Kaiming).

import type { AnyTypedArray, DType } from './dtype.js';
import { rngFor } from './random.js';
import { formatShape, type Shape, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

type NestedNumbers = number | boolean | readonly NestedNumbers[];

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedNumbers;
  }
  return shape;
}

/** A tensor from nested arrays or a flat typed array/array with a shape. */
export function tensor(data: NestedNumbers | AnyTypedArray | readonly number[], shape?: Shape, dtype?: DType): Tensor {
  const resolvedDtype: DType =
    dtype ??
    (data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : data instanceof Uint8Array ? 'bool' : 'float32');
  let flat: ArrayLike<number>;
  let resolvedShape: Shape;
  if (ArrayBuffer.isView(data)) {
    flat = data;
    resolvedShape = shape ?? [data.length];
  } else {
    resolvedShape = shape ?? inferShape(data as NestedNumbers);
    const values =
      typeof data === 'number' ? [data] : ((data as readonly NestedNumbers[]).flat(Number.POSITIVE_INFINITY as 1) as unknown[]);
    flat = values.map(Number);
  }
  if (flat.length !== sizeOf(resolvedShape)) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${formatShape(resolvedShape)} (${sizeOf(resolvedShape)} elements)`);
  }
  const t = Tensor.empty(resolvedShape, resolvedDtype);
  t.view().set(flat);
  return t;
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = Tensor.empty(shape, dtype);
  t.view().fill(value);
  return t;
}

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, t.dtype);
}

/** Integers 0..n-1 (int32), or start..end by step. */
export function arange(start: number, end?: number, step = 1, dtype: DType = 'int32'): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const t = Tensor.empty([n], dtype);
  const v = t.view();
  for (let i = 0; i < n; i++) v[i] = lo + i * step;
  return t;
}

export interface RandomOptions {
  seed?: number;
  dtype?: DType;
}

export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const rng = rngFor(options.seed);
  const { mean = 0, std = 1 } = options;
  const t = Tensor.empty(shape, options.dtype ?? 'float32');
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = mean + std * rng.normal();
  return t;
}

export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const rng = rngFor(options.seed);
  const { low = 0, high = 1 } = options;
  const t = Tensor.empty(shape, options.dtype ?? 'float32');
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = low + (high - low) * rng.uniform();
  return t;
}

/** Fan-in and fan-out of a weight, PyTorch's convention ([out, in, ...receptive field]). */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`init: fan in/out need a weight of rank >= 2, got ${formatShape(shape)}`);
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

export function xavierUniform(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return rand(shape, { ...options, low: -bound, high: bound });
}

export function xavierNormal(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return randn(shape, { ...options, std: (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)) });
}

/** He initialisation for ReLU layers (gain √2), fan-in mode. */
export function kaimingUniform(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  const { fanIn } = fans(shape);
  const bound = (options.gain ?? Math.SQRT2) * Math.sqrt(3 / fanIn);
  return rand(shape, { ...options, low: -bound, high: bound });
}

export function kaimingNormal(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  const { fanIn } = fans(shape);
  return randn(shape, { ...options, std: (options.gain ?? Math.SQRT2) / Math.sqrt(fanIn) });
}
