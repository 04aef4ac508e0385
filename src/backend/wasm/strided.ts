// Index spaces for the strided wasm kernels (binary, copy): they take
// exactly six dimensions, so the wrappers first merge dimensions that are
// contiguous in every operand and drop size-1 ones (a same-shape add
// becomes one run, [N, C] + [C] becomes N runs of C), then pad with
// leading 1s.

export const KERNEL_RANK = 6;

export interface MergedDims {
  shape: number[];
  /** One stride list per operand, aligned with shape. */
  strides: number[][];
}

/**
 * Merges the dimensions of an index space walked by several operands;
 * null when more than KERNEL_RANK dimensions remain.
 */
export function mergeDims(shape: readonly number[], strides: readonly (readonly number[])[]): MergedDims | null {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * n)) {
      outShape[last] *= n;
      for (let k = 0; k < strides.length; k++) outStrides[k][last] = strides[k][d];
      continue;
    }
    outShape.push(n);
    for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][d]);
  }
  if (outShape.length > KERNEL_RANK) return null;
  while (outShape.length < KERNEL_RANK) {
    outShape.unshift(1);
    for (const s of outStrides) s.unshift(0);
  }
  return { shape: outShape, strides: outStrides };
}
