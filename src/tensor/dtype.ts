/**
 * Element types. float64 exists for the js reference only (finite-difference
 * checks); bool (one byte, 1 = true) is for masks.
 */
export type DType = 'float32' | 'int32' | 'float64' | 'bool';

export type FloatArray = Float32Array | Float64Array;
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}
