/**
 * Element types. float64 exists for the js reference only (finite-difference
 * checks); bool (one byte, 1 = true) is for masks.
 */
export type DType = 'float32' | 'int32' | 'float64' | 'bool';

export type FloatArray = Float32Array | Float64Array;
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ['float32', 'int32', 'float64', 'bool'];

/** Throws naming the supported dtypes when `dtype` is not one (e.g. 'float16'). */
export function assertDType(dtype: unknown, where: string): asserts dtype is DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new Error(`${where}: dtype ${JSON.stringify(dtype)} is not supported; supported dtypes: ${DTYPES.join(', ')}`);
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Throws when a value cannot be stored as int32: NaN, ±Infinity or outside
 * [−2³¹, 2³¹ − 1] (a typed array would silently store 0 or wrap around).
 * Fractions truncate toward zero, as in PyTorch.
 */
export function assertInt32Values(values: ArrayLike<number>, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= INT32_MIN && v < INT32_MAX + 1)) {
      throw new Error(
        `${where}: value ${v} at flat index ${i} cannot be stored as int32 (a finite number in [${INT32_MIN}, ${INT32_MAX}] is needed)`,
      );
    }
  }
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}
