// Shape ops. reshape of contiguous data is a view; permute, slice, concat,
// pad and expand copy through the one strided-copy kernel, and each one's
// backward is another of them (permute ↔ inverse permute, slice ↔ pad,
// concat ↔ slices, expand ↔ sum).

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { contiguousStrides, formatShape, normalizeAxis, type Shape, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs } from './checks.js';
import { broadcastTo, sumToShape } from './reduce.js';

const ALL_DTYPES = ['float32', 'float64', 'int32', 'bool'] as const;

/** A view with a new shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkInputs('reshape', { x }, ALL_DTYPES);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < -1) || shape.filter((d) => d === -1).length > 1) {
    throw new Error(
      `reshape: the new shape ${JSON.stringify(shape)} must hold non-negative integers and at most one -1 (inferred), for ${formatShape(x.shape)}`,
    );
  }
  const unknown = shape.indexOf(-1);
  let resolved = [...shape];
  if (unknown >= 0) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot infer -1 in ${formatShape(shape)} for ${x.size} elements`);
    }
    resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sizeOf(resolved) !== x.size) {
    throw new Error(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
  }
  return record('reshape', [x], x.reshapeView(resolved), (g) => [g.reshapeView(x.shape)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkInputs('permute', { x }, ALL_DTYPES);
  const axes = perm.map((a) => normalizeAxis(a, x.rank, 'permute'));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new Error(`permute: [${perm.join(', ')}] is not a permutation of ${x.rank} axes for ${formatShape(x.shape)}`);
  }
  const outShape = axes.map((a) => x.shape[a]);
  const inStrides = contiguousStrides(x.shape);
  const out = Tensor.empty(outShape, x.dtype);
  kernelFor('copy', [x])(x, out, {
    shape: outShape,
    srcStrides: axes.map((a) => inStrides[a]),
    srcOffset: 0,
    dstStrides: contiguousStrides(outShape),
    dstOffset: 0,
  });
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => {
    inverse[a] = i;
  });
  return record('permute', [x], out, (g) => [permute(g, inverse)]);
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normalizeAxis(axis0, x.rank, 'transpose');
  const b = normalizeAxis(axis1, x.rank, 'transpose');
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

/** x[begin : begin + size] per axis; size -1 means to the end. */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  checkInputs('slice', { x }, ALL_DTYPES);
  for (const [name, list] of [
    ['begin', begin],
    ['size', size ?? []],
  ] as const) {
    if (!Array.isArray(list) || list.length > x.rank || list.some((v) => !Number.isInteger(v))) {
      throw new Error(`slice: ${name} must be at most ${x.rank} integers for ${formatShape(x.shape)}, got ${JSON.stringify(list)}`);
    }
  }
  const start = x.shape.map((_, i) => begin[i] ?? 0);
  const outShape = x.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    return s === -1 ? d - start[i] : s;
  });
  x.shape.forEach((d, i) => {
    if (start[i] < 0 || outShape[i] < 0 || start[i] + outShape[i] > d) {
      throw new Error(`slice: begin ${formatShape(start)} size ${formatShape(outShape)} exceeds ${formatShape(x.shape)} on axis ${i}`);
    }
  });
  const strides = contiguousStrides(x.shape);
  const out = Tensor.empty(outShape, x.dtype);
  kernelFor('copy', [x])(x, out, {
    shape: outShape,
    srcStrides: strides,
    srcOffset: start.reduce((acc, s, i) => acc + s * strides[i], 0),
    dstStrides: contiguousStrides(outShape),
    dstOffset: 0,
  });
  return record('slice', [x], out, (g) => [
    pad(
      g,
      start.map((s, i) => [s, x.shape[i] - s - outShape[i]] as [number, number]),
    ),
  ]);
}

/** Zero (or constant) padding: paddings[i] = [before, after] for axis i. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  checkInputs('pad', { x }, ALL_DTYPES);
  if (
    paddings.length !== x.rank ||
    paddings.some((pair) => !Array.isArray(pair) || pair.length !== 2 || pair.some((n) => !Number.isInteger(n) || n < 0))
  ) {
    throw new Error(`pad: need ${x.rank} non-negative [before, after] pairs for ${formatShape(x.shape)}, got ${JSON.stringify(paddings)}`);
  }
  const outShape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const out = Tensor.empty(outShape, x.dtype);
  out.view().fill(value);
  const outStrides = contiguousStrides(outShape);
  kernelFor('copy', [x])(x, out, {
    shape: x.shape,
    srcStrides: contiguousStrides(x.shape),
    srcOffset: 0,
    dstStrides: outStrides,
    dstOffset: paddings.reduce((acc, [b], i) => acc + b * outStrides[i], 0),
  });
  return record('pad', [x], out, (g) => [
    slice(
      g,
      paddings.map(([b]) => b),
      x.shape,
    ),
  ]);
}

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: needs at least one tensor');
  const first = tensors[0];
  const ax = normalizeAxis(axis, first.rank, 'concat');
  tensors.forEach((t, i) => {
    checkInputs('concat', { [`tensors[${i}]`]: t }, ALL_DTYPES);
    if (t.rank !== first.rank || t.dtype !== first.dtype || t.shape.some((d, j) => j !== ax && d !== first.shape[j])) {
      throw new Error(
        `concat: tensors[${i}] ${formatShape(t.shape)} ${t.dtype} does not match ${formatShape(first.shape)} ${first.dtype} outside axis ${ax}`,
      );
    }
  });
  const outShape = [...first.shape];
  outShape[ax] = tensors.reduce((n, t) => n + t.shape[ax], 0);
  const out = Tensor.empty(outShape, first.dtype);
  const outStrides = contiguousStrides(outShape);
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    offsets.push(offset);
    kernelFor('copy', [t])(t, out, {
      shape: t.shape,
      srcStrides: contiguousStrides(t.shape),
      srcOffset: 0,
      dstStrides: outStrides,
      dstOffset: offset * outStrides[ax],
    });
    offset += t.shape[ax];
  }
  return record('concat', tensors, out, (g) =>
    tensors.map((t, i) =>
      slice(
        g,
        outShape.map((_, j) => (j === ax ? offsets[i] : 0)),
        t.shape,
      ),
    ),
  );
}

/** Broadcasts x to a larger shape (a copy); the backward sums back. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkInputs('expand', { x }, ALL_DTYPES);
  const padded = [...new Array(Math.max(0, shape.length - x.rank)).fill(1), ...x.shape];
  if (padded.length !== shape.length || padded.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new Error(`expand: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  return record('expand', [x], broadcastTo(x, shape), (g) => [sumToShape(g, x.shape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.rank + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis(axis, x.rank, 'squeeze');
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${formatShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}
