import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { Seq2SeqTransformer } from '../../src/nn/seq2seq.ts';
import { VisionTransformer } from '../../src/nn/vision-transformer.ts';
import { seq2seqAttention, visionTransformerAttention } from '../../src/viz/model-attention.ts';
import { assertClose } from '../helpers.ts';

function rowsSumToOne(m: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const s = m.subarray(i * cols, (i + 1) * cols).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${i} sums to ${s}`);
  }
}

describe('attention maps of models', () => {
  it("a ViT's maps equal the weights its layers return, labelled by class token and patch", () => {
    const model = new VisionTransformer(
      { imageSize: 8, patchSize: 4, channels: 1, numClasses: 3, dim: 16, depth: 2, numHeads: 2, pool: 'cls' },
      { seed: 4 },
    );
    const image = at.rand([1, 1, 8, 8], { seed: 5 });
    const maps = visionTransformerAttention(model, image);
    assert.equal(maps.layers.length, 2);
    assert.deepEqual(maps.layers[0].queryLabels, ['[cls]', '(0,0)', '(0,1)', '(1,0)', '(1,1)']);
    assert.deepEqual(maps.patchGrid, { rows: 2, cols: 2, classToken: true });
    const direct = at.noGrad(() => model.eval().forward(image, { returnAttention: true }));
    for (let l = 0; l < 2; l++) {
      const w = direct.attention[l].toArray();
      for (let h = 0; h < 2; h++) {
        assertClose(maps.layers[l].heads[h], w.subarray(h * 25, (h + 1) * 25), 0, 0, `layer ${l} head ${h}`);
        rowsSumToOne(maps.layers[l].heads[h], 5, 5);
      }
    }
  });

  it('an encoder-decoder gives encoder, decoder and cross maps with their own labels; decodeWithAttention matches decode', () => {
    const model = new Seq2SeqTransformer(
      { srcVocabSize: 20, tgtVocabSize: 20, dim: 16, numHeads: 2, encoderLayers: 2, decoderLayers: 1, shareEmbeddings: true },
      { seed: 2 },
    );
    const source = { ids: [5, 6, 7, 2], labels: ['▁free', '▁office', '▁suite', '</s>'] };
    const target = { ids: [1, 8, 9], labels: ['<s>', '▁suite', '▁bureautique'] };
    const maps = seq2seqAttention(model, source, target);
    assert.deepEqual(
      maps.layers.map((l) => `${l.name}: ${l.queryLength}×${l.keyLength}`),
      ['encoder.0 self: 4×4', 'encoder.1 self: 4×4', 'decoder.0 self: 3×3', 'decoder.0 cross: 3×4'],
    );
    const cross = maps.layers[3];
    assert.deepEqual(cross.keyLabels, source.labels);
    assert.deepEqual(cross.queryLabels, target.labels);
    rowsSumToOne(cross.heads[1], 3, 4);
    // causal decoder self-attention: no weight on later target positions
    assert.equal(maps.layers[2].heads[0][1], 0);
    at.noGrad(() => {
      model.eval();
      const src = at.tensor(Int32Array.from(source.ids), [1, 4]);
      const tgt = at.tensor(Int32Array.from(target.ids), [1, 3]);
      const memory = model.encode(src);
      assertClose(model.decodeWithAttention(tgt, memory).logits.toArray(), model.decode(tgt, memory).toArray(), 0, 0, 'logits');
    });
  });
});
