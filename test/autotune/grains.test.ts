// Tuning the wasm thread grains: one device-wide entry (key '*') that becomes
// the kernels' defaults, written to the cache, and undone by mode 'off'.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import '../../src/index.ts';
import { readCache } from '../../src/autotune/cache.ts';
import { tuneGrains } from '../../src/autotune/grains.ts';
import { configureAutotune, saveResults } from '../../src/autotune/index.ts';
import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import { kernelGrains } from '../../src/backend/wasm/grains.ts';
import type { WasmBackend } from '../../src/backend/wasm/index.ts';

getBackend();
const skip = !listBackends().includes('wasm') && 'the wasm backend did not load';
const dir = mkdtempSync(join(tmpdir(), 'attune-grains-test-'));
after(() => {
  configureAutotune({ mode: 'off' });
  rmSync(dir, { recursive: true, force: true });
});

describe('autotune thread grains', { skip }, () => {
  it('tuned grains become the defaults, round-trip through the cache, and mode off restores the built ones', () => {
    const wasm = withBackend('wasm', getBackend) as WasmBackend;
    const built = { ...kernelGrains };
    const path = join(dir, 'autotune.json');
    configureAutotune({ mode: 'use-cache', cachePath: path });
    wasm.setThreads(2);
    const quick = { timing: { warmup: 1, repeats: 1, minSampleSeconds: 0.0002 }, margin: 0.05, minLog2: 8, maxLog2: 10 };
    const entry = tuneGrains(wasm, wasm.settings, quick);
    assert.equal(entry.key, '*');
    for (const [family, grain] of Object.entries(entry.settings)) {
      assert.ok(Number.isInteger(grain) && grain >= 1, `${family}: ${grain}`);
      if (['elementwise', 'dropout', 'reduce', 'softmax', 'norm', 'crossEntropy'].includes(family)) {
        assert.ok(grain >= 2 ** 7 && grain <= 2 ** 10, `${family}: ${grain} outside the sizes tried`);
      }
    }
    assert.deepEqual({ ...kernelGrains }, entry.settings, 'the wrappers read the tuned grains');
    saveResults([{ ...entry }]);
    configureAutotune({ mode: 'off', cachePath: path });
    assert.deepEqual({ ...kernelGrains }, built, "mode 'off' restores the built grains");
    configureAutotune({ mode: 'use-cache', cachePath: path });
    wasm.settings.get('matmul', { batch: 1, M: 1, N: 1, K: 1, transA: false, transB: false }); // first lookup loads the cache
    assert.deepEqual({ ...kernelGrains }, entry.settings, 'loaded back from the cache');
    assert.equal(Object.values(readCache(path).cache.entries)[0].kernel, 'grains');
    configureAutotune({ mode: 'off', cachePath: path });
    wasm.setThreads(1);
  });
});
