import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64, weightedSum } from '../helpers.ts';

const f64 = { dtype: 'float64' as const };
const loss = (y: at.Tensor) => weightedSum(y, at.mul, at.sum);

describe('Linear', () => {
  it('computes x·Wᵀ + b over the last dim of any rank; counts in·out + out parameters', () => {
    const fc = new at.Linear(3, 2, { seed: 1 });
    fc.weight.view().set([1, 2, 3, 4, 5, 6]);
    fc.bias?.view().set([0.5, -1]);
    const y = fc.forward(at.tensor([[[1, 0, -1]], [[2, 1, 0]]]));
    assert.deepEqual(y.shape, [2, 1, 2]);
    assertClose(y.view(), [1 - 3 + 0.5, 4 - 6 - 1, 2 + 2 + 0.5, 8 + 5 - 1]);
    assert.equal(fc.numParameters(), 3 * 2 + 2);
    assert.equal(new at.Linear(3, 2, { bias: false }).numParameters(), 6);
    assert.throws(() => fc.forward(at.ones([2, 4])), /Linear: input must be \[\.\.\., 3\], got \[2, 4\]/);
    assert.throws(() => new at.Linear(0, 2), /Linear: inFeatures must be a positive integer, got 0/);
  });

  it('gradients match finite differences (float64)', () => {
    const fc = new at.Linear(3, 4, { seed: 2, ...f64 });
    fc.bias?.view().set([0.1, -0.2, 0.3, 0.05]);
    const x = seeded64([2, 2, 3], 11);
    gradcheck((xi) => loss(fc.forward(xi)), [x, fc.weight, fc.bias as at.Tensor]);
  });
});

describe('Embedding', () => {
  it('looks up rows; gradients accumulate on repeated ids', () => {
    const emb = new at.Embedding(5, 3, { seed: 1, ...f64 });
    const ids = at.tensor(new Int32Array([4, 0, 4]), [1, 3]);
    const y = emb.forward(ids);
    assert.deepEqual(y.shape, [1, 3, 3]);
    const W = emb.weight.view();
    assertClose(y.view(), [...W.slice(12, 15), ...W.slice(0, 3), ...W.slice(12, 15)]);
    assert.equal(emb.numParameters(), 15);
    assert.equal(emb.parameterKinds().get('weight'), 'embedding');
    gradcheck(() => loss(emb.forward(ids)), [emb.weight]);
    assert.throws(() => emb.forward(at.ones([2])), /Embedding: ids must be int32, got float32/);
  });
});

describe('LayerNorm and RMSNorm', () => {
  it('normalise the last dim (hand-checked) and have the right parameter counts', () => {
    const ln = new at.LayerNorm(4);
    const y = ln.forward(at.tensor([[1, 2, 3, 4]]));
    const sd = Math.sqrt(1.25 + 1e-5);
    assertClose(y.view(), [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd], 1e-5);
    assert.equal(ln.numParameters(), 8);
    const rms = new at.RMSNorm(2, { eps: 0 });
    assertClose(rms.forward(at.tensor([[3, 4]])).view(), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], 1e-6);
    assert.equal(rms.numParameters(), 2);
    assert.equal(rms.parameterKinds().get('weight'), 'norm');
  });

  it('gradients match finite differences (float64)', () => {
    const ln = new at.LayerNorm(3, f64);
    ln.weight.view().set([1.5, -0.5, 1]);
    ln.bias.view().set([0.1, 0.2, -0.3]);
    gradcheck((x) => loss(ln.forward(x)), [seeded64([2, 3], 3), ln.weight, ln.bias]);
    const rms = new at.RMSNorm(3, f64);
    rms.weight.view().set([0.5, 2, -1]);
    gradcheck((x) => loss(rms.forward(x)), [seeded64([2, 3], 4), rms.weight]);
  });
});

describe('Dropout', () => {
  it('drops and rescales while training, is the identity in eval()', () => {
    const drop = new at.Dropout(0.5);
    const x = at.ones([1000]);
    const y = Array.from(drop.forward(x).view());
    const kept = y.filter((v) => v !== 0);
    assert.ok(kept.length > 400 && kept.length < 600, `${kept.length} kept`);
    assert.ok(kept.every((v) => v === 2));
    drop.eval();
    assert.equal(drop.forward(x), x);
    assert.throws(() => new at.Dropout(1), /Dropout: p must be in \[0, 1\), got 1/);
  });
});

describe('FeedForward', () => {
  it('GELU: fc2(gelu(fc1 x)) with dim·h + h + h·dim + dim parameters', () => {
    const ffn = new at.FeedForward({ dim: 4, hiddenDim: 6 }, { seed: 1 });
    assert.equal(ffn.numParameters(), 4 * 6 + 6 + 6 * 4 + 4);
    const x = at.randn([2, 3, 4], { seed: 2 });
    const ps = ffn.stateDict();
    const w = (n: string) => ps.get(n) as at.Tensor;
    const h = at.gelu(at.add(at.matmul(at.reshape(x, [6, 4]), w('fc1.weight'), { transposeB: true }), w('fc1.bias')));
    const expected = at.add(at.matmul(h, w('fc2.weight'), { transposeB: true }), w('fc2.bias'));
    const y = ffn.forward(x);
    assert.deepEqual(y.shape, [2, 3, 4]);
    assertClose(y.view(), expected.view(), 1e-5, 1e-6);
  });

  it('SwiGLU: down(silu(gate x) ∘ up x), three projections; gradients match finite differences', () => {
    const ffn = new at.FeedForward({ dim: 3, hiddenDim: 4, activation: 'swiglu', bias: false }, { seed: 3, ...f64 });
    assert.equal(ffn.numParameters(), 3 * (3 * 4));
    assert.deepEqual(
      ffn.namedParameters().map(([n]) => n),
      ['gate.weight', 'up.weight', 'down.weight'],
    );
    gradcheck((x) => loss(ffn.forward(x)), [seeded64([2, 3], 5), ...ffn.parameters()]);
    assert.throws(
      () => new at.FeedForward({ dim: 3, activation: 'tanh' as 'gelu' }),
      /activation must be 'gelu', 'relu' or 'swiglu', got 'tanh'/,
    );
  });
});
