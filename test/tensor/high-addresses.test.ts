// Tensors past 2 GiB in the heap: offsets there do not fit a signed 32-bit
// integer, and a `ptr >> 2` in the views once made JS read and write another
// place than the kernels did (a long seq2seq run, whose validation decoding
// grew the heap past 2 GiB, trapped in the wasm embedding lookup).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import { embedding, getHeap, matmul, type Tensor, tensor, zeros } from '../../src/index.ts';
import { assertClose } from '../helpers.ts';

const QUARTER_GIB = 2 ** 28;

/** Holds ~2 GiB so that what is allocated next lies past 2^31; returns the tensors to dispose. */
function fillLowHalf(): Tensor[] {
  const hold: Tensor[] = [];
  while (getHeap().stats.liveBytes < 2 ** 31) hold.push(zeros([QUARTER_GIB / 4]));
  return hold;
}

function nativeLoads(): boolean {
  if (!listBackends().includes('native')) return false;
  try {
    withBackend('native', getBackend);
    return true;
  } catch {
    return false;
  }
}

describe('tensors at heap offsets past 2^31', () => {
  const backends = ['js', 'wasm', ...(nativeLoads() ? ['native'] : [])];
  it(`read back what was written, and every backend computes on the same bytes (${backends.join(', ')})`, () => {
    const hold = fillLowHalf();
    try {
      const a = tensor(
        Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)),
        [64, 64],
      );
      const indices = tensor(Int32Array.from([5, 0, 63, 7]), [4], 'int32');
      assert.ok(a.ptr >= 2 ** 31, `the test needs a tensor past 2 GiB, got offset ${a.ptr}`);
      assert.equal(a.view()[1], Math.fround(Math.sin(1)));
      assert.deepEqual(Array.from(indices.view()), [5, 0, 63, 7]);
      const av = a.view();
      const row = (r: number) => Array.from(av.subarray(r * 64, r * 64 + 64));
      const product = Array.from({ length: 64 }, (_, j) => {
        let s = 0;
        for (let k = 0; k < 64; k++) s += av[k] * av[k * 64 + j];
        return s;
      });
      for (const name of backends) {
        withBackend(name, () => {
          assertClose(embedding(a, indices).view(), [5, 0, 63, 7].flatMap(row), 0, 0, `${name} embedding`);
          assertClose(matmul(a, a).view().subarray(0, 64), product, 1e-4, 1e-4, `${name} matmul`);
        });
      }
    } finally {
      for (const t of hold) t.dispose();
    }
  });
});
