import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose, gradcheck, seeded64, weightedSum } from '../helpers.ts';

const loss = (y: at.Tensor) => weightedSum(y, at.mul, at.sum);
const ids = (rows: number[][]) => at.tensor(new Int32Array(rows.flat()), [rows.length, rows[0]?.length ?? 0], 'int32');

function layerParams(dim: number, ffn: number, cross: boolean): number {
  const attention = 4 * (dim * dim + dim);
  const feedForward = dim * ffn + ffn + ffn * dim + dim;
  return (cross ? 2 : 1) * attention + feedForward + (cross ? 3 : 2) * 2 * dim;
}

describe('Transformer layers and stacks', () => {
  it('encoder/decoder layers and stacks: shapes and parameter counts against the formula', () => {
    const enc = new at.TransformerEncoder({ dim: 8, numHeads: 2, ffnDim: 12, numLayers: 3 }, { seed: 1 });
    assert.equal(enc.numParameters(), 3 * layerParams(8, 12, false) + 2 * 8);
    const dec = new at.TransformerDecoder({ dim: 8, numHeads: 2, ffnDim: 12, numLayers: 2, normFirst: false }, { seed: 2 });
    assert.equal(dec.numParameters(), 2 * layerParams(8, 12, true), 'post-norm stacks have no final norm');
    const x = at.randn([2, 5, 8], { seed: 3 });
    const memory = enc.forward(at.randn([2, 7, 8], { seed: 4 }));
    assert.deepEqual(memory.shape, [2, 7, 8]);
    assert.deepEqual(dec.forward(x, memory).shape, [2, 5, 8]);
    const r = dec.forward(x, memory, { returnAttention: true });
    assert.deepEqual(
      r.selfAttention.map((w) => w.shape),
      [
        [2, 2, 5, 5],
        [2, 2, 5, 5],
      ],
    );
    assert.deepEqual(r.crossAttention[1]?.shape, [2, 2, 5, 7]);
    assert.deepEqual(enc.forward(x, { returnAttention: true }).attention.length, 3);
    assert.equal(enc.namedParameters()[0]?.[0], 'layers.0.attention.query.weight');
  });

  it('pre-norm is x + f(norm(x)); post-norm is norm(x + f(x))', () => {
    for (const normFirst of [true, false]) {
      const layer = new at.TransformerEncoderLayer({ dim: 4, numHeads: 2, normFirst }, { seed: 5 });
      const x = at.randn([1, 3, 4], { seed: 6 });
      const s = layer.stateDict();
      const ln = (t: at.Tensor, n: string) => at.layerNorm(t, s.get(`${n}.weight`) as at.Tensor, s.get(`${n}.bias`) as at.Tensor);
      const attn = (t: at.Tensor) => layer.attention.forward(t);
      const ffn = (t: at.Tensor) => layer.feedForward.forward(t);
      let expected: at.Tensor;
      if (normFirst) {
        const h = at.add(x, attn(ln(x, 'norm1')));
        expected = at.add(h, ffn(ln(h, 'norm2')));
      } else {
        const h = ln(at.add(x, attn(x)), 'norm1');
        expected = ln(at.add(h, ffn(h)), 'norm2');
      }
      assertClose(layer.forward(x).view(), expected.view(), 1e-5, 1e-6, `normFirst ${normFirst}`);
    }
  });

  it('encoder and decoder layer gradients match finite differences (float64, rms norm, swiglu, rope)', () => {
    const config = { dim: 4, numHeads: 2, ffnDim: 6, norm: 'rms' as const, activation: 'swiglu' as const, position: 'rope' as const };
    const enc = new at.TransformerEncoderLayer(config, { seed: 7, dtype: 'float64' });
    const padding = at.tensor(new Uint8Array([1, 1, 0, 1, 1, 1]), [2, 3], 'bool');
    gradcheck((x) => loss(enc.forward(x, { keyPaddingMask: padding })), [seeded64([2, 3, 4], 1), ...enc.parameters()]);
    const dec = new at.TransformerDecoderLayer({ ...config, normFirst: false, norm: 'layer' }, { seed: 8, dtype: 'float64' });
    gradcheck(
      (x, m) => loss(dec.forward(x, m, { memoryPaddingMask: padding })),
      [seeded64([2, 2, 4], 2), seeded64([2, 3, 4], 3), ...dec.parameters()],
    );
  });

  for (const position of ['none', 'rope', 'alibi'] as const) {
    it(`decoder stack: decoding with the cache equals the full causal pass within 1e-5 (position ${position}, GQA)`, () => {
      const dec = new at.TransformerDecoder({ dim: 16, numHeads: 4, numKvHeads: 2, numLayers: 2, position }, { seed: 9 });
      const x = at.randn([2, 6, 16], { seed: 10 });
      const memory = at.randn([2, 5, 16], { seed: 11 });
      const memoryPaddingMask = at.tensor(new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 5], 'bool');
      const full = dec.forward(x, memory, { memoryPaddingMask });
      const cache = dec.createCache(2, 2);
      const steps = [];
      for (let i = 0; i < 6; i++)
        steps.push(at.tidy(() => dec.forward(at.slice(x, [0, i, 0], [2, 1, 16]), memory, { cache, memoryPaddingMask })));
      assert.equal(cache.length, 6);
      assertClose(at.concat(steps, 1).view(), full.view(), 1e-5, 1e-5);
      cache.dispose();
    });
  }
});

