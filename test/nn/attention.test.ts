import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64, weightedSum } from '../helpers.ts';

const loss = (y: at.Tensor) => weightedSum(y, at.mul, at.sum);
const POSITIONS = ['none', 'sinusoidal', 'learned', 'rope', 'alibi'] as const;

/** Runs x [B, N, dim] through the layer in chunks against a KV cache; returns the outputs concatenated. */
function decodeInChunks(mha: at.MultiHeadAttention, x: at.Tensor, chunks: number[]): at.Tensor {
  const [B, , dim] = x.shape;
  const cache = mha.createCache(B, 2);
  const outs: at.Tensor[] = [];
  let start = 0;
  for (const n of chunks) {
    outs.push(mha.forward(at.slice(x, [0, start, 0], [B, n, dim]), null, { cache }));
    start += n;
  }
  cache.dispose();
  return at.concat(outs, 1);
}

describe('MultiHeadAttention', () => {
  it('output shapes and parameter counts follow the formula (MHA, GQA, MQA, cross, no bias)', () => {
    for (const [numKvHeads, bias, kvDim] of [
      [4, true, 8],
      [2, true, 8],
      [1, false, 8],
      [2, true, 5],
    ] as const) {
      const mha = new at.MultiHeadAttention({ dim: 8, numHeads: 4, numKvHeads, headDim: 3, bias, kvDim }, { seed: 1 });
      const [H, D, dim] = [4, 3, 8];
      const b = bias ? 1 : 0;
      const expected = dim * H * D + b * H * D + 2 * (kvDim * numKvHeads * D + b * numKvHeads * D) + H * D * dim + b * dim;
      assert.equal(mha.numParameters(), expected, `numKvHeads ${numKvHeads} bias ${bias}`);
      const x = at.randn([2, 5, 8], { seed: 2 });
      const kv = kvDim === 8 ? null : at.randn([2, 7, kvDim], { seed: 3 });
      assert.deepEqual(mha.forward(x, kv).shape, [2, 5, 8]);
    }
  });

  it('rejects bad configurations and inputs with messages naming both sides', () => {
    assert.throws(() => new at.MultiHeadAttention({ dim: 8, numHeads: 4, numKvHeads: 3 }), /numKvHeads 3 must divide numHeads 4/);
    assert.throws(() => new at.MultiHeadAttention({ dim: 10, numHeads: 4 }), /dim 10 is not divisible by numHeads 4/);
    assert.throws(() => new at.MultiHeadAttention({ dim: 8, numHeads: 4, position: 'xy' as 'rope' }), /position must be one of/);
    const mha = new at.MultiHeadAttention({ dim: 8, numHeads: 2 });
    assert.throws(() => mha.forward(at.ones([2, 8])), /query input must be \[batch, seq, 8\], got \[2, 8\]/);
    assert.throws(
      () => mha.forward(at.ones([2, 3, 8]), null, { keyPaddingMask: at.ones([2, 4]) }),
      /keyPaddingMask must be bool \[batch, keys\] = \[2, 3\] \(true = real token\), got float32 \[2, 4\]/,
    );
    const cache = mha.createCache(2);
    assert.throws(() => mha.forward(at.ones([2, 1, 8]), at.ones([2, 3, 8]), { cache }), /a KV cache is for self-attention/);
  });

  for (const position of POSITIONS) {
    it(`gradients match finite differences (float64, causal self-attention, position ${position})`, () => {
      const mha = new at.MultiHeadAttention(
        { dim: 4, numHeads: 2, numKvHeads: 1, causal: true, position, maxLength: 4 },
        { seed: 7, dtype: 'float64' },
      );
      for (const [, p] of mha.namedParameters()) if (p.shape.length === 1) p.view().set(seeded64([p.size], p.size + 3).view());
      gradcheck((x) => loss(mha.forward(x)), [seeded64([2, 3, 4], 1), ...mha.parameters()]);
    });
  }

  it('gradients match finite differences for cross-attention with a key-padding mask (float64)', () => {
    const mha = new at.MultiHeadAttention({ dim: 4, numHeads: 2, kvDim: 3 }, { seed: 8, dtype: 'float64' });
    const padding = at.tensor(new Uint8Array([1, 1, 1, 1, 1, 0]), [2, 3], 'bool');
    gradcheck(
      (x, kv) => loss(mha.forward(x, kv, { keyPaddingMask: padding })),
      [seeded64([2, 2, 4], 2), seeded64([2, 3, 3], 3), ...mha.parameters()],
    );
  });

  for (const numKvHeads of [2, 1]) {
    it(`${numKvHeads === 1 ? 'MQA' : 'GQA'} equals MHA with the key/value weights repeated per group`, () => {
      for (const position of ['none', 'rope', 'alibi'] as const) {
        const config = { dim: 8, numHeads: 4, headDim: 2, causal: true, position };
        const grouped = new at.MultiHeadAttention({ ...config, numKvHeads }, { seed: 3 });
        const full = new at.MultiHeadAttention({ ...config, numKvHeads: 4 }, { seed: 4 });
        const group = 4 / numKvHeads;
        const repeat = (src: at.Tensor, dst: at.Tensor) => {
          const row = src.size / (numKvHeads * 2);
          const s = src.view();
          const d = dst.view();
          for (let h = 0; h < 4; h++) {
            const g = Math.floor(h / group);
            d.set(s.subarray(g * 2 * row, (g + 1) * 2 * row), h * 2 * row);
          }
        };
        for (const name of ['query', 'output'] as const) {
          full[name].weight.view().set(grouped[name].weight.view());
          full[name].bias?.view().set(grouped[name].bias?.view() ?? []);
        }
        for (const name of ['key', 'value'] as const) {
          repeat(grouped[name].weight, full[name].weight);
          repeat(grouped[name].bias as at.Tensor, full[name].bias as at.Tensor);
        }
        const x = at.randn([2, 6, 8], { seed: 5 });
        assertClose(grouped.forward(x).view(), full.forward(x).view(), 1e-5, 1e-6, position);
      }
    });
  }

  for (const position of POSITIONS) {
    it(`decoding with the KV cache equals the full causal pass within 1e-5 (position ${position})`, () => {
      const mha = new at.MultiHeadAttention({ dim: 16, numHeads: 4, numKvHeads: 2, causal: true, position, maxLength: 16 }, { seed: 9 });
      const x = at.randn([2, 9, 16], { seed: 10 });
      const full = mha.forward(x);
      assertClose(decodeInChunks(mha, x, [1, 1, 1, 1, 1, 1, 1, 1, 1]).view(), full.view(), 1e-5, 1e-5, 'token by token');
      assertClose(decodeInChunks(mha, x, [4, 1, 3, 1]).view(), full.view(), 1e-5, 1e-5, 'prompt then chunks');
    });
  }

  it('decoding with a sliding window and softcap equals the full pass', () => {
    const mha = new at.MultiHeadAttention(
      { dim: 8, numHeads: 2, causal: true, window: [3, 0], softcap: 5, position: 'rope' },
      { seed: 11 },
    );
    const x = at.randn([1, 8, 8], { seed: 12 });
    assertClose(decodeInChunks(mha, x, [2, 1, 1, 1, 1, 1, 1]).view(), mha.forward(x).view(), 1e-5, 1e-5);
  });

  it('key-padding: real positions equal the unpadded sequence run alone, whatever the padding holds', () => {
    const mha = new at.MultiHeadAttention({ dim: 8, numHeads: 2 }, { seed: 13 });
    const short = at.randn([1, 3, 8], { seed: 14 });
    const alone = mha.forward(short);
    for (const seed of [15, 16]) {
      const padded = at.concat([short, at.randn([1, 2, 8], { seed })], 1);
      const keyPaddingMask = at.tensor(new Uint8Array([1, 1, 1, 0, 0]), [1, 5], 'bool');
      const y = mha.forward(padded, null, { keyPaddingMask });
      assertClose(at.slice(y, [0, 0, 0], [1, 3, 8]).view(), alone.view(), 1e-5, 1e-6);
      // Combined with a bool attention mask (logical and) and with an additive one.
      const keepAll = at.tensor(new Uint8Array(25).fill(1), [5, 5], 'bool');
      assertClose(mha.forward(padded, null, { keyPaddingMask, mask: keepAll }).view(), y.view(), 1e-6, 1e-7);
      assertClose(mha.forward(padded, null, { keyPaddingMask, mask: at.zeros([5, 5]) }).view(), y.view(), 1e-6, 1e-7);
    }
  });

  it('an attention mask hides keys: masking key j equals removing it', () => {
    const mha = new at.MultiHeadAttention({ dim: 4, numHeads: 1 }, { seed: 17 });
    const x = at.randn([1, 2, 4], { seed: 18 });
    const kv = at.randn([1, 3, 4], { seed: 19 });
    const mask = at.tensor(new Uint8Array([1, 0, 1, 1, 0, 1]), [2, 3], 'bool');
    const masked = mha.forward(x, kv, { mask });
    const removed = mha.forward(x, at.concat([at.slice(kv, [0, 0, 0], [1, 1, 4]), at.slice(kv, [0, 2, 0], [1, 1, 4])], 1));
    assertClose(masked.view(), removed.view(), 1e-5, 1e-6);
  });

  it('cross-attention with precomputed keys/values equals passing the memory', () => {
    const mha = new at.MultiHeadAttention({ dim: 8, numHeads: 2, kvDim: 6 }, { seed: 20 });
    const x = at.randn([2, 3, 8], { seed: 21 });
    const memory = at.randn([2, 5, 6], { seed: 22 });
    const keyValue = mha.projectKeyValue(memory);
    assert.deepEqual(keyValue.key.shape, [2, 2, 5, 4]);
    assertClose(mha.forward(x, null, { keyValue }).view(), mha.forward(x, memory).view(), 1e-6, 1e-7);
  });

  it('returns attention weights on request: rows sum to 1, causal zeros above the diagonal, same output', () => {
    const mha = new at.MultiHeadAttention({ dim: 8, numHeads: 2, causal: true }, { seed: 23 });
    const x = at.randn([1, 4, 8], { seed: 24 });
    const { output, weights } = mha.forward(x, null, { returnWeights: true });
    assert.deepEqual(weights.shape, [1, 2, 4, 4]);
    assertClose(output.view(), mha.forward(x).view(), 1e-6, 1e-7);
    const w = weights.view();
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 4; i++) {
        let s = 0;
        for (let j = 0; j < 4; j++) {
          s += w[(h * 4 + i) * 4 + j];
          if (j > i) assert.equal(w[(h * 4 + i) * 4 + j], 0);
        }
        assertClose([s], [1], 1e-6);
      }
    // With a cache: the weights over everything cached so far.
    const cache = mha.createCache(1);
    mha.forward(at.slice(x, [0, 0, 0], [1, 3, 8]), null, { cache });
    const step = mha.forward(at.slice(x, [0, 3, 0], [1, 1, 8]), null, { cache, returnWeights: true });
    assertClose(step.weights.view(), at.slice(weights, [0, 0, 3, 0], [1, 2, 1, 4]).view(), 1e-5, 1e-6);
  });

  it('train()/eval() toggles attention dropout', () => {
    const mha = new at.MultiHeadAttention({ dim: 8, numHeads: 2, dropout: 0.5 }, { seed: 25 });
    const x = at.randn([1, 6, 8], { seed: 26 });
    const a = mha.forward(x).toArray();
    const b = mha.forward(x).toArray();
    assert.notDeepEqual(Array.from(a), Array.from(b), 'two training passes draw different masks');
    mha.eval();
    assert.deepEqual(Array.from(mha.forward(x).view()), Array.from(mha.forward(x).view()));
  });
});

