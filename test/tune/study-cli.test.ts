// trialsTable/toCsv and `attune study list|show|best|export-csv` on a SQLite study.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { toCsv, trialsTable } from '../../src/tune/export.js';
import { createStudy } from '../../src/tune/study.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'attune-cli-'));
const db = join(dir, 'studies.db');
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'study', ...args, '--storage', `sqlite:${db}`]);

before(async () => {
  const s = await createStudy({ name: 'pareto', storage: `sqlite:${db}`, directions: ['maximize', 'minimize'] });
  for (const [bleu, ms] of [
    [20, 3],
    [25, 5],
    [24, 6],
  ] as const) {
    const t = await s.ask();
    t.suggestCategorical('numHeads', [2, 4, 8]);
    t.setUserAttr('note', 'a, "quoted" note');
    await s.tell(t, [bleu, ms]);
  }
  await s.tell(await s.ask(), 'failed');
  await s.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('study export and CLI', () => {
  test('trialsTable has one column per value, param and user attr; CSV quotes what needs quoting', async () => {
    const s = await createStudy({ name: 'pareto', storage: `sqlite:${db}`, loadIfExists: true });
    const table = trialsTable(s.trials, s.directions);
    assert.deepEqual(table.columns.slice(0, 4), ['number', 'state', 'values_0', 'values_1']);
    assert.ok(table.columns.includes('params_numHeads') && table.columns.includes('user_attrs_note'));
    const csv = toCsv(table).trim().split('\n');
    assert.equal(csv.length, 5);
    assert.match(csv[1]!, /^0,COMPLETE,20,3,/);
    assert.match(csv[1]!, /,"a, ""quoted"" note",$/);
    assert.match(csv[4]!, /^3,FAIL,,,/);
    await s.close();
  });

  test('list, best (the Pareto front), export-csv to a file; unknown study and non-study file fail clearly', async () => {
    const list = await cli('list');
    assert.match(list.stdout, /^pareto {2}\[maximize, minimize\] {2}4 trials \(COMPLETE 3, FAIL 1\)/);
    const best = await cli('best', 'pareto');
    assert.match(best.stdout, /Pareto front \(2 trials\):\n#0 {2}COMPLETE {2}values \[20, 3\]/);
    assert.match(best.stdout, /#1 {2}COMPLETE {2}values \[25, 5\]/);
    const out = join(dir, 'trials.csv');
    await cli('export-csv', 'pareto', '--out', out);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 5);
    await assert.rejects(cli('show', 'nope'), (e: { stderr: string; code: number }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /attune: study 'nope' not found in sqlite:.*studies\.db \(studies: pareto\)/);
      return true;
    });
    const notes = join(dir, 'notes.db');
    writeFileSync(notes, 'not a database at all\n'.repeat(50));
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'study', 'list', '--storage', notes]),
      /is not an attune study database/,
    );
  });

  test('attune tune: an unknown task or objective is a one-line error (constraints: search-space.test.ts)', async () => {
    const tune = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tune', ...args, '--storage', `sqlite:${db}`]);
    await assert.rejects(tune('speech'), /attune: tune: unknown task 'speech'; expected one of image, translation, summarization/);
    await assert.rejects(
      tune('image', '--objectives', 'bleu'),
      /unknown metric 'bleu' for this task; expected one of accuracy, latency, memory, params/,
    );
  });
});
