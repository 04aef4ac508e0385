// The kernel-settings cache file: tuned entries round-trip through it into a
// fresh registry; a corrupted, foreign-device or other-version file is
// ignored with one warning and rebuilt by the next write; several processes
// writing at once lose nothing; mode 'off' reads nothing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import '../../src/index.ts';
import { CACHE_FORMAT, type CacheFile, readCache } from '../../src/autotune/cache.ts';
import { autotune, configureAutotune, loadedCache } from '../../src/autotune/index.ts';
import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import type { WasmBackend } from '../../src/backend/wasm/index.ts';

getBackend();
const skip = !listBackends().includes('wasm') && 'the wasm backend did not load';
const dir = mkdtempSync(join(tmpdir(), 'attune-cache-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const quick = {
  backends: ['wasm'],
  timing: { warmup: 1, repeats: 2, minSampleSeconds: 0.0005 },
  search: { repeats: 2, budgetSeconds: 1, maxPasses: 1, raceMargin: 1.2 },
};
const shapes = ['matmul:b=4,M=24,N=24,K=24', 'matmul:b=1,M=40,N=72,K=33,tB'];

function wasm(): WasmBackend {
  return withBackend('wasm', getBackend) as WasmBackend;
}

/** Captures console.warn while fn runs. */
function warnings(fn: () => void): string[] {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => seen.push(args.join(' '));
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

describe('autotune cache', { skip }, () => {
  afterEach(() => configureAutotune({ mode: 'off' }));

  it('round trip: tuned entries come back into a fresh registry from the file', () => {
    const path = join(dir, 'round-trip', 'autotune.json');
    configureAutotune({ mode: 'use-cache', cachePath: path });
    const results = autotune(shapes, quick);
    const file = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    assert.equal(file.format, CACHE_FORMAT);
    assert.equal(Object.keys(file.entries).length, 2);
    configureAutotune({ mode: 'use-cache', cachePath: path }); // reload: the registry forgets, then reads the file
    const loaded = new Map(
      wasm()
        .settings.entries()
        .map(([kernel, key, s]) => [`${kernel}|${key}`, s]),
    );
    for (const { tuned } of results) {
      for (const t of tuned) assert.deepEqual(loaded.get(`${t.kernel}|${t.key}`), t.settings, `${t.kernel} ${t.key}`);
    }
    configureAutotune({ mode: 'off', cachePath: path });
    assert.equal(wasm().settings.entries().length, 0, "mode 'off' reads nothing");
  });

  for (const [problem, spoil] of [
    ['malformed', (text: string) => text.slice(0, text.length / 2)],
    ['foreign-device', (text: string) => text.replace(/"deviceId": "[^"]*"/, '"deviceId": "Some Other CPU | 96 cores"')],
    ['other-version', (text: string) => text.replace(/"version": \d+/, '"version": 999')],
  ] as const) {
    it(`a ${problem} cache is ignored with one warning and rebuilt by the next write`, () => {
      const path = join(dir, problem, 'autotune.json');
      configureAutotune({ mode: 'use-cache', cachePath: path });
      autotune([shapes[0]], quick);
      writeFileSync(path, spoil(readFileSync(path, 'utf8')));
      const seen = warnings(() => {
        configureAutotune({ mode: 'use-cache', cachePath: path });
        assert.equal(wasm().settings.entries().length, 0);
        assert.equal(Object.keys(loadedCache().entries).length, 0);
        autotune([shapes[1]], quick);
      });
      assert.equal(seen.length, 1, `warnings: ${JSON.stringify(seen)}`);
      assert.match(seen[0], new RegExp(problem));
      const rebuilt = readCache(path);
      assert.equal(rebuilt.problem, undefined);
      assert.deepEqual(
        Object.values(rebuilt.cache.entries).map((e) => e.key),
        [wasm().settings.keyOf('matmul', { batch: 1, M: 40, N: 72, K: 33, transA: false, transB: true })],
      );
    });
  }

  it('four processes writing 25 entries each at once lose none of them', async () => {
    const path = join(dir, 'concurrent', 'autotune.json');
    const run = promisify(execFile);
    const writers = [0, 1, 2, 3].map((id) =>
      run(process.execPath, ['--import', 'tsx', 'test/autotune/cache-writer.ts', path, String(id), '25'], { timeout: 60_000 }),
    );
    await Promise.all(writers);
    const { cache, problem } = readCache(path);
    assert.equal(problem, undefined);
    const keys = Object.values(cache.entries).map((e) => e.key);
    assert.equal(keys.length, 100);
    for (let w = 0; w < 4; w++) for (let i = 0; i < 25; i++) assert.ok(keys.includes(`writer ${w} entry ${i}`), `writer ${w} entry ${i}`);
  });
});
