// `attune tune` from the command line: a quick two-worker study on SQLite prints its Pareto
// front, writes the report and resumes when run again; bad options get clear errors.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'attune-tune-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tune', ...args], { timeout: 400_000 });

describe('attune tune', () => {
  test('a quick image study with two workers: front, report, and a second run resumes without new trials', async () => {
    const db = join(dir, 's.db');
    const report = join(dir, 'r.html');
    const args = ['image', '--quick', '--trials', '3', '--workers', '2', '--epochs-per-trial', '1', '--train-limit', '300'];
    const { stdout } = await cli(...args, '--storage', `sqlite:${db}`, '--report', report, '--threads', '1');
    assert.match(stdout, /tuning image \(quick: tiny models on a slice of the data\): study 'image-quick-accuracy-latency'/);
    assert.match(stdout, /\[3\/3\] trial #\d COMPLETE/);
    assert.match(stdout, /Pareto front \(\d designs\):\n {2}#\d/);
    assert.match(stdout, /trials: 3 complete/);
    assert.match(
      stdout,
      new RegExp(`report: ${report.replace(/[.]/g, '\\.')} \\(checkpoints of the front in .*s-checkpoints/image-quick-accuracy-latency\\)`),
    );
    assert.match(
      stdout,
      /full study .*\n {2}node --import tsx src\/cli\/main\.ts tune image --trials 60 --workers 2 --objectives accuracy,latency/,
    );
    assert.match(readFileSync(report, 'utf8'), /Attention of the best trial's model/);
    assert.ok(existsSync(join(dir, 's-checkpoints', 'image-quick-accuracy-latency')));
    const again = await cli(...args, '--storage', `sqlite:${db}`, '--report', 'none', '--threads', '1');
    assert.doesNotMatch(again.stdout, /\[\d+\/3\] trial/, 'the study has its 3 trials: nothing runs');
    assert.match(again.stdout, /trials: 3 complete/);
  });

  test('bad options are named with what was expected', async () => {
    for (const [flag, value, message] of [
      ['--pruner', 'often', /--pruner: expected median, asha, hyperband, none, got 'often'/],
      ['--backend', 'gpu', /--backend: expected js, wasm or native, got 'gpu'/],
      ['--evaluations', '0', /--evaluations: expected a positive integer, got '0'/],
    ] as const) {
      await assert.rejects(cli('image', flag, value, '--storage', `sqlite:${join(dir, 'bad.db')}`), (e: { stderr: string }) => {
        assert.match(e.stderr, message);
        return true;
      });
    }
  });
});
