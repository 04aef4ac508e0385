// Conformance: norms, embedding, crossEntropy, dropout and large inputs at the built-in thresholds of a backend against the js reference.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { withBackend } from '../../../src/backend/backend.ts';
import { dropoutKeep } from '../../../src/backend/kernels.ts';
import * as at from '../../../src/index.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { assertNear, assertSame, both, f32, i32, seed, type Target, values } from './support.ts';

/** Registers this group's tests (inside a describe) for `target`. */
export function normAndGatherConformance(target: Target): void {
  it('norm and normGrad: LayerNorm and RMSNorm, offset rows, per-thread dγ/dβ partials', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
              target,
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
              target,
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
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });

  it('embedding and embeddingGrad: repeated indices, odd widths, exact', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
            assertSame(run(target.name), run('js'), `embedding vocab ${vocab} dim ${dim} n ${n}, ${threads} threads`);
            const dy = f32(values(rng, n * dim), [n, dim]);
            const [[want], [got]] = both(
              target,
              'embeddingGrad',
              [dy],
              () => [at.zeros([vocab, dim])],
              (k, [dw]) => k(indices, dy, dw),
            );
            assertSame(got, want, `embeddingGrad vocab ${vocab} dim ${dim} n ${n}, ${threads} threads`);
            for (const t of [weight, indices, dy]) t.dispose();
          },
        ),
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });

  it('crossEntropy: large logits, ignored rows, label smoothing', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
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
              target,
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
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });

  it('dropout: the dropoutKeep mask bit for bit, odd lengths, extreme p', () => {
    for (const threads of target.threads) {
      target.setThreads(threads);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 300 }),
          fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          fc.constantFrom(1e-9, 0.1, 0.5, 0.9, 0.999999999, 2 ** -32, 1 - 2 ** -33),
          (n, s, prob) => {
            const x = f32(values(new at.Rng(s | 1), n), [n]);
            const p = { p: prob, seed: s };
            const [[want], [got]] = both(
              target,
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
        { numRuns: target.runs * 2, includeErrorInReport: true },
      );
    }
  });

  it('large inputs with the built-in thread grains', () => {
    target.forceParallel(false);
    try {
      for (const threads of [1, 3]) {
        target.setThreads(threads);
        const rng = new at.Rng(99);
        const x = f32(values(rng, 301 * 997, 2), [301 * 997]);
        const both1 = (f: (t: Tensor) => Tensor) => [
          withBackend('js', () => f(x).toArray()),
          withBackend(target.name, () => f(x).toArray()),
        ];
        const [geluJs, geluWasm] = both1((t) => at.gelu(t));
        assertNear(geluWasm, geluJs, `gelu 301·997, ${threads} threads`, () => 1e-14); // the reference's tail below −5.5, as above
        const [addJs, addWasm] = both1((t) => at.add(t, t));
        assertSame(addWasm, addJs, `add 301·997, ${threads} threads`);
        const m = x.reshapeView([301, 997]);
        const [smJs, smWasm] = [withBackend('js', () => at.softmax(m).toArray()), withBackend(target.name, () => at.softmax(m).toArray())];
        assertNear(smWasm, smJs, `softmax [301, 997], ${threads} threads`);
        // columns wider than one work chunk (4096): reductions and softmax over axis 0
        const wide = x.reshapeView([43, 6979]);
        const [sumJs, sumWasm] = [
          withBackend('js', () => at.sum(wide, 0).toArray()),
          withBackend(target.name, () => at.sum(wide, 0).toArray()),
        ];
        assertNear(sumWasm, sumJs, `sum [43, 6979] over axis 0, ${threads} threads`, () => 1e-5);
        const [colJs, colWasm] = [
          withBackend('js', () => at.logSoftmax(wide, 0).toArray()),
          withBackend(target.name, () => at.logSoftmax(wide, 0).toArray()),
        ];
        assertNear(colWasm, colJs, `logSoftmax [43, 6979] axis 0, ${threads} threads`, () => 1e-15);
        wide.dispose();
        x.dispose();
        m.dispose();
      }
    } finally {
      target.forceParallel(true);
    }
  });
}
