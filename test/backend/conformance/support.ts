// What the conformance suite's tests share: the backend under test, running a
// kernel on it and on the js reference, inputs, and closeness checks.
//
// Closeness: float32 kernels against a reference that computes in float64,
// so |fast − js| ≤ 1e-5·|js| + atol, where atol is 1e-5 times the size of the
// terms that cancel in that output (a sum's Σ|x|, a derivative's terms at its
// zero) and 1e-30 elsewhere (denormals). Kernels that only move or combine
// float32 values exactly (binary, copy, embedding, dropout, neg/abs/square/
// relu/sqrt and the *Scalar ops) must match bit for bit.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getBackend, kernelFor, withBackend } from '../../../src/backend/backend.ts';
import type { BinaryOp, KernelName, KernelTable } from '../../../src/backend/kernels.ts';
import * as at from '../../../src/index.ts';
import type { Tensor } from '../../../src/tensor/tensor.ts';

/** The backend a conformance run checks, by its registered name. */
export interface Target {
  readonly name: string;
  /** Thread counts each test runs at. */
  readonly threads: readonly number[];
  /** fast-check runs of a property (scaled per test). */
  readonly runs: number;
  setThreads(n: number): void;
  /** on: even tiny inputs split over the threads (thresholds at their minimum); off: the built-in thresholds. */
  forceParallel(on: boolean): void;
}

export function makeTarget(name: string, forceParallel: (on: boolean) => void, threads: readonly number[] = [1, 2, 3]): Target {
  return {
    name,
    threads,
    runs: Number(process.env.CONFORMANCE_RUNS ?? process.env.WASM_KERNEL_RUNS ?? 25),
    setThreads: (n) => withBackend(name, () => getBackend().setThreads(n)),
    forceParallel,
  };
}

/** Runs `kernel` on the reference and the target with fresh outputs; returns [js, target] copies of the outputs. */
export function both<K extends KernelName>(
  t: Target,
  name: K,
  inputs: readonly Tensor[],
  outputs: () => Tensor[],
  call: (kernel: KernelTable[K], outs: Tensor[]) => void,
): [Float32Array[], Float32Array[]] {
  const run = (backend: string) =>
    withBackend(backend, () => {
      const outs = outputs();
      call(kernelFor(name, inputs), outs);
      const copies = outs.map((o) => Float32Array.from(o.view()));
      for (const o of outs) o.dispose();
      return copies;
    });
  return [run('js'), run(t.name)];
}

export function f32(data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return at.tensor(Float32Array.from(data), [...shape]);
}

export function i32(data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return at.tensor(Int32Array.from(data), [...shape]);
}

/** n values ~ N(0, scale²), some replaced by `specials`. */
export function values(rng: at.Rng, n: number, scale = 1, specials: readonly number[] = []): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    v[i] = specials.length > 0 && rng.uniform() < 0.1 ? specials[rng.nextU32() % specials.length] : scale * rng.normal();
  }
  return v;
}

export function uniform(rng: at.Rng, n: number, lo: number, hi: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.uniform();
  return v;
}

/** Bit-for-bit equality (any NaN equals any NaN). */
export function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    if (Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue;
    assert.fail(`${label}: element ${i}: backend ${got[i]}, js ${want[i]}`);
  }
}

/** |got − want| ≤ rtol·|want| + atol(i) + 1e-30, with NaN and ±∞ matching exactly. */
export function assertNear(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  label: string,
  atol: (i: number) => number = () => 0,
  rtol = 1e-5,
): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    if (Number.isFinite(g) && Number.isFinite(w) && Math.abs(g - w) <= rtol * Math.abs(w) + atol(i) + 1e-30) continue;
    assert.fail(`${label}: element ${i}: backend ${g}, js ${w} (difference ${Math.abs(g - w)})`);
  }
}

export const binaryOp: Record<BinaryOp, (a: Tensor, b: Tensor) => Tensor> = {
  add: at.add,
  sub: at.sub,
  mul: at.mul,
  div: at.div,
  maximum: at.maximum,
  minimum: at.minimum,
  equal: at.equal,
};

export const shapeDim = fc.integer({ min: 1, max: 9 });
export const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });
