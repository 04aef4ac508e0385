import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Heap } from '../../src/tensor/heap.ts';

describe('Heap', () => {
  it('aligns blocks to 64 bytes and never hands out offset 0', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    const a = heap.alloc(1);
    const b = heap.alloc(100);
    assert.ok(a > 0);
    assert.equal(a % 64, 0);
    assert.equal(b % 64, 0);
    assert.ok(b >= a + 64);
  });

  it('reuses a freed block of the same size', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    const a = heap.alloc(256);
    heap.alloc(256);
    heap.free(a);
    assert.equal(heap.alloc(256), a);
  });

  it('coalesces neighbouring free blocks to serve a larger request without growing', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    const blocks = Array.from({ length: 8 }, () => heap.alloc(4096));
    heap.alloc(64); // pins the top so the freed blocks cannot simply lower it
    for (const b of blocks) heap.free(b);
    const before = heap.stats.heapBytes;
    const big = heap.alloc(8 * 4096);
    assert.equal(big, blocks[0]);
    assert.equal(heap.stats.heapBytes, before);
  });

  it('grows the memory when full and keeps old data', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    const a = heap.alloc(1024);
    heap.f32()[a >> 2] = 42;
    heap.alloc(1 << 20);
    assert.ok(heap.stats.heapBytes >= 1 << 20);
    assert.equal(heap.f32()[a >> 2], 42);
  });

  it('names the size asked when an allocation cannot be served', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    assert.throws(() => heap.alloc(5 * 2 ** 30), /cannot allocate 5\.00 GiB \(5368709120 bytes\).*at most 4\.00 GiB/);
  });

  it('rejects freeing an unknown block', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    assert.throws(() => heap.free(12345), /not a live block/);
  });

  it('tracks live and peak bytes', () => {
    const heap = new Heap({ shared: false, initialBytes: 65536 });
    const a = heap.alloc(1000);
    const b = heap.alloc(1000);
    heap.free(a);
    heap.free(b);
    assert.equal(heap.stats.liveBytes, 0);
    assert.equal(heap.stats.peakBytes, 2 * 1024);
  });
});
