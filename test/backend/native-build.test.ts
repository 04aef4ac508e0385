// Installing without a compiler: the native build prints one line and exits 0,
// attune falls back to wasm, and `attune info` says why native is absent.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');

/** Runs the native build into a fresh directory with these compiler variables. */
function buildWith(compilers: { CXX: string; ATTUNE_CXX: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'attune-native-build-'));
  const r = spawnSync(process.execPath, ['scripts/build-native.mjs'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...compilers, ATTUNE_NATIVE_BUILD_DIR: dir },
  });
  return { dir, ...r };
}

describe('native build and fallback', () => {
  it('with the compiler hidden (CXX=false) the build says so in one line, exits 0 and records why', () => {
    const { dir, ...r } = buildWith({ CXX: 'false', ATTUNE_CXX: '' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, r.stdout);
    assert.match(
      r.stdout,
      /build-native: native kernels not built \(the C\+\+ compiler 'false' \(CXX\) exited with 1\); attune will use wasm/,
    );
    assert.equal(existsSync(join(dir, 'attune.node')), false);
    assert.match(readFileSync(join(dir, 'error.txt'), 'utf8'), /exited with 1/);
  });

  it('ATTUNE_CXX hides the compiler from the native kernels alone (dependencies keep CXX)', () => {
    const { dir, ...r } = buildWith({ CXX: 'c++', ATTUNE_CXX: 'false' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /native kernels not built \(the C\+\+ compiler 'false' \(ATTUNE_CXX\) exited with 1\)/);
    assert.equal(existsSync(join(dir, 'attune.node')), false);
  });

  it('where native does not load, wasm is the default and `attune info` gives the reason', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'info'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ATTUNE_NATIVE: '0', ATTUNE_AUTOTUNE: 'off' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^backend: +wasm /m);
    assert.match(r.stdout, /^native: +not loaded: disabled by ATTUNE_NATIVE=0$/m);
    assert.match(r.stdout, /^autotune: +off \(ATTUNE_AUTOTUNE\), cache /m);
  });

  it("setBackend('native') names the reason when the addon cannot load", () => {
    const script = `import * as at from ${JSON.stringify(join(root, 'src/index.ts'))};
      try { at.setBackend('native'); console.log('loaded'); } catch (e) { console.log(e.message); }
      console.log(at.getBackend().name);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ATTUNE_NATIVE: '0' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['setBackend: the native backend did not load: disabled by ATTUNE_NATIVE=0', 'wasm']);
  });
});
