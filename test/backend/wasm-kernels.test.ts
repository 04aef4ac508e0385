// The wasm kernels against the js reference, on random shapes (size 1, odd
// sizes that leave a partial SIMD vector, every broadcast pattern), extreme
// values, and 1, 2 and 3 threads. Thread grains are forced to 1 so that even
// tiny tensors are split (empty shares included); one test keeps the real
// grains on large inputs. Both builds run: the one the loader picks (relaxed
// SIMD where available) and the plain SIMD128 one. Build the kernels first:
// node scripts/build-wasm.mjs; WASM_KERNEL_RUNS=200 for a longer property run.
//
// Closeness: float32 kernels against a reference that computes in float64,
// so |wasm − js| ≤ 1e-5·|js| + atol, where atol is 1e-5 times the size of the
// terms that cancel in that output (a sum's Σ|x|, a derivative's terms at its
// zero) and 1e-30 elsewhere (denormals). Kernels that only move or combine
// float32 values exactly (binary, copy, embedding, dropout, neg/abs/square/
// relu/sqrt and the *Scalar ops) must match bit for bit.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type Backend, getBackend, kernelFor, registerBackend, withBackend } from '../../src/backend/backend.ts';
import { unaryValue } from '../../src/backend/js/elementwise.ts';
import { type BinaryOp, dropoutKeep, type KernelName, type KernelTable, UNARY_OPS, type UnaryOp } from '../../src/backend/kernels.ts';
import { kernelGrains } from '../../src/backend/wasm/grains.ts';
import { WasmBackend } from '../../src/backend/wasm/index.ts';
import type { WasmModule } from '../../src/backend/wasm/module.ts';
import * as at from '../../src/index.ts';
import { getHeap, Tensor } from '../../src/tensor/tensor.ts';

getBackend();
const wasmLoaded = at.listBackends().includes('wasm');

/** The plain SIMD128 build (mul + add instead of relaxed FMA), on the same heap. */
function plainSimdBackend(): WasmBackend {
  const variant = getHeap().shared ? 'attune-simd-mt' : 'attune-simd';
  const module = new WebAssembly.Module(readFileSync(new URL(`../../wasm/${variant}.wasm`, import.meta.url)));
  const abort = () => {
    throw new Error('attune wasm: abort');
  };
  const instance = new WebAssembly.Instance(module, { env: { memory: getHeap().memory, abort } });
  const wasm: WasmModule = { module, exports: instance.exports as WasmModule['exports'], variant, relaxed: false };
  return new WasmBackend(wasm, 3);
}

const builds: [string, () => Backend][] = wasmLoaded
  ? [
      [`the loaded build (${withBackend('wasm', () => (getBackend() as WasmBackend).variant)})`, () => withBackend('wasm', getBackend)],
      ['the plain SIMD128 build', plainSimdBackend],
    ]
  : [['no build', () => getBackend()]];

const grainsAsBuilt = { ...kernelGrains };
function forceThreads(on: boolean): void {
  for (const key of Object.keys(kernelGrains) as (keyof typeof kernelGrains)[]) kernelGrains[key] = on ? 1 : grainsAsBuilt[key];
}
forceThreads(true);

const THREADS = [1, 2, 3];
const RUNS = Number(process.env.WASM_KERNEL_RUNS ?? 25);

function setWasmThreads(n: number): void {
  withBackend('wasm', () => getBackend().setThreads(n));
}

/** Runs `kernel` on both backends with fresh outputs; returns [js, wasm] copies of the outputs. */
function both<K extends KernelName>(
  name: K,
  inputs: readonly Tensor[],
  outputs: () => Tensor[],
  call: (kernel: KernelTable[K], outs: Tensor[]) => void,
): [Float32Array[], Float32Array[]] {
  const run = (backend: string) =>
    withBackend(backend, () => {
      const outs = outputs();
      call(kernelFor(name, inputs), outs);
      const copies = outs.map((t) => Float32Array.from(t.view()));
      for (const t of outs) t.dispose();
      return copies;
    });
  return [run('js'), run('wasm')];
}

