import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASSES, loadFashionMnist, SHIPPED_FASHION_MNIST } from '../../src/data/fashion-mnist.ts';
import { encodeIdx, parseIdx, readIdx } from '../../src/data/idx.ts';

describe('IDX', () => {
  it('parses a hand-written u8 file and a big-endian i32 file', () => {
    const u8 = parseIdx(Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255));
    assert.deepEqual([u8.type, u8.dims, Array.from(u8.data)], ['uint8', [2, 3], [1, 2, 3, 4, 5, 255]]);
    const i32 = parseIdx(Uint8Array.of(0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe));
    assert.deepEqual([i32.type, i32.dims, Array.from(i32.data)], ['int32', [2], [256, -2]]);
  });

  it('u8 data is a view of the inflated buffer, not a copy', () => {
    const bytes = encodeIdx([4], Uint8Array.of(9, 8, 7, 6));
    const parsed = parseIdx(bytes);
    assert.equal(parsed.data.buffer, bytes.buffer);
  });

  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['a short file', Uint8Array.of(0, 0), /x\.idx: truncated: 2 bytes, shorter than the 4-byte magic number/],
    ['a bad magic', Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), /x\.idx: bad magic number 01 00 08 01: an IDX file starts with two zero bytes/],
    ['an unknown type', Uint8Array.of(0, 0, 7, 1, 0, 0, 0, 0), /bad magic number 00 00 07 01: unknown element type 0x07/],
    ['missing dimensions', Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1), /truncated: the header declares 3 dimensions but the file has 8 bytes/],
    [
      'missing data',
      encodeIdx([2, 2], Uint8Array.of(1, 2, 3, 4)).subarray(0, 14),
      /truncated: dimensions \[2, 2\] of uint8 need 16 bytes, the file has 14/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`refuses ${what}, naming the file (gzipped or not)`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'attune-idx-'));
      writeFileSync(join(dir, 'x.idx'), bytes);
      writeFileSync(join(dir, 'x.idx.gz'), gzipSync(bytes));
      assert.throws(() => readIdx(join(dir, 'x.idx')), message);
      assert.throws(
        () => readIdx(join(dir, 'x.idx.gz')),
        (e: Error) => e.message.includes('x.idx.gz') && message.source.length > 0,
      );
    });
  }

  it('refuses corrupt gzip data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-idx-'));
    writeFileSync(join(dir, 'bad.gz'), Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3));
    assert.throws(() => readIdx(join(dir, 'bad.gz')), /idx: .*bad\.gz: corrupt gzip data/);
  });
});

describe('Fashion-MNIST (shipped subset)', () => {
  it('has 2,000 training and 1,000 test images of 28×28, balanced over the 10 classes', () => {
    for (const [split, count] of [
      ['train', 2000],
      ['test', 1000],
    ] as const) {
      const set = loadFashionMnist(split, SHIPPED_FASHION_MNIST);
      assert.deepEqual([set.count, set.height, set.width, set.images.length], [count, 28, 28, count * 784]);
      const perClass = new Array(10).fill(0);
      for (const l of set.labels) perClass[l]++;
      assert.deepEqual(perClass, new Array(10).fill(count / 10));
    }
    assert.equal(FASHION_MNIST_CLASSES.length, 10);
  });

  it('images and labels that disagree are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-fm-'));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx([2, 2, 2], new Uint8Array(8))));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([3], new Uint8Array(3))));
    assert.throws(() => loadFashionMnist('test', dir), /t10k-labels-idx1-ubyte\.gz has 3 labels for 2 images/);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([2], Uint8Array.of(1, 12))));
    assert.throws(() => loadFashionMnist('test', dir), /label 12 at index 1 is not a class 0-9/);
  });
});
