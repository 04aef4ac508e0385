// `attune report <study>`: writes the study's tuning report as one
// self-contained HTML file. `attune serve`: the live dashboard.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ParamValue } from '../tune/distributions.js';
import { redactUrl } from '../tune/storage/base.js';
import { openStorage } from '../tune/storage/open.js';
import { loadStudy } from '../tune/study.js';
import { Dashboard } from '../viz/dashboard-server.js';
import { renderStudyReport } from '../viz/report.js';
import { bestTrialAttention } from '../viz/trial-attention.js';
import { exitTwoOnUsageErrors, numberOption, usageError } from './options.js';

import { DEFAULT_STORAGE } from './study.js';

/**
 * Writes the report of one study to `out` and returns the path. The best trial's attention maps
 * are drawn when a trial kept its checkpoint (`attune tune` saves them); a checkpoint that fails
 * to load is reported through `warn` and the report is written without the maps.
 */
export async function writeStudyReport(
  name: string,
  storage: string,
  out: string,
  warn: (line: string) => void = (line) => console.warn(line),
): Promise<string> {
  const study = await loadStudy({ name, storage });
  try {
    const attr = (await study.storage.getStudy(name))?.userAttrs.objectiveNames;
    const objectiveNames = Array.isArray(attr) ? attr.map(String) : undefined;
    let attention: ReturnType<typeof bestTrialAttention> = null;
    try {
      attention = bestTrialAttention(study.trials, study.directions, objectiveNames);
    } catch (e) {
      warn(`report: no attention maps: ${(e as Error).message}`);
    }
    const html = renderStudyReport(
      { name: study.name, directions: study.directions, trials: study.trials, objectiveNames },
      attention ? { bestTrialAttention: attention.maps, bestTrialCaption: attention.caption } : {},
    );
    writeFileSync(out, html);
    return out;
  } finally {
    await study.close();
  }
}

export function registerReportCommands(program: Command): void {
  exitTwoOnUsageErrors(
    program
      .command('report')
      .description("write a study's tuning report (one self-contained HTML file)")
      .argument('<study>', 'study name')
      .option('--storage <url>', `sqlite:path or postgres://… (default ${DEFAULT_STORAGE})`, DEFAULT_STORAGE)
      .option('--out <file>', 'output file (default <study>-report.html)')
      .action(async (name: string, flags: { storage: string; out?: string }) => {
        const out = flags.out ?? `${name.replace(/[^\w.-]+/g, '_')}-report.html`;
        try {
          console.log(`wrote ${await writeStudyReport(name, flags.storage, out)}`);
        } catch (e) {
          usageError('report', (e as Error).message);
        }
      }),
  );
  exitTwoOnUsageErrors(
    program
      .command('serve')
      .description('a live dashboard of the studies in a storage')
      .option('--storage <url>', `sqlite:path or postgres://… (default ${DEFAULT_STORAGE})`, DEFAULT_STORAGE)
      .option('--port <n>', 'port (default 8080; 0 picks a free one)', '8080')
      .option('--host <address>', 'address to bind (default 127.0.0.1: this machine only)', '127.0.0.1')
      .option('--allow-write', 'allow enqueueing trials from the dashboard (read-only otherwise)', false)
      .action(async (flags: { storage: string; port: string; host: string; allowWrite: boolean }) => {
        const port = numberOption('serve', '--port', flags.port, { integer: true, min: 0, max: 65535 }) as number;
        if (!['127.0.0.1', 'localhost', '::1'].includes(flags.host)) {
          console.warn(`attune serve: warning: binding to ${flags.host} lets other machines read these studies`);
        }
        let storage: Awaited<ReturnType<typeof openStorage>>;
        try {
          storage = await openStorage(flags.storage);
        } catch (e) {
          usageError('serve', (e as Error).message);
        }
        const dashboard = new Dashboard({
          storage,
          host: flags.host,
          port,
          allowWrite: flags.allowWrite,
          enqueue: async (name, params) => {
            const study = await loadStudy({ name, storage });
            await study.enqueueTrial(params as Record<string, ParamValue>);
            await study.close();
          },
        });
        const url = await dashboard.listen();
        console.log(`attune serve: ${url} (${redactUrl(storage.url)}${flags.allowWrite ? ', writable' : ', read-only'}); Ctrl-C stops`);
        process.once('SIGINT', () => {
          void dashboard.close().then(() => storage.close());
        });
      }),
  );
}