function f32(data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return at.tensor(Float32Array.from(data), [...shape]);
}

function i32(data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return at.tensor(Int32Array.from(data), [...shape]);
}

/** n values ~ N(0, scale²), some replaced by `specials`. */
function values(rng: at.Rng, n: number, scale = 1, specials: readonly number[] = []): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    v[i] = specials.length > 0 && rng.uniform() < 0.1 ? specials[rng.nextU32() % specials.length] : scale * rng.normal();
  }
  return v;
}

function uniform(rng: at.Rng, n: number, lo: number, hi: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.uniform();
  return v;
}

/** Bit-for-bit equality (any NaN equals any NaN). */
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    if (Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue;
    assert.fail(`${label}: element ${i}: wasm ${got[i]}, js ${want[i]}`);
  }
}

/** |got − want| ≤ rtol·|want| + atol(i) + 1e-30, with NaN and ±∞ matching exactly. */
function assertNear(
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
    assert.fail(`${label}: element ${i}: wasm ${g}, js ${w} (difference ${Math.abs(g - w)})`);
  }
}

const binaryOp: Record<BinaryOp, (a: Tensor, b: Tensor) => Tensor> = {
  add: at.add,
  sub: at.sub,
  mul: at.mul,
  div: at.div,
  maximum: at.maximum,
  minimum: at.minimum,
  equal: at.equal,
};

const shapeDim = fc.integer({ min: 1, max: 9 });
const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });

