// Choosing a backend and a thread count: setBackend('wasm') works as a
// program's first call and after js; setThreads caps at the cores unless forced.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, it, mock } from 'node:test';
import * as at from '../../src/index.ts';

const entry = new URL('../../src/index.ts', import.meta.url).href;

function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import * as at from ${JSON.stringify(entry)};\n${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
}

describe('backend selection', () => {
  it("setBackend('wasm') as a program's first call, then js, then wasm again", () => {
    const { status, stdout, stderr } = runChild(`
      at.setBackend('wasm');
      const names = [at.getBackend().name];
      at.setBackend('js');
      names.push(at.getBackend().name);
      at.setBackend('wasm');
      names.push(at.getBackend().name, at.sum(at.ones([4])).item());
      console.log(JSON.stringify(names));
    `);
    assert.equal(status, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), ['wasm', 'js', 'wasm', 4]);
  });

  it("setBackend('js') first, then wasm", () => {
    const { status, stdout, stderr } = runChild(`
      at.setBackend('js');
      at.setBackend('wasm');
      console.log(at.getBackend().name);
    `);
    assert.equal(status, 0, stderr);
    assert.equal(stdout.trim(), 'wasm');
  });

  it('names the backends available when given an unknown one', () => {
    assert.throws(() => at.setBackend('webgpu'), /setBackend: no backend named 'webgpu'; available: js, wasm/);
  });
});

describe('setThreads', () => {
  const cores = availableParallelism();

  it('caps at the cores available with a warning, unless forced', () => {
    const previous = at.getThreads();
    const warn = mock.method(console, 'warn', () => {});
    try {
      at.setBackend('wasm');
      assert.equal(at.setThreads(cores + 62), cores);
      assert.equal(at.getThreads(), cores);
      assert.equal(warn.mock.callCount(), 1);
      assert.match(
        String(warn.mock.calls[0].arguments[0]),
        new RegExp(
          `setThreads: ${cores + 62} threads asked for, ${cores} cores available; using ${cores} \\(setThreads\\(${cores + 62}, \\{ force: true \\}\\) insists\\)`,
        ),
      );
      assert.equal(at.setThreads(cores + 1, { force: true }), cores + 1);
      assert.equal(warn.mock.callCount(), 1);
    } finally {
      warn.mock.restore();
      at.setThreads(previous);
    }
  });

  it('refuses counts that are not positive integers, and unknown options', () => {
    assert.throws(() => at.setThreads(0), /setThreads: expected a positive integer, got 0/);
    assert.throws(() => at.setThreads(1.5), /setThreads: expected a positive integer, got 1.5/);
    assert.throws(
      () => at.setThreads(1, { forced: true } as never),
      /setThreads: unknown option 'forced' \(did you mean 'force'\?\); known options: force/,
    );
  });
});
