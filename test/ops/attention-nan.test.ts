// NaN in attention's inputs propagates as in the js reference (and PyTorch):
// a NaN in q, k, v, an additive mask or the scale is never read as "masked".
// A fully masked row still gives zeros. Every case runs on js and on wasm
// (1 and 2 threads; forward, weights, backward, and the decode path).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose } from '../helpers.ts';

interface Case {
  name: string;
  shape?: { Nq: number; Nk: number };
  poison?: 'query' | 'key' | 'value' | 'mask';
  options?: at.AttentionOptions;
}

const D = 8;

function inputs(c: Case) {
  const { Nq, Nk } = c.shape ?? { Nq: 6, Nk: 6 };
  const q = at.randn([1, 2, Nq, D], { seed: 1 });
  const k = at.randn([1, 2, Nk, D], { seed: 2 });
  const v = at.randn([1, 2, Nk, D], { seed: 3 });
  const mask = c.poison === 'mask' ? at.zeros([Nq, Nk]) : undefined;
  if (c.poison === 'query') q.view()[Math.min(2, Nq - 1) * D + 3] = Number.NaN; // head 0, row 2 (or the only row)
  if (c.poison === 'key') k.view()[Nk * D + 1 * D + 5] = Number.NaN; // head 1, key 1
  if (c.poison === 'value') v.view()[1 * D + 2] = Number.NaN; // head 0, key 1
  if (mask) mask.view()[3 * Nk + 1] = Number.NaN; // row 3, key 1
  return { q, k, v, options: { ...c.options, ...(mask ? { mask } : {}) } };
}

function run(c: Case, differentiable: boolean) {
  const { q, k, v, options } = inputs(c);
  if (differentiable) for (const t of [q, k, v]) t.setRequiresGrad();
  // without gradients or weights, a few query rows against many keys take the decode path
  if (!differentiable) return { output: at.scaledDotProductAttention(q, k, v, options).toArray() };
  const { output, weights } = at.scaledDotProductAttention(q, k, v, { ...options, returnWeights: true });
  at.sum(output).backward();
  return { output: output.toArray(), weights: weights.toArray(), grads: [q, k, v].map((t) => t.grad?.toArray() ?? new Float32Array()) };
}

/**
 * got has NaN wherever expected has, and equals it elsewhere; it may hold
 * more NaN: a masked score contributes 0·NaN to a gradient in the tiles the
 * kernel visits (as PyTorch's math backend does everywhere), while the
 * reference skips zero terms. Masked entries are outside the contract.
 */
function assertNaNWhereExpected(got: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const finite = { got: [] as number[], expected: [] as number[] };
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) assert.ok(Number.isNaN(got[i]), `${label}: element ${i} is ${got[i]}, expected NaN`);
    else if (!Number.isNaN(got[i])) {
      finite.got.push(got[i]);
      finite.expected.push(expected[i]);
    }
  }
  assertClose(finite.got, finite.expected, 1e-3, 1e-4, label);
}

const cases: Case[] = [
  { name: 'NaN in one key', poison: 'key' },
  { name: 'NaN in one key, causal', poison: 'key', options: { causal: true } },
  { name: 'NaN in one query row', poison: 'query' },
  { name: 'NaN in one value row', poison: 'value' },
  { name: 'NaN in an additive mask', poison: 'mask' },
  { name: 'scale NaN', options: { scale: Number.NaN } },
  { name: 'scale Infinity', options: { scale: Number.POSITIVE_INFINITY } },
  { name: 'NaN in one key, softcap and ALiBi', poison: 'key', options: { softcap: 5, alibiSlopes: [0.5, 0.25] } },
];

describe('attention propagates NaN as the reference does', () => {
  for (const c of cases) {
    const expected = at.withBackend('js', () => run(c, true));
    it(`${c.name}: the reference has NaN where expected`, () => {
      assert.ok(expected.output.some(Number.isNaN), 'the reference output holds NaN');
      if (c.poison && c.poison !== 'value') assert.ok(expected.output.some(Number.isFinite), 'other rows stay finite');
    });
    for (const threads of [1, 2]) {
      it(`${c.name}: wasm forward, weights and gradients equal the reference (${threads} thread(s))`, () => {
        at.withBackend('wasm', () => {
          const previous = at.getThreads();
          at.setThreads(threads, { force: true });
          try {
            const got = run(c, true);
            assertClose(got.output, expected.output, 1e-4, 1e-5, 'output');
            assertClose(got.weights ?? [], expected.weights ?? [], 1e-4, 1e-5, 'weights');
            got.grads?.forEach((g, i) => {
              const reference = expected.grads?.[i] ?? [];
              if (c.options?.causal) assertNaNWhereExpected(g, reference, `gradient ${i}`);
              else assertClose(g, reference, 1e-3, 1e-4, `gradient ${i}`);
            });
          } finally {
            at.setThreads(previous);
          }
        });
      });
    }
  }

  for (const poison of ['query', 'key', 'value'] as const) {
    it(`decode path (1 query row, 256 keys): NaN in the ${poison} propagates on every backend`, () => {
      const c: Case = { name: poison, poison, shape: { Nq: 1, Nk: 256 } };
      const expected = at.withBackend('js', () => run(c, false)).output;
      assert.ok(expected.some(Number.isNaN));
      const got = at.withBackend('wasm', () => run(c, false)).output;
      assertClose(got, expected, 1e-4, 1e-5, 'decode output');
    });
  }

  it('a fully masked row still gives zeros (all false, all −∞), on every backend', () => {
    for (const backend of ['js', 'wasm']) {
      at.withBackend(backend, () => {
        const q = at.randn([1, 1, 3, D], { seed: 1 });
        const k = at.randn([1, 1, 3, D], { seed: 2 });
        const keep = at.tensor([
          [true, true, false],
          [false, false, false],
          [true, false, true],
        ]);
        const additive = at.tensor([
          [0, 0, 0],
          [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
          [0, 0, 0],
        ]);
        for (const mask of [keep, additive]) {
          const out = at.scaledDotProductAttention(q, k, k, { mask }).toArray();
          assert.deepEqual(Array.from(out.slice(D, 2 * D)), new Array(D).fill(0), `${backend}: masked row`);
          assert.ok(out.every(Number.isFinite), `${backend}: no NaN`);
        }
      });
    }
  });
});
