// `attune demo` checks its options before any work: one line on stderr and exit code 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function demo(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', main, 'demo', ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('attune demo options', () => {
  const cases: [string[], RegExp][] = [
    [['--steps', 'abc'], /^error: option '--steps <n>' argument 'abc' is invalid\. expected a positive integer\.$/],
    [['--steps', '-5'], /argument '-5' is invalid\. expected a positive integer/],
    [['--steps', '0'], /argument '0' is invalid/],
    [['--steps', '2.5'], /argument '2\.5' is invalid/],
    [['--threads', 'abc'], /^error: option '--threads <n>' argument 'abc' is invalid\. expected a positive integer\.$/],
    [['--threads', '0'], /argument '0' is invalid/],
    [['--backend', 'gpu'], /^error: option '--backend <name>' argument 'gpu' is invalid\. Allowed choices are js, wasm(, native)?\.$/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')}: one line, exit code 2`, () => {
      const { status, stderr, stdout } = demo(...args);
      assert.equal(status, 2, stderr);
      assert.equal(stdout, '');
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], message);
    });
  }

  it('runs with --backend wasm and caps --threads at the cores', () => {
    const { status, stdout, stderr } = demo('--steps', '2', '--backend', 'wasm', '--threads', '64');
    assert.equal(status, 0, stderr);
    assert.match(stdout, /backend wasm, \d+ thread\(s\)/);
    assert.match(stdout, /loss \d+\.\d+ -> \d+\.\d+/);
    assert.match(stderr, /setThreads: 64 threads asked for, \d+ cores available/);
  });
});
