// Modes and routes: tune-on-first-use tunes a new key inside the op that
// first needs it and writes it to the cache; routes send a kernel to another
// backend for one key only; bad shape specs and modes get clear errors.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCache } from '../../src/autotune/cache.ts';
import { parseShape } from '../../src/autotune/workloads.ts';
import { type Backend, getBackend, listBackends, referenceKernel, registerBackend, withBackend } from '../../src/backend/backend.ts';
import type { MatmulParams } from '../../src/backend/kernels.ts';
import { clearRoutes, matmulKey, setRoute } from '../../src/backend/settings.ts';
import type { WasmBackend } from '../../src/backend/wasm/index.ts';
import * as at from '../../src/index.ts';

getBackend();
const skip = !listBackends().includes('wasm') && 'the wasm backend did not load';
const dir = mkdtempSync(join(tmpdir(), 'attune-modes-test-'));
after(() => {
  at.configureAutotune({ mode: 'off' });
  rmSync(dir, { recursive: true, force: true });
});

describe('autotune modes and routes', { skip }, () => {
  it('tune-on-first-use: the first matmul of a new shape is tuned, cached, and not tuned again', () => {
    const path = join(dir, 'first-use.json');
    at.configureAutotune({ mode: 'tune-on-first-use', cachePath: path });
    const a = at.randn([3, 20, 30], { seed: 1 });
    const b = at.randn([3, 30, 10], { seed: 2 });
    const want = at.withBackend('js', () => at.matmul(a, b).toArray());
    const got = at.matmul(a, b).toArray();
    at.configureAutotune({ mode: 'off', cachePath: path });
    const entries = Object.values(readCache(path).cache.entries);
    assert.equal(entries.length, 1);
    assert.equal(entries[0].kernel, 'matmul');
    assert.equal(entries[0].key, matmulKey({ batch: 3, M: 20, N: 10, K: 30, transA: false, transB: false }, getBackend().threads));
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `element ${i}`);
    // the same key again, in tune-on-first-use: read from the cache, no second entry, no new tuning
    at.configureAutotune({ mode: 'tune-on-first-use', cachePath: path });
    const tunedAt = entries[0].tunedAt;
    at.matmul(a, b);
    at.configureAutotune({ mode: 'off', cachePath: path });
    assert.equal(Object.values(readCache(path).cache.entries)[0].tunedAt, tunedAt);
  });

  it("use-cache and off never tune: a key without an entry runs with the backend's defaults", () => {
    const wasm = withBackend('wasm', getBackend) as WasmBackend;
    for (const mode of ['use-cache', 'off'] as const) {
      at.configureAutotune({ mode, cachePath: join(dir, `${mode}.json`) });
      const p: MatmulParams = {
        batch: 1,
        M: 7,
        N: 9,
        K: 11,
        batchStrideA: 0,
        batchStrideB: 0,
        transA: false,
        transB: false,
        accumulate: false,
      };
      assert.deepEqual(wasm.settings.get('matmul', p), wasm.settings.defaults('matmul'));
      assert.equal(wasm.settings.entries().length, 0);
    }
  });

  it('a route runs a kernel on another backend for its key only', () => {
    const calls: string[] = [];
    const spy: Backend = {
      name: 'spy',
      threads: 1,
      setThreads() {},
      kernels: {
        matmul: (a, b, out, p) => {
          calls.push(`${p.M}x${p.N}x${p.K}`);
          referenceKernel('matmul')(a, b, out, p);
        },
      },
    };
    registerBackend(spy);
    const threads = getBackend().threads;
    try {
      setRoute('matmul', matmulKey({ batch: 1, M: 5, N: 6, K: 7, transA: false, transB: false }, threads), 'spy');
      const routed = at.matmul(at.randn([5, 7]), at.randn([7, 6]));
      at.matmul(at.randn([50, 70]), at.randn([70, 60]));
      assert.deepEqual(calls, ['5x6x7']);
      assert.equal(routed.shape.join(), '5,6');
    } finally {
      clearRoutes();
    }
    at.matmul(at.randn([5, 7]), at.randn([7, 6]));
    assert.deepEqual(calls, ['5x6x7'], 'no route, no detour');
  });

  it('bad shapes and modes are refused with what was expected', () => {
    assert.throws(() => parseShape('conv:N=3'), /starts with 'attention:' or 'matmul:', got 'conv:N=3'/);
    assert.throws(() => parseShape('attention:N=64,Q=3'), /unknown field 'Q'/);
    assert.throws(() => parseShape('attention:H=8,Hk=3,N=64'), /Hk = 3 must divide H = 8/);
    assert.throws(() => parseShape('matmul:M=4,N=4'), /needs K=<n>/);
    assert.throws(() => parseShape('matmul:M=4,N=0,K=2'), /N must be a positive integer/);
    assert.throws(
      () => at.configureAutotune({ mode: 'always' as at.AutotuneMode }),
      /mode must be one of off, use-cache, tune-on-first-use, got 'always'/,
    );
    assert.throws(() => setRoute('softmax', 'x', 'js'), /'softmax' cannot be routed/);
  });
});
