// `attune study list|show|best|export-csv`: reads studies from a storage and prints them.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { toCsv, trialsTable } from '../tune/export.js';
import type { FrozenTrial } from '../tune/frozen-trial.js';
import { redactUrl } from '../tune/storage/base.js';
import { openStorage } from '../tune/storage/open.js';
import { loadStudy, type Study } from '../tune/study.js';

export const DEFAULT_STORAGE = 'sqlite:attune.db';

const fmt = (v: number | undefined | null) => (v === undefined || v === null ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(5));

function describeTrial(t: FrozenTrial): string {
  const params = Object.entries(t.params)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
    .join(' ');
  const c = t.systemAttrs.constraints;
  const cons = Array.isArray(c) ? `  constraints [${c.map((x) => fmt(x as number)).join(', ')}]` : '';
  const why = t.systemAttrs.fail_reason ?? t.systemAttrs.prune_reason;
  const reason = typeof why === 'string' ? `  (${why})` : '';
  return `#${t.number}  ${t.state}  values [${(t.values ?? []).map(fmt).join(', ')}]  ${params}${cons}${reason}`;
}

async function withStudy(name: string, storage: string, fn: (s: Study) => void | Promise<void>): Promise<void> {
  const study = await loadStudy({ name, storage });
  try {
    await fn(study);
  } finally {
    await study.close();
  }
}

export async function studyList(storageUrl: string): Promise<void> {
  const storage = await openStorage(storageUrl);
  try {
    const studies = await storage.getAllStudies();
    if (studies.length === 0) console.log(`no studies in ${redactUrl(storageUrl)}`);
    for (const s of studies) {
      const counts = Object.entries(s.stateCounts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      console.log(
        `${s.name}  [${s.directions.join(', ')}]  ${s.nTrials} trials${counts ? ` (${counts})` : ''}  since ${s.datetimeStart.toISOString()}`,
      );
    }
  } finally {
    await storage.close();
  }
}

export async function studyShow(name: string, storage: string): Promise<void> {
  await withStudy(name, storage, (s) => {
    console.log(`study ${s.name}  directions [${s.directions.join(', ')}]  ${s.trials.length} trials`);
    for (const t of s.trials) console.log(describeTrial(t));
  });
}

export async function studyBest(name: string, storage: string): Promise<void> {
  await withStudy(name, storage, (s) => {
    const best = s.bestTrials;
    if (best.length === 0) throw new Error(`study '${name}' has no COMPLETE feasible trial yet`);
    console.log(s.directions.length === 1 ? 'best trial:' : `Pareto front (${best.length} trials):`);
    for (const t of s.directions.length === 1 ? [s.bestTrial] : best) console.log(describeTrial(t));
  });
}

export async function studyExportCsv(name: string, storage: string, out: string | undefined): Promise<void> {
  await withStudy(name, storage, (s) => {
    const csv = toCsv(trialsTable(s.trials, s.directions));
    if (out) {
      writeFileSync(out, csv);
      console.log(`wrote ${s.trials.length} trials to ${out}`);
    } else process.stdout.write(csv);
  });
}

/** Prints an error as one line (no stack) and sets the exit code. */
export function reportErrors<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      console.error(`attune: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  };
}

export function registerStudyCommands(program: Command): void {
  const study = program.command('study').description('list, show and export tuning studies');
  const storageOpt = ['--storage <url>', "storage: 'sqlite:path', a .db file or 'postgres://...'", DEFAULT_STORAGE] as const;
  study
    .command('list')
    .description('studies in a storage')
    .option(...storageOpt)
    .action(reportErrors((o: { storage: string }) => studyList(o.storage)));
  study
    .command('show <name>')
    .description('every trial of a study')
    .option(...storageOpt)
    .action(reportErrors((name: string, o: { storage: string }) => studyShow(name, o.storage)));
  study
    .command('best <name>')
    .description('the best trial, or the Pareto front of a multi-objective study')
    .option(...storageOpt)
    .action(reportErrors((name: string, o: { storage: string }) => studyBest(name, o.storage)));
  study
    .command('export-csv <name>')
    .description('trials as CSV (one column per value, parameter and user attribute)')
    .option(...storageOpt)
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(reportErrors((name: string, o: { storage: string; out?: string }) => studyExportCsv(name, o.storage, o.out)));
}