describe('Seq2SeqTransformer', () => {
  const config = {
    srcVocabSize: 11,
    tgtVocabSize: 13,
    dim: 8,
    numHeads: 2,
    encoderLayers: 2,
    decoderLayers: 2,
    ffnDim: 16,
  };

  it('teacher-forced logits have shape [B, Nt, tgtVocab]; parameter counts for separate, shared and untied embeddings', () => {
    const model = new at.Seq2SeqTransformer(config, { seed: 1 });
    const src = ids([
      [1, 2, 3, 4],
      [5, 6, 0, 0],
    ]);
    const tgt = ids([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(model.forward(src, tgt).shape, [2, 3, 13]);
    const stacks = 2 * layerParams(8, 16, false) + 2 * layerParams(8, 16, true) + 2 * 2 * 8;
    assert.equal(model.numParameters(), 11 * 8 + 13 * 8 + stacks);
    const shared = new at.Seq2SeqTransformer({ ...config, tgtVocabSize: 11, shareEmbeddings: true }, { seed: 1 });
    assert.equal(shared.numParameters(), 11 * 8 + stacks);
    assert.ok(!shared.namedParameters().some(([n]) => n.startsWith('tgtEmbedding')));
    const untied = new at.Seq2SeqTransformer({ ...config, tieOutput: false, position: 'learned', maxLength: 10 }, { seed: 1 });
    assert.equal(untied.numParameters(), 11 * 8 + 13 * 8 + stacks + 8 * 13 + 13 + 2 * 10 * 8);
    assert.throws(
      () => new at.Seq2SeqTransformer({ ...config, shareEmbeddings: true }),
      /shareEmbeddings needs equal vocabularies, got srcVocabSize 11 and tgtVocabSize 13/,
    );
    assert.throws(() => model.encode(at.ones([2, 3])), /source ids must be int32 \[batch, seq\], got float32 \[2, 3\]/);
  });

  for (const position of ['sinusoidal', 'learned', 'rope'] as const) {
    it(`decode with a cache, token by token, equals the full decode within 1e-5 (position ${position})`, () => {
      const model = new at.Seq2SeqTransformer({ ...config, position, maxLength: 16, numKvHeads: 1 }, { seed: 2 });
      const src = ids([
        [1, 2, 3, 4, 5],
        [6, 7, 8, 0, 0],
      ]);
      const srcPaddingMask = at.tensor(new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 5], 'bool');
      const tgt = ids([
        [1, 4, 2, 9, 3],
        [1, 5, 5, 7, 12],
      ]);
      const memory = model.encode(src, srcPaddingMask);
      const full = model.decode(tgt, memory, { memoryPaddingMask: srcPaddingMask });
      const cache = model.createCache(2, 1);
      const steps = [];
      for (let i = 0; i < 5; i++) {
        const step = at.slice(tgt, [0, i], [2, 1]);
        steps.push(at.tidy(() => model.decode(step, memory, { cache, memoryPaddingMask: srcPaddingMask })));
      }
      assertClose(at.concat(steps, 1).view(), full.view(), 1e-5, 1e-5);
      // reorder (beam search): swapping the batch rows of the cache swaps the next step's logits.
      const next = ids([[2], [2]]);
      const before = model.decode(next, memory, {
        cache: cloneCacheFor(model, memory, tgt, srcPaddingMask),
        memoryPaddingMask: srcPaddingMask,
      });
      const swapped = cloneCacheFor(model, memory, tgt, srcPaddingMask);
      swapped.reorder([1, 0]);
      const swappedMask = at.tensor(new Uint8Array([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]), [2, 5], 'bool');
      const after = model.decode(next, memory, { cache: swapped, memoryPaddingMask: swappedMask });
      const V = 13;
      assertClose(after.view().slice(0, V), before.view().slice(V, 2 * V), 1e-5, 1e-6);
      assertClose(after.view().slice(V, 2 * V), before.view().slice(0, V), 1e-5, 1e-6);
      cache.dispose();
    });
  }

  it('eval() makes decoding deterministic with dropout configured; train() restores dropout', () => {
    const model = new at.Seq2SeqTransformer({ ...config, dropout: 0.3 }, { seed: 3 });
    const src = ids([[1, 2, 3]]);
    const tgt = ids([[4, 5]]);
    const a = model.forward(src, tgt).toArray();
    assert.notDeepEqual(Array.from(a), Array.from(model.forward(src, tgt).view()));
    model.eval();
    assert.deepEqual(Array.from(model.forward(src, tgt).view()), Array.from(model.forward(src, tgt).view()));
  });
});

/** A fresh cache filled with the target prefix. */
function cloneCacheFor(model: at.Seq2SeqTransformer, memory: at.Tensor, tgt: at.Tensor, memoryPaddingMask: at.Tensor): at.DecoderCache {
  const cache = model.createCache(2);
  model.decode(tgt, memory, { cache, memoryPaddingMask });
  return cache;
}
