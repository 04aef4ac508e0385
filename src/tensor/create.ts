// Creating tensors: from data, constants, seeded random values and the
// standard initialisers (Glorot/Xavier, He/Kaiming).

import { type AnyTypedArray, assertDType, assertInt32Values, type DType } from './dtype.js';
import { checkOptions, optionKeys } from './options.js';
import { rngFor } from './random.js';
import { formatShape, type Shape, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

type NestedNumbers = number | boolean | readonly NestedNumbers[];

/**
 * Flattens nested arrays, checking that they are rectangular (every list at
 * one depth has the same length) and hold only numbers or only booleans.
 */
function flattenNested(data: NestedNumbers): { shape: number[]; values: (number | boolean)[]; booleans: boolean } {
  const shape: number[] = [];
  for (let cur: NestedNumbers = data; Array.isArray(cur); cur = cur[0] as NestedNumbers) shape.push(cur.length);
  const values: (number | boolean)[] = [];
  let kinds = 0; // bit 1: numbers, bit 2: booleans
  const path: number[] = []; // indices of the node being checked, for the error
  const where = () => `data${path.map((i) => `[${i}]`).join('')}`;
  const walk = (node: NestedNumbers, depth: number): void => {
    if (depth < shape.length) {
      if (!Array.isArray(node) || node.length !== shape[depth]) {
        const got = Array.isArray(node) ? `${node.length} entries` : JSON.stringify(node);
        throw new Error(
          `tensor: ragged nested arrays: ${where()} has ${got}, expected ${shape[depth]} (shape ${formatShape(shape)} from the first entries)`,
        );
      }
      for (let i = 0; i < node.length; i++) {
        path.push(i);
        walk(node[i] as NestedNumbers, depth + 1);
        path.pop();
      }
      return;
    }
    if (typeof node === 'number') kinds |= 1;
    else if (typeof node === 'boolean') kinds |= 2;
    else if (Array.isArray(node))
      throw new Error(`tensor: ragged nested arrays: ${where()} is a list where a value was expected (shape ${formatShape(shape)})`);
    else throw new Error(`tensor: ${where()} is ${JSON.stringify(node)}; expected a number or a boolean`);
    values.push(node);
  };
  walk(data, 0);
  if (kinds === 3) throw new Error('tensor: nested arrays mix numbers and booleans; use one kind (booleans make a bool mask)');
  return { shape, values, booleans: kinds === 2 };
}

/**
 * A tensor from nested arrays (rectangular; booleans give a bool tensor) or
 * a flat typed array/array with a shape. int32 values must be finite and in range.
 */
export function tensor(data: NestedNumbers | AnyTypedArray | readonly number[], shape?: Shape, dtype?: DType): Tensor {
  if (dtype !== undefined) assertDType(dtype, 'tensor');
  let flat: ArrayLike<number>;
  let resolvedShape: Shape;
  let inferred: DType;
  if (ArrayBuffer.isView(data)) {
    flat = data;
    resolvedShape = shape ?? [data.length];
    inferred =
      data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : data instanceof Uint8Array ? 'bool' : 'float32';
  } else {
    const nested = flattenNested(data as NestedNumbers);
    resolvedShape = shape ?? nested.shape;
    flat = nested.values.map(Number);
    inferred = nested.booleans ? 'bool' : 'float32';
  }
  const resolvedDtype = dtype ?? inferred;
  if (flat.length !== sizeOf(resolvedShape)) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${formatShape(resolvedShape)} (${sizeOf(resolvedShape)} elements)`);
  }
  if (resolvedDtype === 'int32' && !(flat instanceof Int32Array)) assertInt32Values(flat, 'tensor');
  const t = Tensor.empty(resolvedShape, resolvedDtype);
  t.view().set(flat);
  return t;
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  if (dtype === 'int32') assertInt32Values([value], 'full');
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
  if (![lo, hi, step].every(Number.isFinite) || step === 0) {
    throw new Error(`arange: start, end and step must be finite (step ≠ 0), got ${lo}, ${hi}, ${step}`);
  }
  if (dtype === 'int32') assertInt32Values([lo, hi], 'arange');
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

const NORMAL_KEYS = optionKeys<RandomOptions & { mean?: number; std?: number }>({ seed: true, dtype: true, mean: true, std: true });
const UNIFORM_KEYS = optionKeys<RandomOptions & { low?: number; high?: number }>({ seed: true, dtype: true, low: true, high: true });
const INIT_KEYS = optionKeys<RandomOptions & { gain?: number }>({ seed: true, dtype: true, gain: true });

export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkOptions('randn', options, NORMAL_KEYS);
  const rng = rngFor(options.seed);
  const { mean = 0, std = 1 } = options;
  const t = Tensor.empty(shape, options.dtype ?? 'float32');
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = mean + std * rng.normal();
  return t;
}

export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkOptions('rand', options, UNIFORM_KEYS);
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
  checkOptions('xavierUniform', options, INIT_KEYS);
  const { fanIn, fanOut } = fans(shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return rand(shape, { ...options, low: -bound, high: bound });
}

export function xavierNormal(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  checkOptions('xavierNormal', options, INIT_KEYS);
  const { fanIn, fanOut } = fans(shape);
  return randn(shape, { ...options, std: (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)) });
}

/** He initialisation for ReLU layers (gain √2), fan-in mode. */
export function kaimingUniform(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  checkOptions('kaimingUniform', options, INIT_KEYS);
  const { fanIn } = fans(shape);
  const bound = (options.gain ?? Math.SQRT2) * Math.sqrt(3 / fanIn);
  return rand(shape, { ...options, low: -bound, high: bound });
}

export function kaimingNormal(shape: Shape, options: RandomOptions & { gain?: number } = {}): Tensor {
  checkOptions('kaimingNormal', options, INIT_KEYS);
  const { fanIn } = fans(shape);
  return randn(shape, { ...options, std: (options.gain ?? Math.SQRT2) / Math.sqrt(fanIn) });
}
