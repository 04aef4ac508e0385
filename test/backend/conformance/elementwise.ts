// Conformance: binary, unary and unaryGrad of a backend against the js reference.

import { it } from 'node:test';
import fc from 'fast-check';
import { withBackend } from '../../../src/backend/backend.ts';
import { unaryValue } from '../../../src/backend/js/elementwise.ts';
import { type BinaryOp, UNARY_OPS, type UnaryOp } from '../../../src/backend/kernels.ts';
import * as at from '../../../src/index.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { assertNear, assertSame, binaryOp, both, f32, seed, shapeDim, type Target, uniform, values } from './support.ts';

/** Registers this group's tests (inside a describe) for `target`. */
export function elementwiseConformance(target: Target): void {
  it('binary: every broadcast pattern, rank 0–5, exact', () => {
    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'equal'];
    const specials = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1];
    const shapes = fc
      .array(fc.tuple(shapeDim, fc.integer({ min: 0, max: 3 })), { minLength: 0, maxLength: 5 })
      .chain((dims) => fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: dims.length }), fc.integer({ min: 0, max: dims.length })));
    for (const threads of target.threads) {
      target.setThreads(threads);
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
          assertSame(run(target.name), run('js'), `${op} [${aShape}] [${bShape}] -> [${out}], ${threads} threads`);
          a.dispose();
          b.dispose();
        }),
        { numRuns: target.runs * 4, includeErrorInReport: true },
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
    for (const threads of target.threads) {
      target.setThreads(threads);
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
          assertSame(run(target.name), run('js'), `${op} [${aShape}] [${bShape}], ${threads} threads`);
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
    for (const threads of target.threads) {
      target.setThreads(threads);
      for (const op of unaryOps) {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 70 }), seed, fc.constantFrom(...alphas), (n, s, alpha) => {
            const x = f32(unaryInputs(op, new at.Rng(s), n), [n]);
            const [[want], [got]] = both(
              target,
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
          { numRuns: target.runs, includeErrorInReport: true },
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
        target,
        'unary',
        [x],
        () => [Tensor.empty([n])],
        (k, [y]) => k(x, y, { op, alpha: 0 }),
      );
      assertNear(got, want, op, () => 1e-37);
    }
  });

  it('unary: gelu and its gradient over a dense grid on [−14, 14], specials included, within a few float32 ulps', () => {
    // 280,001 points 1e-4 apart, then ±0, ±∞, NaN, denormals and the largest floats
    const grid = Float32Array.from({ length: 280_001 }, (_, i) => -14 + i * 1e-4);
    const specials = [
      0,
      -0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      1e-40,
      -1e-40,
      1e-30,
      -1e-30,
      3e38,
      -3e38,
      -20,
      -40,
    ];
    const x = f32([...grid, ...specials], [grid.length + specials.length]);
    const n = x.size;
    const ones = f32(new Float32Array(n).fill(1), [n]);
    const [[want], [got]] = both(
      target,
      'unary',
      [x],
      () => [Tensor.empty([n])],
      (k, [y]) => k(x, y, { op: 'gelu', alpha: 0 }),
    );
    const y = f32(want, [n]);
    const [[wantGrad], [gotGrad]] = both(
      target,
      'unaryGrad',
      [x, ones],
      () => [Tensor.empty([n])],
      (k, [dx]) => k(x, y, ones, dx, { op: 'gelu', alpha: 0 }),
    );
    const X = x.view();
    // gelu: relative, down to float32's normal range (its tail is x·Φ(x) with Φ tiny: no cancellation anywhere)
    let worst = 0;
    for (let i = 0; i < n; i++) if (Math.abs(want[i]) >= 1e-37) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
    assertNear(got, want, `gelu (largest relative error ${worst.toExponential(2)})`, () => 1e-44, 6e-7);
    // gelu′ = Φ(x) + x·φ(x) crosses 0 near x = −0.75, where its two terms cancel: relative to their size
    const phi = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    assertNear(gotGrad, wantGrad, 'gelu′', (i) => 6e-7 * Math.abs((X[i] as number) * phi(X[i] as number)) + 1e-44, 6e-7);
    for (const t of [x, y, ones]) t.dispose();
  });

  it('unaryGrad: every op, from the reference forward output', () => {
    const crossesZero = new Set<UnaryOp>(['gelu', 'geluTanh', 'silu']);
    for (const threads of target.threads) {
      target.setThreads(threads);
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
              target,
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
          { numRuns: target.runs, includeErrorInReport: true },
        );
      }
    }
  });
}
