/** Element types. float64 exists for the js reference only (finite-difference checks). */
export type DType = 'float32' | 'int32' | 'float64';

export type TypedArrayFor<D extends DType> = D extends 'float64' ? Float64Array : D extends 'int32' ? Int32Array : Float32Array;

export type FloatArray = Float32Array | Float64Array;
export type AnyTypedArray = Float32Array | Float64Array | Int32Array;

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}
