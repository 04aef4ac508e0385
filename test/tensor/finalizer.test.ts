import assert from 'node:assert/strict';
import { it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { getHeap, zeros } from '../../src/index.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

it('frees tensors that were neither disposed nor scoped once they are garbage-collected', async () => {
  const before = getHeap().stats.liveBytes;
  (() => {
    for (let i = 0; i < 10; i++) zeros([1024, 256]);
  })();
  assert.ok(getHeap().stats.liveBytes >= before + 10 * 1024 * 1024);
  for (let i = 0; i < 20 && getHeap().stats.liveBytes > before; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(getHeap().stats.liveBytes, before);
});

it('names the dtype, shape and size when a tensor cannot be allocated', () => {
  assert.throws(() => zeros([1 << 30, 2]), /tensor: float32 tensor of shape \[1073741824, 2\] \(8\.00 GiB\): cannot allocate 8\.00 GiB/);
});
