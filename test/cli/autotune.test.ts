// `attune autotune`: tunes the given shapes into the given cache file and
// prints one line per entry with its speedup; a bad shape is a usage error.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCache } from '../../src/autotune/cache.ts';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'attune-cli-autotune-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function attune(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, 'autotune', ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('attune autotune', () => {
  it('tunes each shape into the cache and prints its speedup', () => {
    const cache = join(dir, 'autotune.json');
    const r = attune(
      '--cache',
      cache,
      '--budget',
      '1',
      '--repeats',
      '2',
      '--shapes',
      'matmul:b=4,M=16,N=24,K=8',
      'attention:B=1,H=2,N=40,D=16,causal',
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /cache .*autotune\.json/);
    // one line per backend that has the kernel (native where it loads, wasm), then the one chosen
    const has = (pattern: RegExp) =>
      assert.ok(
        lines.some((l) => pattern.test(l)),
        `no line matches ${pattern}:\n${r.stdout}`,
      );
    has(/^matmul:b=4,M=16,N=24,K=8 +wasm +matmul +defaults .* tuned .* \d+\.\d\d×/);
    has(/^attention:B=1,H=2,N=40,D=16,causal +wasm +attentionForward /);
    if (lines.some((l) => / native +(matmul|attention)/.test(l))) has(/^ +runs on (native|wasm)$/);
    const { cache: file, problem } = readCache(cache);
    assert.equal(problem, undefined);
    assert.deepEqual([...new Set(Object.values(file.entries).map((e) => e.kernel))].sort(), ['attentionForward', 'matmul']);
  });

  it('a malformed shape exits with code 2 and says what it needs', () => {
    const r = attune('--cache', join(dir, 'x.json'), '--shapes', 'matmul:M=4,N=4');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /attune autotune: 'matmul:M=4,N=4' needs K=<n>/);
  });
});
