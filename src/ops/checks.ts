// Input checks every op shares: live tensors, dtypes, and (when switched on)
// NaN in inputs. Messages name the op, the argument and the shape given.

import type { DType } from '../tensor/dtype.js';

export { checkOptions, type OptionKeys, optionKeys } from '../tensor/options.js';

import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

let checkNumerics = false;

/** When on, every op rejects inputs holding NaN, and attention also infinite q, k, v or scale (slower; for debugging). */
export function setCheckNumerics(on: boolean): void {
  checkNumerics = on;
}

export function isCheckingNumerics(): boolean {
  return checkNumerics;
}

/** With numerics checking on: throws at the first NaN or ±Infinity in the named inputs. */
export function checkFinite(op: string, inputs: Record<string, Tensor>): void {
  if (!checkNumerics) return;
  for (const [name, t] of Object.entries(inputs)) {
    const v = t.view();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new Error(`${op}: ${name} ${formatShape(t.shape)} contains ${v[i]} at flat index ${i}`);
    }
  }
}

export function describe(t: Tensor): string {
  return `${formatShape(t.shape)} ${t.dtype}`;
}

/** Checks named inputs: alive, of an allowed dtype, and NaN-free when numerics checking is on. */
export function checkInputs(op: string, inputs: Record<string, Tensor>, dtypes: readonly DType[] = ['float32', 'float64']): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.isDisposed) throw new Error(`${op}: ${name} ${formatShape(t.shape)} ${t.dtype} was used after dispose()`);
    if (!dtypes.includes(t.dtype)) throw new Error(`${op}: ${name} must be ${dtypes.join(' or ')}, got ${describe(t)}`);
    if (checkNumerics && t.dtype !== 'int32') {
      const v = t.view();
      for (let i = 0; i < v.length; i++) {
        if (Number.isNaN(v[i])) throw new Error(`${op}: ${name} ${formatShape(t.shape)} contains NaN at flat index ${i}`);
      }
    }
  }
}

export function checkSameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes differ, ${describe(a)} and ${describe(b)}`);
}
