// Ops refuse input they would otherwise turn into a wrong answer silently,
// with an error naming the op, the argument and what was expected.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as at from '../../src/index.ts';

for (const backend of ['js', 'wasm']) {
  describe(`op input checks (${backend})`, () => {
    const withB = (fn: () => void) => () => at.withBackend(backend, fn);
    const x = at.keep(
      at.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );

    it(
      'slice refuses non-integer begins and sizes',
      withB(() => {
        assert.throws(() => at.slice(x, [0.5, 0], [1, 3]), /slice: begin must be at most 2 integers for \[2, 3\], got \[0.5,0\]/);
        assert.throws(() => at.slice(x, [0, 0], [1, 1.5]), /slice: size must be at most 2 integers for \[2, 3\], got \[1,1.5\]/);
        assert.throws(() => at.slice(x, [0, Number.NaN]), /slice: begin must be/);
        assert.deepEqual(at.slice(x, [1, 1], [1, -1]).toNested(), [[5, 6]]);
      }),
    );

    it(
      'reshape refuses negative (other than one -1) and fractional dims',
      withB(() => {
        const message = /reshape: the new shape .* must hold non-negative integers and at most one -1 \(inferred\), for \[2, 3\]/;
        assert.throws(() => at.reshape(x, [-2, -3]), message);
        assert.throws(() => at.reshape(x, [1.5, 4]), message);
        assert.throws(() => at.reshape(x, [-1, -1]), message);
        assert.deepEqual(at.reshape(x, [3, -1]).shape, [3, 2]);
      }),
    );

    it(
      'pad refuses fractional or negative paddings',
      withB(() => {
        assert.throws(
          () =>
            at.pad(x, [
              [0.5, 0],
              [0, 0],
            ]),
          /pad: need 2 non-negative \[before, after\] pairs/,
        );
      }),
    );

    it(
      'crossEntropy refuses an unknown reduction',
      withB(() => {
        const targets = at.tensor(new Int32Array([0, 2]));
        assert.throws(
          () => at.crossEntropy(x, targets, { reduction: 'avg' as never }),
          /crossEntropy: reduction must be one of 'mean', 'sum', 'none', got "avg"/,
        );
      }),
    );

    it(
      'KVCache says which options it needs, and refuses to attend before any append',
      withB(() => {
        assert.throws(
          () => new at.KVCache(undefined as never),
          /KVCache: options are required: new KVCache\(\{ batch, numKvHeads, headDim, capacity\?, dtype\? \}\)/,
        );
        assert.throws(() => new at.KVCache({ batch: 1 } as never), /KVCache: missing required options numKvHeads, headDim/);
        assert.throws(
          () => new at.KVCache({ batch: 1, numKvHeads: 0, headDim: 4 }),
          /KVCache: numKvHeads must be a positive integer, got 0/,
        );
        assert.throws(
          () => new at.KVCache({ batch: 1, numKvHeads: 1, headDim: 4, dtype: 'float16' as at.DType }),
          /dtype "float16" is not supported/,
        );
        const cache = new at.KVCache({ batch: 1, numKvHeads: 1, headDim: 4 });
        assert.throws(
          () => cache.attend(at.ones([1, 1, 1, 4])),
          /KVCache.attend: the cache is empty; append this step's keys and values first/,
        );
        cache.append(at.ones([1, 1, 1, 4]), at.full([1, 1, 1, 4], 2));
        assert.deepEqual(Array.from(cache.attend(at.ones([1, 1, 1, 4])).view()), [2, 2, 2, 2]);
        cache.dispose();
      }),
    );

    it(
      'every options object names an unknown key and the known ones',
      withB(() => {
        const q = at.ones([1, 1, 2, 4]);
        const cases: [() => unknown, RegExp][] = [
          [
            () => at.scaledDotProductAttention(q, q, q, { casual: true } as never),
            /attention: unknown option 'casual' \(did you mean 'causal'\?\); known options: scale, mask, causal, window, alibiSlopes, softcap, dropout, seed, training, layout, returnWeights/,
          ],
          [() => at.matmul(x, x, { transposeb: true } as never), /matmul: unknown option 'transposeb' \(did you mean 'transposeB'\?\)/],
          [
            () => at.sum(x, 0, { keepdims: true } as never),
            /sum: unknown option 'keepdims' \(did you mean 'keepDims'\?\); known options: keepDims/,
          ],
          [() => at.mean(x, 0, { keep: true } as never), /mean: unknown option 'keep'/],
          [() => at.max(x, 0, { keepDim: true } as never), /max: unknown option 'keepDim'/],
          [
            () => at.crossEntropy(x, at.tensor(new Int32Array([0, 1])), { ignore_index: 1 } as never),
            /crossEntropy: unknown option 'ignore_index'/,
          ],
          [() => at.dropout(x, { prob: 0.1 } as never), /dropout: unknown option 'prob'; known options: p, seed, training/],
          [
            () => at.layerNorm(x, at.ones([3]), at.zeros([3]), { epsilon: 1e-5 } as never),
            /layerNorm: unknown option 'epsilon'; known options: eps/,
          ],
          [() => at.rmsNorm(x, at.ones([3]), { epsilon: 1e-5 } as never), /rmsNorm: unknown option 'epsilon'/],
          [() => at.gelu(x, { approx: 'tanh' } as never), /gelu: unknown option 'approx'/],
          [() => at.gelu(x, { approximate: 'fast' } as never), /gelu: approximate must be 'none' or 'tanh', got "fast"/],
          [() => at.applyRotary(q, { offset: 2 } as never), /applyRotary: unknown option 'offset'/],
          [() => new at.KVCache({ batch: 1, numKvHeads: 1, headDim: 4, heads: 2 } as never), /KVCache: unknown option 'heads'/],
          [() => at.scaledDotProductAttention(q, q, q, 'causal' as never), /attention: options must be an object/],
        ];
        for (const [call, message] of cases) assert.throws(call, message);
      }),
    );

    it(
      'setCheckNumerics catches infinities in q, k, v and a NaN or infinite scale',
      withB(() => {
        const q = at.ones([1, 1, 2, 4]);
        const bad = at.ones([1, 1, 2, 4]);
        bad.view()[5] = Number.POSITIVE_INFINITY;
        at.setCheckNumerics(true);
        try {
          assert.throws(() => at.scaledDotProductAttention(bad, q, q), /attention: query \[1, 1, 2, 4\] contains Infinity at flat index 5/);
          assert.throws(() => at.scaledDotProductAttention(q, bad, q), /attention: key .* contains Infinity/);
          assert.throws(() => at.scaledDotProductAttention(q, q, bad), /attention: value .* contains Infinity/);
          assert.throws(
            () => at.scaledDotProductAttention(q, q, q, { scale: Number.NaN }),
            /attention: scale is NaN; a finite number is needed/,
          );
          assert.throws(() => at.scaledDotProductAttention(q, q, q, { scale: Number.POSITIVE_INFINITY }), /attention: scale is Infinity/);
          const mask = at.tensor([
            [0, Number.NEGATIVE_INFINITY],
            [0, 0],
          ]);
          assert.doesNotThrow(() => at.scaledDotProductAttention(q, q, q, { mask }), 'an additive mask may hold −∞');
        } finally {
          at.setCheckNumerics(false);
        }
      }),
    );

    after(() => x.dispose());
  });
}
