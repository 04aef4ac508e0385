import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { assertClose } from '../helpers.ts';

const POSITIONS = ['none', 'sinusoidal', 'learned', 'rope', 'alibi'] as const;

function vitParams(
  c: { patchSize: number; channels: number; numClasses: number; dim: number; depth: number; mlpRatio: number },
  tokens: number,
  cls: boolean,
  learned: boolean,
  attention: { inner: number; kv: number } = { inner: c.dim, kv: c.dim },
): number {
  const { dim } = c;
  const { inner, kv } = attention;
  const hidden = c.mlpRatio * dim;
  const qkvo = dim * inner + inner + 2 * (dim * kv + kv) + inner * dim + dim;
  const layer = qkvo + (dim * hidden + hidden + hidden * dim + dim) + 2 * 2 * dim;
  const patch = c.channels * c.patchSize ** 2 * dim + dim;
  return patch + (cls ? dim : 0) + (learned ? tokens * dim : 0) + c.depth * layer + 2 * dim + dim * c.numClasses + c.numClasses;
}

describe('VisionTransformer', () => {
  const config = { imageSize: 8, patchSize: 4, channels: 2, numClasses: 3, dim: 8, depth: 2, numHeads: 2, mlpRatio: 2 };

  it('unfolds images into patches flattened as (channel, row, column), row-major over the grid', () => {
    const vit = new at.VisionTransformer(config, { seed: 1 });
    const images = at.arange(0, 2 * 2 * 8 * 8, 1, 'float32');
    const patches = vit.unfold(at.reshape(images, [2, 2, 8, 8]));
    assert.deepEqual(patches.shape, [2, 4, 2 * 4 * 4]);
    const v = patches.view();
    // Batch 1, patch 2 (grid row 1, column 0), channel 1, pixel (2, 3): image index ((1·2 + 1)·8 + 4 + 2)·8 + 3.
    const expected = ((1 * 2 + 1) * 8 + 4 + 2) * 8 + 3;
    assert.equal(v[(1 * 4 + 2) * 32 + 1 * 16 + 2 * 4 + 3], expected);
    assert.throws(() => vit.unfold(at.ones([2, 3, 8, 8])), /images must be \[batch, 2, 8, 8\], got \[2, 3, 8, 8\]/);
    assert.throws(() => new at.VisionTransformer({ ...config, patchSize: 3 }), /patchSize 3 must divide the image size 8×8/);
  });

  for (const position of POSITIONS) {
    for (const pool of ['cls', 'mean'] as const) {
      it(`logits [B, numClasses] and parameters by the formula (position ${position}, pool ${pool})`, () => {
        const vit = new at.VisionTransformer({ ...config, position, pool }, { seed: 2 });
        const tokens = 4 + (pool === 'cls' ? 1 : 0);
        assert.equal(vit.numParameters(), vitParams(config, tokens, pool === 'cls', position === 'learned'));
        const images = at.randn([3, 2, 8, 8], { seed: 3 });
        assert.deepEqual(vit.forward(images).shape, [3, 3]);
        const { output, attention } = vit.forward(images, { returnAttention: true });
        assert.deepEqual(output.shape, [3, 3]);
        assert.deepEqual(
          attention.map((w) => w.shape),
          [
            [3, 2, tokens, tokens],
            [3, 2, tokens, tokens],
          ],
        );
      });
    }
  }

  it('headDim sets the attention width apart from dim (with shared K/V heads too)', () => {
    const vit = new at.VisionTransformer({ ...config, headDim: 3, numKvHeads: 1, position: 'alibi' }, { seed: 2 });
    assert.equal(vit.numParameters(), vitParams(config, 5, true, false, { inner: 2 * 3, kv: 3 }));
    assert.deepEqual(vit.encoder.layers.at(0).attention.query.weight.shape, [6, 8]);
    const { output, attention } = vit.forward(at.randn([3, 2, 8, 8], { seed: 3 }), { returnAttention: true });
    assert.deepEqual(output.shape, [3, 3]);
    assert.deepEqual(attention[0]!.shape, [3, 2, 5, 5]);
    assert.throws(() => new at.VisionTransformer({ ...config, headDim: 3, position: 'rope' }), /rope' needs an even headDim, got 3/);
  });

  it('the patch embedding equals a stride-p convolution with the same weights (hand-rolled)', () => {
    const vit = new at.VisionTransformer({ ...config, channels: 1, imageSize: 4, patchSize: 2, dim: 2 }, { seed: 4 });
    const images = at.randn([1, 1, 4, 4], { seed: 5 });
    const y = vit.patchEmbedding.forward(vit.unfold(images));
    const W = vit.patchEmbedding.weight.view();
    const b = vit.patchEmbedding.bias?.view() as Float32Array;
    const x = images.view();
    const expected: number[] = [];
    for (let gy = 0; gy < 2; gy++)
      for (let gx = 0; gx < 2; gx++)
        for (let o = 0; o < 2; o++) {
          let s = b[o] as number;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) s += (W[o * 4 + dy * 2 + dx] as number) * (x[(gy * 2 + dy) * 4 + gx * 2 + dx] as number);
          expected.push(s);
        }
    assertClose(y.view(), expected, 1e-5, 1e-6);
  });

  it('summary lists the layers with output shapes and the parameter total', () => {
    const vit = new at.VisionTransformer(config, { seed: 6 });
    const text = vit.summary([[2, 2, 8, 8]]);
    assert.match(text, /patchEmbedding \(Linear\) +\[2, 4, 8\] +264/);
    assert.match(text, /head \(Linear\) +\[2, 3\] +27/);
    assert.match(text, new RegExp(`Trainable params: ${vit.numParameters().toLocaleString('en-US')}`));
  });

  it('a tiny ViT overfits 64 random images with random labels to 100% training accuracy (AdamW)', () => {
    at.manualSeed(7);
    const vit = new at.VisionTransformer(
      { imageSize: 8, patchSize: 4, channels: 1, numClasses: 10, dim: 32, depth: 2, numHeads: 4, mlpRatio: 2 },
      { seed: 7 },
    );
    const images = at.randn([64, 1, 8, 8], { seed: 8 });
    const labels = at.tensor(
      Int32Array.from({ length: 64 }, (_, i) => (i * 7 + 3) % 10),
      [64],
      'int32',
    );
    const optimizer = new at.AdamW(vit.parameters(), { lr: 3e-3, weightDecay: 0 });
    const accuracy = () =>
      at.tidy(() =>
        at.noGrad(() => {
          const logits = vit.forward(images).view();
          let correct = 0;
          for (let i = 0; i < 64; i++) {
            const row = Array.from(logits.subarray(i * 10, (i + 1) * 10));
            if (row.indexOf(Math.max(...row)) === labels.view()[i]) correct++;
          }
          return correct / 64;
        }),
      );
    const start = performance.now();
    let steps = 0;
    while (steps < 400 && accuracy() < 1) {
      at.tidy(() => at.crossEntropy(vit.forward(images), labels).backward());
      optimizer.step();
      optimizer.zeroGrad();
      steps++;
    }
    const seconds = (performance.now() - start) / 1000;
    assert.equal(accuracy(), 1, `training accuracy after ${steps} steps`);
    assert.ok(seconds < 20, `took ${seconds.toFixed(1)} s`);
  });
});
