import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import {
  type AttentionLayerMap,
  attentionMapsFromWeights,
  attentionRollout,
  classTokenToPatches,
  downsampleMax,
  meanOverHeads,
} from '../../src/viz/attention-maps.ts';
import { assertClose } from '../helpers.ts';

const layer = (name: string, heads: number[][], n: number): AttentionLayerMap => ({
  name,
  kind: 'self',
  queryLength: n,
  keyLength: n,
  queryLabels: Array.from({ length: n }, (_, i) => `t${i}`),
  keyLabels: Array.from({ length: n }, (_, i) => `t${i}`),
  heads: heads.map((h) => Float32Array.from(h)),
});

describe('attention maps', () => {
  it('extracts each head of one batch item exactly as the op returned it', () => {
    const q = at.randn([2, 3, 4, 8], { seed: 1 });
    const k = at.randn([2, 3, 5, 8], { seed: 2 });
    const v = at.randn([2, 3, 5, 8], { seed: 3 });
    const { weights } = at.scaledDotProductAttention(q, k, v, { returnWeights: true });
    const maps = attentionMapsFromWeights(
      [{ name: 'cross', kind: 'cross', weights }],
      {
        query: ['a', 'b', 'c', 'd'],
        key: ['v', 'w', 'x', 'y', 'z'],
      },
      1,
    );
    const all = weights.toArray();
    for (let h = 0; h < 3; h++) assert.deepEqual([...maps.layers[0].heads[h]], [...all.subarray((3 + h) * 20, (4 + h) * 20)]);
  });

  it('names the mismatch when labels and weights disagree', () => {
    const w = at.softmax(at.randn([1, 2, 3, 3], { seed: 4 }), -1);
    assert.throws(
      () => attentionMapsFromWeights([{ name: 'enc.0', weights: w }], { query: ['a', 'b'] }),
      /'enc.0' is 3 × 3, labels given for 2 × 2/,
    );
    assert.throws(() => attentionMapsFromWeights([{ name: 'x', weights: at.zeros([3, 3]) }], { query: ['a'] }), /\[B, H, Nq, Nk\]/);
    assert.throws(() => attentionMapsFromWeights([{ name: 'x', weights: w }], { query: ['a', 'b', 'c'] }, 1), /batch index 1/);
  });

  it('rollout mixes the residual path and multiplies layers (hand-checked 2 × 2 case)', () => {
    const first = layer('l0', [[1, 0, 0.5, 0.5]], 2);
    const second = layer('l1', [[0, 1, 1, 0]], 2);
    assertClose(attentionRollout([first, second]), [0.625, 0.375, 0.625, 0.375], 1e-6, 1e-7);
    // one layer with residual 0 is the head mean itself
    const twoHeads = layer(
      'l',
      [
        [1, 0, 0, 1],
        [0, 1, 1, 0],
      ],
      2,
    );
    assertClose(meanOverHeads(twoHeads), [0.5, 0.5, 0.5, 0.5]);
    assertClose(attentionRollout([twoHeads], { residual: 0 }), [0.5, 0.5, 0.5, 0.5]);
  });

  it('rollout rows stay distributions on random stochastic layers', () => {
    const n = 5;
    const layers = [0, 1, 2].map((l) => {
      const w = at.softmax(at.randn([1, 2, n, n], { seed: 10 + l }), -1);
      return attentionMapsFromWeights([{ name: `l${l}`, weights: w }], { query: ['a', 'b', 'c', 'd', 'e'] }).layers[0];
    });
    const r = attentionRollout(layers);
    for (let i = 0; i < n; i++) {
      const sum = r.subarray(i * n, (i + 1) * n).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
    }
  });

  it('class token row drops the class column; downsampling keeps peaks', () => {
    const m = new Float32Array(25).map((_, i) => i);
    assert.deepEqual([...classTokenToPatches(m, { rows: 2, cols: 2 })], [1, 2, 3, 4]);
    assert.throws(() => classTokenToPatches(m, { rows: 3, cols: 3 }), /10 × 10/);
    const big = new Float32Array(3000 * 2100);
    big[2999 * 2100 + 2099] = 0.9;
    const d = downsampleMax(big, 3000, 2100, 256, 256);
    assert.ok(d.rows <= 256 && d.cols <= 256);
    assert.equal(d.data[d.data.length - 1], Math.fround(0.9));
  });
});
