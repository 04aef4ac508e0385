// Storage time per trial in SQLite as a study grows: ask + 2 params + tell, timed over a window
// of trials after the study holds 1k, 10k and 100k trials. Flat is the target (the study reads
// only what changed since its last read; Optuna re-reads every trial and slows down).
//
//   node --import tsx bench/tune-storage.ts [--max 100000] [--window 1000]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Distribution, ParamValue } from '../src/tune/distributions.js';
import type { FrozenTrial, StudyView } from '../src/tune/frozen-trial.js';
import type { Sampler } from '../src/tune/samplers/base.js';
import { SqliteStorage } from '../src/tune/storage/sqlite.js';
import { createStudy } from '../src/tune/study.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const max = arg('max', 100_000);
const window = arg('window', 1000);
const marks = [1_000, 10_000, 100_000].filter((m) => m <= max);

/** A sampler that costs nothing, so the time is the storage's and the study's. */
const fixed: Sampler = {
  inferRelativeSearchSpace: () => ({}),
  sampleRelative: () => ({}),
  sampleIndependent: (_s: StudyView, t: FrozenTrial, _n: string, d: Distribution): ParamValue =>
    d.kind === 'categorical' ? d.choices[t.number % d.choices.length]! : d.low,
};

const dir = mkdtempSync(join(tmpdir(), 'attune-bench-'));
const path = join(dir, 'bench.db');
const study = await createStudy({ name: 'bench', storage: await SqliteStorage.open(path), sampler: fixed });
const storage = await SqliteStorage.open(path);
const rows: { trials: number; msPerTrial: number }[] = [];
let n = 0;
for (const mark of marks) {
  // fill quickly up to the mark through the storage (what other workers would have written)
  while (n < mark - window) {
    await storage.createTrial(study.studyId, { state: 'COMPLETE', values: [n], params: { x: 0, c: 'a' } });
    n++;
  }
  await study.refresh();
  // the median of 5 windows: the machine is shared, one window can land on someone else's burst
  const windows: number[] = [];
  for (let w = 0; w < 5; w++) {
    const t0 = performance.now();
    for (let i = 0; i < window / 5; i++, n++) {
      const t = await study.ask();
      t.suggestFloat('x', 0, 1);
      t.suggestCategorical('c', ['a', 'b']);
      await study.tell(t, i);
    }
    windows.push((performance.now() - t0) / (window / 5));
  }
  const ms = windows.sort((a, b) => a - b)[2]!;
  rows.push({ trials: mark, msPerTrial: ms });
  console.log(`${mark} trials: ${ms.toFixed(3)} ms per trial (ask + 2 params + tell, SQLite)`);
}
await storage.close();
await study.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(rows));