for (const [build, backendOf] of builds)
  describe(`wasm kernels of ${build} match the js reference`, { skip: !wasmLoaded && 'the wasm backend did not load' }, () => {
    before(() => registerBackend(backendOf()));

    it('binary: every broadcast pattern, rank 0–5, exact', () => {
      const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'equal'];
      const specials = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1];
      const shapes = fc
        .array(fc.tuple(shapeDim, fc.integer({ min: 0, max: 3 })), { minLength: 0, maxLength: 5 })
        .chain((dims) => fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: dims.length }), fc.integer({ min: 0, max: dims.length })));
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(shapes, seed, fc.constantFrom(...ops), ([dims, dropA, dropB], s, op) => {
            // per dimension, flag 1 broadcasts a, 2 broadcasts b, 3 both; leading dimensions may be absent
            const out = dims.map(([n]) => n);
            const aShape = dims.map(([n, f]) => (f & 1 ? 1 : n)).slice(dropA);
            const bShape = dims.map(([n, f]) => (f & 2 ? 1 : n)).slice(dropB);
            const rng = new at.Rng(s);
            const a = f32(
              values(
                rng,
                aShape.reduce((x, y) => x * y, 1),
                3,
                specials,
              ),
              aShape,
            );
            const bData = values(
              rng,
              bShape.reduce((x, y) => x * y, 1),
              3,
              specials,
            );
            for (let i = 0; i < bData.length; i += 3) bData[i] = a.view()[i % a.size] as number; // ties for equal/maximum
            const b = f32(bData, bShape);
            const run = (backend: string) => withBackend(backend, () => binaryOp[op](a, b).toArray());
            assertSame(run('wasm'), run('js'), `${op} [${aShape}] [${bShape}] -> [${out}], ${threads} threads`);
            a.dispose();
            b.dispose();
          }),
          { numRuns: RUNS * 4, includeErrorInReport: true },
        );
      }
    });

    it('binary: long runs, bias rows, scalars and a rank-7 space (js fallback)', () => {
      const cases: [number[], number[]][] = [
        [[1003], [1003]],
        [[37, 129], [129]],
        [[129], [37, 129]],
        [
          [37, 129],
          [37, 1],
        ],
        [
          [37, 1],
          [1, 129],
        ],
        [[2000], []],
        [[], [2000]],
        [
          [2, 1, 2, 1, 2, 1, 2],
          [1, 3, 1, 3, 1, 3, 1],
        ],
      ];
      const rng = new at.Rng(7);
      for (const threads of THREADS) {
        setWasmThreads(threads);
        for (const [aShape, bShape] of cases) {
          const a = f32(
            values(
              rng,
              aShape.reduce((x, y) => x * y, 1),
            ),
            aShape,
          );
          const b = f32(
            values(
              rng,
              bShape.reduce((x, y) => x * y, 1),
            ),
            bShape,
          );
          for (const op of ['add', 'sub', 'mul', 'div', 'maximum'] as const) {
            const run = (backend: string) => withBackend(backend, () => binaryOp[op](a, b).toArray());
            assertSame(run('wasm'), run('js'), `${op} [${aShape}] [${bShape}], ${threads} threads`);
          }
        }
      }
    });

    /** Inputs per unary op: [values, atol as a function of the value]. */
    const unaryInputs = (op: UnaryOp, rng: at.Rng, n: number): Float32Array => {
      const special = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
      const mix = (v: Float32Array, extra: number[]) => {
        for (let i = 0; i < v.length; i++) if (rng.uniform() < 0.08) v[i] = extra[rng.nextU32() % extra.length];
        return v;
      };
      switch (op) {
        case 'exp':
          return mix(uniform(rng, n, -104, 89), [...special, 80, -80, 88.7, -87.5, -103, 89.5, -200]);
        case 'log':
          return mix(
            uniform(rng, n, -90, 90).map((u) => Math.exp(u)),
            [...special, -1, 1, 1e-40, 1.5e-45, 3.4e38],
          );
        case 'sqrt':
        case 'rsqrt':
          return mix(uniform(rng, n, 0, 100), [...special, -1, 1e-40, 3e38]);
        case 'tanh':
          return mix(uniform(rng, n, -12, 12), [...special, 0.6249, 0.6251, -0.625, 9.5, 50]);
        case 'sigmoid':
        case 'silu':
          return mix(uniform(rng, n, -110, 110), [...special, -87.5, -103, 16]);
        case 'gelu':
          return mix(uniform(rng, n, -5.5, 10), [...special, -Math.SQRT2, Math.SQRT2, -5.4, 6]);
        case 'geluTanh':
          return mix(uniform(rng, n, -6, 10), [...special, -5.9, 5.9]);
        case 'powScalar':
          return mix(uniform(rng, n, -3, 3), [...special, 1, -1, 1e-20, 1e20]);
        default:
          return values(rng, n, 10, [...special, 1e-40, 3e38]);
      }
    };
    const unaryOps: readonly UnaryOp[] = UNARY_OPS;
    const exactUnary = new Set<UnaryOp>(['neg', 'abs', 'square', 'relu', 'sqrt', 'addScalar', 'mulScalar', 'rsubScalar', 'rdivScalar']);
    const alphas = [2, 3, -1, 0.5, -0.5, 1.7, -2.3, 0, 1e-3, 0.1, -3.7, 1e10];

    it('unary: every op, extreme values, within 1e-5 relative', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        for (const op of unaryOps) {
          fc.assert(
            fc.property(fc.integer({ min: 1, max: 70 }), seed, fc.constantFrom(...alphas), (n, s, alpha) => {
              const x = f32(unaryInputs(op, new at.Rng(s), n), [n]);
              const [[want], [got]] = both(
                'unary',
                [x],
                () => [Tensor.empty([n])],
                (k, [y]) => k(x, y, { op, alpha }),
              );
              const label = `${op}(alpha ${alpha}) n=${n}, ${threads} threads`;
              if (exactUnary.has(op)) assertSame(got, want, label);
              else assertNear(got, want, label);
              x.dispose();
            }),
            { numRuns: RUNS, includeErrorInReport: true },
          );
        }
      }
    });

    it('unary: the far negative tails of gelu and geluTanh agree relatively', () => {
      // both sides avoid the cancellation of 1 + erf(x/√2) and 1 + tanh(u); below
      // float32's normal range (1.2e-38) only an absolute match is meaningful
      const n = 4001;
      const x = f32(
        Float32Array.from({ length: n }, (_, i) => -14 + (8.5 * i) / (n - 1)),
        [n],
      );
      for (const op of ['gelu', 'geluTanh'] as const) {
        const [[want], [got]] = both(
          'unary',
          [x],
          () => [Tensor.empty([n])],
          (k, [y]) => k(x, y, { op, alpha: 0 }),
        );
        assertNear(got, want, op, () => 1e-37);
      }
    });

    it('unaryGrad: every op, from the reference forward output', () => {
      const crossesZero = new Set<UnaryOp>(['gelu', 'geluTanh', 'silu']);
      for (const threads of THREADS) {
        setWasmThreads(threads);
        for (const op of unaryOps) {
          fc.assert(
            fc.property(fc.integer({ min: 1, max: 70 }), seed, fc.constantFrom(...alphas), (n, s, alpha) => {
              const rng = new at.Rng(s);
              const xs = unaryInputs(op, rng, n).map((v) => (Number.isFinite(v) ? v : 0.5));
              const x = f32(xs, [n]);
              const y = f32(
                xs.map((v) => unaryValue(op, v, alpha)),
                [n],
              );
              const dy = f32(values(rng, n), [n]);
              const [[want], [got]] = both(
                'unaryGrad',
                [x, dy],
                () => [Tensor.empty([n])],
                (k, [dx]) => k(x, y, dy, dx, { op, alpha }),
              );
              const D = dy.view();
              // gelu, geluTanh and silu have a zero of f′ where two terms cancel
              const atol = crossesZero.has(op) ? (i: number) => 1e-6 * Math.abs(D[i] as number) : undefined;
              assertNear(got, want, `${op}′(alpha ${alpha}) n=${n}, ${threads} threads`, atol);
              for (const t of [x, y, dy]) t.dispose();
            }),
            { numRuns: RUNS, includeErrorInReport: true },
          );
        }
      }
    });

    it('reduce: sum and max over [outer, axis, inner], NaN and −∞ included', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            fc.integer({ min: 0, max: 9 }),
            fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 30, max: 300 })),
            fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 40 })),
            seed,
            fc.constantFrom('sum' as const, 'max' as const),
            fc.boolean(),
            (outer, axisSize, inner, s, op, special) => {
              const size = outer * axisSize * inner;
              const rng = new at.Rng(s);
              const X = values(rng, size, 100, special ? [Number.NaN, Number.NEGATIVE_INFINITY, 0, -0] : []);
              const x = f32(X, [size]);
              const p = { op, outer, axisSize, inner };
              const [[want], [got]] = both(
                'reduce',
                [x],
                () => [Tensor.empty([outer * inner])],
                (k, [y]) => k(x, y, p),
              );
              const scale = (i: number) => {
                const o = Math.floor(i / inner);
                let sum = 0;
                for (let k = 0; k < axisSize; k++) sum += Math.abs(X[(o * axisSize + k) * inner + (i % inner)]);
                return 1e-6 * sum;
              };
              const label = `${op} [${outer}, ${axisSize}, ${inner}], ${threads} threads`;
              if (op === 'max') assertNear(got, want, label, () => 0, 0);
              else assertNear(got, want, label, scale, 0);
              x.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('copy: permute, transpose, slice, pad, concat and expand, float32 and int32, exact', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), seed, fc.boolean(), (shape, s, asInt) => {
            const rng = new at.Rng(s);
            const size = shape.reduce((a, b) => a * b, 1);
            const x = asInt
              ? i32(
                  Array.from({ length: size }, () => rng.nextU32() | 0),
                  shape,
                )
              : f32(values(rng, size), shape);
            const rank = shape.length;
            const perm = Array.from({ length: rank }, (_, i) => i).sort(() => rng.uniform() - 0.5);
            const begin = shape.map((d) => rng.nextU32() % d);
            const sizes = shape.map((d, i) => 1 + (rng.nextU32() % (d - begin[i])));
            const pads = shape.map(() => [rng.nextU32() % 3, rng.nextU32() % 3] as [number, number]);
            const axis = rng.nextU32() % rank;
            const expandTo = [2, ...shape.map((d) => (d === 1 ? 3 : d))];
            const ops: [string, (t: Tensor) => Tensor][] = [
              ['permute', (t) => at.permute(t, perm)],
              ['transpose', (t) => at.transpose(t, 0, -1)],
              ['slice', (t) => at.slice(t, begin, sizes)],
              ['pad', (t) => at.pad(t, pads, 7)],
              [
                'concat',
                (t) =>
                  at.concat(
                    [
                      t,
                      at.slice(
                        t,
                        begin.map((b, i) => (i === axis ? b : 0)),
                        sizes.map((d, i) => (i === axis ? d : shape[i])),
                      ),
                    ],
                    axis,
                  ),
              ],
              ['expand', (t) => at.expand(t, expandTo)],
            ];
            for (const [name, f] of ops) {
              const run = (backend: string) => withBackend(backend, () => at.tidy(() => f(x).toArray()));
              assertSame(run('wasm'), run('js'), `${name} of [${shape}] (perm ${perm}), ${threads} threads`);
            }
            x.dispose();
          }),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
        // the 4×4-tile transpose path, with partial tiles on both edges, and a rank-7 copy (js fallback)
        const rng = new at.Rng(11);
        for (const shape of [
          [3, 37, 41],
          [64, 64],
          [5, 4],
          [2, 3, 2, 3, 2, 3, 2],
        ]) {
          const x = f32(
            values(
              rng,
              shape.reduce((a, b) => a * b, 1),
            ),
            shape,
          );
          const perm = shape.map((_, i) => (i === shape.length - 2 ? shape.length - 1 : i === shape.length - 1 ? shape.length - 2 : i));
          const alt = shape.length === 7 ? [1, 0, 3, 2, 5, 4, 6] : perm;
          for (const p of [perm, alt]) {
            const run = (backend: string) => withBackend(backend, () => at.permute(x, p).toArray());
            assertSame(run('wasm'), run('js'), `permute [${shape}] by ${p}, ${threads} threads`);
          }
        }
      }
    });

    it('softmax and logSoftmax: any axis, large logits, −∞ entries and rows', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            fc.array(shapeDim, { minLength: 1, maxLength: 3 }),
            fc.nat(),
            seed,
            fc.constantFrom(1, 30, 1000),
            fc.boolean(),
            (shape, axisSeed, s, scale, masked) => {
              const rng = new at.Rng(s);
              const size = shape.reduce((a, b) => a * b, 1);
              const X = values(rng, size, scale, masked ? [Number.NEGATIVE_INFINITY] : []);
              if (masked && size > 3) X.fill(Number.NEGATIVE_INFINITY, 0, 3); // a whole row when the axis is ≤ 3 long
              const x = f32(X, shape);
              const axis = axisSeed % shape.length;
              for (const log of [false, true]) {
                const run = (backend: string) => withBackend(backend, () => (log ? at.logSoftmax(x, axis) : at.softmax(x, axis)).toArray());
                // log p of a dominant entry is −log Σ ≈ −(Σ − 1): the float64 sums of either side differ in their last bit (2e-16)
                const atol = log ? () => 1e-15 : undefined;
                assertNear(
                  run('wasm'),
                  run('js'),
                  `${log ? 'logSoftmax' : 'softmax'} [${shape}] axis ${axis} ×${scale}, ${threads} threads`,
                  atol,
                );
              }
              x.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('softmaxGrad: rows and strided columns', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            shapeDim,
            fc.oneof(shapeDim, fc.integer({ min: 100, max: 300 })),
            fc.oneof(fc.constant(1), shapeDim),
            seed,
            fc.boolean(),
            (outer, axisSize, inner, s, log) => {
              const rng = new at.Rng(s);
              const size = outer * axisSize * inner;
              const p = { outer, axisSize, inner, log };
              const x = f32(values(rng, size, 3), [size]);
              const y = withBackend('js', () => {
                const t = Tensor.empty([size]);
                kernelFor('softmax', [x])(x, t, p);
                return t;
              });
              const dy = f32(values(rng, size), [size]);
              const [[want], [got]] = both(
                'softmaxGrad',
                [y, dy],
                () => [Tensor.empty([size])],
                (k, [dx]) => k(y, dy, dx, p),
              );
              // the terms of dx: y·dy and y·Σ dy·y (softmax), dy and e^y·Σ dy (log)
              const Y = y.view();
              const D = dy.view();
              const termScale = (i: number) => {
                const o = Math.floor(i / (axisSize * inner));
                const c = i % inner;
                let dot = 0;
                for (let k = 0; k < axisSize; k++) {
                  const j = (o * axisSize + k) * inner + c;
                  dot += log ? Math.abs(D[j]) : Math.abs(D[j] * Y[j]);
                }
                return 1e-5 * (log ? Math.abs(D[i]) + Math.exp(Y[i]) * dot : Math.abs(Y[i]) * (Math.abs(D[i]) + dot));
              };
              assertNear(got, want, `softmaxGrad${log ? ' (log)' : ''} [${outer}, ${axisSize}, ${inner}], ${threads} threads`, termScale);
              for (const t of [x, y, dy]) t.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('norm and normGrad: LayerNorm and RMSNorm, offset rows, per-thread dγ/dβ partials', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 12 }),
            fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(64, 257, 1024)),
            seed,
            fc.boolean(),
            fc.constantFrom(0, 1000),
            (rows, cols, s, rms, offset) => {
              const rng = new at.Rng(s);
              const X = values(rng, rows * cols).map((v) => v + offset);
              const x = f32(X, [rows, cols]);
              const gamma = f32(values(rng, cols), [cols]);
              const beta = rms ? null : f32(values(rng, cols), [cols]);
              const p = { rows, cols, eps: 1e-5, rms };
              const [want, got] = both(
                'norm',
                [x, gamma],
                () => [Tensor.empty([rows, cols]), Tensor.empty([rows]), Tensor.empty([rows])],
                (k, [y, mean, rstd]) => k(x, gamma, beta, y, mean, rstd, p),
              );
              const G = gamma.view();
              const B = beta?.view();
              const label = `${rms ? 'rmsNorm' : 'layerNorm'} [${rows}, ${cols}] +${offset}, ${threads} threads`;
              // y = x̂·γ + β: the scale of x̂ is 1
              assertNear(got[0], want[0], `${label} y`, (i) => 1e-5 * (Math.abs(G[i % cols]) + (B ? Math.abs(B[i % cols]) : 0)));
              assertNear(got[1], want[1], `${label} mean`, () => 1e-6);
              assertNear(got[2], want[2], `${label} rstd`);
              // backward, from the reference's mean and rstd
              const mean = f32(want[1], [rows]);
              const rstd = f32(want[2], [rows]);
              const dy = f32(values(rng, rows * cols), [rows, cols]);
              const [gw, gg] = both(
                'normGrad',
                [x, dy],
                () => [Tensor.empty([rows, cols]), Tensor.empty([cols]), ...(rms ? [] : [Tensor.empty([cols])])],
                (k, [dx, dgamma, dbeta]) => k(x, gamma, mean, rstd, dy, dx, dgamma, dbeta ?? null, p),
              );
              const D = dy.view();
              const RS = rstd.view();
              const MU = mean.view();
              const xhat = (i: number) => (X[i] - MU[Math.floor(i / cols)]) * RS[Math.floor(i / cols)];
              const colSum = (c: number, f: (i: number) => number) => {
                let s2 = 0;
                for (let r = 0; r < rows; r++) s2 += Math.abs(f(r * cols + c));
                return s2;
              };
              const rowTerms = (i: number) => {
                const r = Math.floor(i / cols);
                let s2 = 0;
                for (let c = 0; c < cols; c++) s2 += Math.abs(D[r * cols + c] * G[c]) * (1 + Math.abs(xhat(r * cols + c)));
                return RS[r] * (Math.abs(D[i] * G[i % cols]) + (Math.abs(xhat(i)) + 1) * (s2 / cols));
              };
              assertNear(gg[0], gw[0], `${label} dx`, (i) => 1e-5 * rowTerms(i));
              assertNear(gg[1], gw[1], `${label} dgamma`, (c) => 1e-5 * colSum(c, (i) => D[i] * xhat(i)));
              if (!rms) assertNear(gg[2], gw[2], `${label} dbeta`, (c) => 1e-5 * colSum(c, (i) => D[i]));
              for (const t of [x, gamma, beta, mean, rstd, dy]) t?.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('embedding and embeddingGrad: repeated indices, odd widths, exact', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 9 }),
            fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(100)),
            fc.integer({ min: 1, max: 50 }),
            seed,
            (vocab, dim, n, s) => {
              const rng = new at.Rng(s);
              const weight = f32(values(rng, vocab * dim), [vocab, dim]);
              const indices = i32(
                Array.from({ length: n }, () => rng.nextU32() % vocab),
                [n],
              );
              const run = (backend: string) => withBackend(backend, () => at.embedding(weight, indices).toArray());
              assertSame(run('wasm'), run('js'), `embedding vocab ${vocab} dim ${dim} n ${n}, ${threads} threads`);
              const dy = f32(values(rng, n * dim), [n, dim]);
              const [[want], [got]] = both(
                'embeddingGrad',
                [dy],
                () => [at.zeros([vocab, dim])],
                (k, [dw]) => k(indices, dy, dw),
              );
              assertSame(got, want, `embeddingGrad vocab ${vocab} dim ${dim} n ${n}, ${threads} threads`);
              for (const t of [weight, indices, dy]) t.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('crossEntropy: large logits, ignored rows, label smoothing', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 12 }),
            fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(1000)),
            seed,
            fc.constantFrom(0, 0.1, 0.5, 1),
            fc.constantFrom(1, 20, 300),
            fc.constantFrom(-100, 0),
            (rows, classes, s, labelSmoothing, scale, ignoreIndex) => {
              const rng = new at.Rng(s);
              const X = values(rng, rows * classes, scale).map((v) => v + 80 * Math.sign(scale - 20));
              const logits = f32(X, [rows, classes]);
              const T = Array.from({ length: rows }, () => (rng.uniform() < 0.2 ? ignoreIndex : rng.nextU32() % classes));
              const targets = i32(T, [rows]);
              const p = { rows, classes, ignoreIndex, labelSmoothing };
              const [want, got] = both(
                'crossEntropy',
                [logits],
                () => [Tensor.empty([rows]), Tensor.empty([rows, classes])],
                (k, [loss, dlogits]) => k(logits, targets, loss, dlogits, p),
              );
              const label = `crossEntropy [${rows}, ${classes}] ×${scale} ε=${labelSmoothing} ignore ${ignoreIndex}, ${threads} threads`;
              // the reference forms log p_t = x_t − (max + log Σ) in float64, which loses
              // ~1e-16·|max| when p_t ≈ 1: allow that much absolutely
              const rowMax = (r: number) => Math.max(...Array.from(X.subarray(r * classes, (r + 1) * classes), Math.abs));
              assertNear(got[0], want[0], `${label} loss`, (r) => 1e-15 * rowMax(r));
              // dlogits = p − ε/C − (1 − ε)·[c = t]: its terms' sizes
              const D = want[1];
              const eC = labelSmoothing / classes;
              assertNear(got[1], want[1], `${label} dlogits`, (i) => {
                const r = Math.floor(i / classes);
                const isTarget = i % classes === T[r];
                const prob = (D[i] as number) + eC + (isTarget ? 1 - labelSmoothing : 0);
                return 1e-5 * (Math.abs(isTarget ? 1 - prob : prob) + eC + (isTarget ? labelSmoothing : 0)) + 1e-15 * rowMax(r);
              });
              for (const t of [logits, targets]) t.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('dropout: the dropoutKeep mask bit for bit, odd lengths, extreme p', () => {
      for (const threads of THREADS) {
        setWasmThreads(threads);
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 300 }),
            fc.integer({ min: 0, max: 2 ** 32 - 1 }),
            fc.constantFrom(1e-9, 0.1, 0.5, 0.9, 0.999999999, 2 ** -32, 1 - 2 ** -33),
            (n, s, prob) => {
              const x = f32(values(new at.Rng(s | 1), n), [n]);
              const p = { p: prob, seed: s };
              const [[want], [got]] = both(
                'dropout',
                [x],
                () => [Tensor.empty([n])],
                (k, [y]) => k(x, y, p),
              );
              assertSame(got, want, `dropout n=${n} p=${prob} seed=${s}, ${threads} threads`);
              for (let i = 0; i < n; i++) {
                if (x.view()[i] !== 0) assert.equal(got[i] !== 0, dropoutKeep(s, i, prob), `dropout mask at ${i}`);
              }
              x.dispose();
            },
          ),
          { numRuns: RUNS * 2, includeErrorInReport: true },
        );
      }
    });

    it('large inputs with the built-in thread grains', () => {
      forceThreads(false);
      try {
        for (const threads of [1, 3]) {
          setWasmThreads(threads);
          const rng = new at.Rng(99);
          const x = f32(values(rng, 301 * 997, 2), [301 * 997]);
          const both1 = (f: (t: Tensor) => Tensor) => [withBackend('js', () => f(x).toArray()), withBackend('wasm', () => f(x).toArray())];
          const [geluJs, geluWasm] = both1((t) => at.gelu(t));
          assertNear(geluWasm, geluJs, `gelu 301·997, ${threads} threads`, () => 1e-14); // the reference's tail below −5.5, as above
          const [addJs, addWasm] = both1((t) => at.add(t, t));
          assertSame(addWasm, addJs, `add 301·997, ${threads} threads`);
          const m = x.reshapeView([301, 997]);
          const [smJs, smWasm] = [withBackend('js', () => at.softmax(m).toArray()), withBackend('wasm', () => at.softmax(m).toArray())];
          assertNear(smWasm, smJs, `softmax [301, 997], ${threads} threads`);
          // columns wider than one work chunk (4096): reductions and softmax over axis 0
          const wide = x.reshapeView([43, 6979]);
          const [sumJs, sumWasm] = [
            withBackend('js', () => at.sum(wide, 0).toArray()),
            withBackend('wasm', () => at.sum(wide, 0).toArray()),
          ];
          assertNear(sumWasm, sumJs, `sum [43, 6979] over axis 0, ${threads} threads`, () => 1e-5);
          const [colJs, colWasm] = [
            withBackend('js', () => at.logSoftmax(wide, 0).toArray()),
            withBackend('wasm', () => at.logSoftmax(wide, 0).toArray()),
          ];
          assertNear(colWasm, colJs, `logSoftmax [43, 6979] axis 0, ${threads} threads`, () => 1e-15);
          wide.dispose();
          x.dispose();
          m.dispose();
        }
      } finally {
        forceThreads(true);
      }
    });
  });