/** A 1-head layer with identity projections and no biases: out = attention(x, x, x). */
function identityAttention(dim: number, position: 'rope' | 'alibi', numHeads = 1): at.MultiHeadAttention {
  const mha = new at.MultiHeadAttention({ dim, numHeads, headDim: dim / numHeads, bias: false, position }, { dtype: 'float64' });
  for (const name of ['query', 'key', 'value', 'output'] as const) {
    const w = mha[name].weight.view();
    w.fill(0);
    for (let i = 0; i < dim; i++) w[i * dim + i] = 1;
  }
  return mha;
}

describe('position encodings (hand-checked)', () => {
  it('sinusoidal table: PE[p, 2i] = sin(p/10000^(2i/d)), PE[p, 2i+1] = cos(same)', () => {
    const t = at.sinusoidalTable(3, 4).view();
    assertClose(t.slice(0, 4), [0, 1, 0, 1]);
    assertClose(t.slice(4, 8), [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)], 1e-6);
    assertClose(t.slice(8, 12), [Math.sin(2), Math.cos(2), Math.sin(0.02), Math.cos(0.02)], 1e-6);
    const enc = new at.SinusoidalPositionalEncoding(4);
    const y = enc.forward(at.zeros([1, 2, 4]), 1);
    assertClose(y.view(), t.slice(4, 12), 1e-6);
  });

  it('learned: adds rows offset.. of the trained table', () => {
    const pos = new at.LearnedPositionalEmbedding(5, 2, { seed: 1 });
    const y = pos.forward(at.ones([1, 2, 2]), 3);
    const w = pos.weight.view();
    assertClose(y.view(), [1 + w[6], 1 + w[7], 1 + w[8], 1 + w[9]]);
    assert.throws(() => pos.forward(at.ones([1, 3, 2]), 3), /positions 3\.\.5 exceed maxLength 5/);
  });

  it('RoPE: with identity projections the scores are (R(m)x_m)·(R(n)x_n)/√2, θ = 1 for a 2-dim head', () => {
    const mha = identityAttention(2, 'rope');
    const xs = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    const rotate = ([a, b]: number[], angle: number) => [
      a * Math.cos(angle) - b * Math.sin(angle),
      b * Math.cos(angle) + a * Math.sin(angle),
    ];
    const expected: number[] = [];
    xs.forEach((xm, m) => {
      const q = rotate(xm, m);
      const scores = xs.map((xn, n) => {
        const k = rotate(xn, n);
        return (q[0] * k[0] + q[1] * k[1]) / Math.SQRT2;
      });
      const e = scores.map(Math.exp);
      const z = e.reduce((a, b) => a + b);
      expected.push(
        e.reduce((a, w, n) => a + (w / z) * xs[n][0], 0),
        e.reduce((a, w, n) => a + (w / z) * xs[n][1], 0),
      );
    });
    const y = mha.forward(at.tensor(xs.flat(), [1, 3, 2], 'float64'));
    assertClose(y.view(), expected, 1e-12, 1e-12);
  });

  it('ALiBi: with zero queries the weights are softmax(−slope·|i − j|), slopes 1/16 and 1/256 for 2 heads', () => {
    const mha = identityAttention(4, 'alibi', 2);
    mha.query.weight.view().fill(0);
    const { weights } = mha.forward(seeded64([1, 3, 4], 3), null, { returnWeights: true });
    const w = weights.view();
    [1 / 16, 1 / 256].forEach((slope, h) => {
      for (let i = 0; i < 3; i++) {
        const e = [0, 1, 2].map((j) => Math.exp(-slope * Math.abs(i - j)));
        const z = e.reduce((a, b) => a + b);
        assertClose(
          w.slice((h * 3 + i) * 3, (h * 3 + i + 1) * 3),
          e.map((v) => v / z),
          1e-12,
          1e-12,
          `head ${h} row ${i}`,
        );
      }
    });
  });
});
