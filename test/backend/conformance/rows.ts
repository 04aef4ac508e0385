// Conformance: reduce, copy, softmax and softmaxGrad of a backend against the js reference.

import { it } from 'node:test';
import fc from 'fast-check';
import { kernelFor, withBackend } from '../../../src/backend/backend.ts';
import * as at from '../../../src/index.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { assertNear, assertSame, both, f32, i32, seed, shapeDim, type Target, values } from './support.ts';

/** Registers this group's tests (inside a describe) for `target`. */
export function rowConformance(target: Target): void {
  it('reduce: sum and max over [outer, axis, inner], NaN and −∞ included', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
              target,
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
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });

  it('copy: permute, transpose, slice, pad, concat and expand, float32 and int32, exact', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
            assertSame(run(target.name), run('js'), `${name} of [${shape}] (perm ${perm}), ${threads} threads`);
          }
          x.dispose();
        }),
        { numRuns: target.runs * 2, includeErrorInReport: true },
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
          assertSame(run(target.name), run('js'), `permute [${shape}] by ${p}, ${threads} threads`);
        }
      }
    }
  });

  it('softmax and logSoftmax: any axis, large logits, −∞ entries and rows', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
                run(target.name),
                run('js'),
                `${log ? 'logSoftmax' : 'softmax'} [${shape}] axis ${axis} ×${scale}, ${threads} threads`,
                atol,
              );
            }
            x.dispose();
          },
        ),
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });

  it('softmaxGrad: rows and strided columns', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
              target,
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
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });
}
