// Tensor creation refuses input it would otherwise store wrongly without a word.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';

for (const backend of ['js', 'wasm']) {
  describe(`tensor creation checks (${backend})`, () => {
    const withB = (fn: () => void) => () => at.withBackend(backend, fn);

    it(
      'refuses ragged nested arrays, even when the count fills a shape',
      withB(() => {
        assert.throws(() => at.tensor([[1, 2], [3], [4, 5, 6]]), /tensor: ragged nested arrays: data\[1\] has 1 entries, expected 2/);
        assert.throws(
          () =>
            at.tensor([
              [1, 2],
              [3, [4]],
            ] as never),
          /data\[1\]\[1\] is a list where a value was expected/,
        );
        assert.throws(() => at.tensor([[1], 2] as never), /data\[1\] has 2, expected 1/);
        assert.throws(() => at.tensor(['1'] as never), /data\[0\] is "1"; expected a number or a boolean/);
      }),
    );

    it(
      'nested booleans make a bool tensor, which attention reads as a keep-mask',
      withB(() => {
        const mask = at.tensor([[true, false]]);
        assert.equal(mask.dtype, 'bool');
        assert.deepEqual(mask.toNested(), [[true, false]]);
        assert.throws(() => at.tensor([true, 1] as never), /mix numbers and booleans/);
        const q = at.tensor([[[[1, 0]]]]);
        const k = at.tensor([
          [
            [
              [1, 0],
              [0, 1],
            ],
          ],
        ]);
        const v = at.tensor([
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ]);
        assert.deepEqual(Array.from(at.scaledDotProductAttention(q, k, v, { mask }).view()), [1, 2]);
      }),
    );

    it(
      'refuses int32 values that would be stored as 0 or wrapped: NaN, Infinity, out of range',
      withB(() => {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 3e10, -(2 ** 31) - 1]) {
          assert.throws(() => at.tensor([1, bad], undefined, 'int32'), /tensor: value .* at flat index 1 cannot be stored as int32/);
        }
        assert.throws(() => at.full([2], Number.NaN, 'int32'), /full: value NaN .* cannot be stored as int32/);
        assert.deepEqual(Array.from(at.tensor([2 ** 31 - 1, -(2 ** 31), 1.9], undefined, 'int32').view()), [2 ** 31 - 1, -(2 ** 31), 1]);
      }),
    );

    it(
      'names the supported dtypes when given another (float16)',
      withB(() => {
        const message = /dtype "float16" is not supported; supported dtypes: float32, int32, float64, bool/;
        assert.throws(() => at.zeros([2], 'float16' as at.DType), message);
        assert.throws(() => at.tensor([1], undefined, 'float16' as at.DType), message);
        assert.throws(() => at.randn([2], { dtype: 'float16' as at.DType }), message);
      }),
    );

    it(
      'names an unknown option key and the known ones',
      withB(() => {
        assert.throws(
          () => at.randn([2], { sed: 1 } as never),
          /randn: unknown option 'sed' \(did you mean 'seed'\?\); known options: seed, dtype, mean, std/,
        );
        assert.throws(
          () => at.xavierUniform([2, 2], 3 as never),
          /xavierUniform: options must be an object with keys among seed, dtype, gain; got number 3/,
        );
      }),
    );
  });
}
