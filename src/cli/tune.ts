// `attune tune <task>`: parses options and runs src/tune/tune-task.ts. Ctrl-C stops after the
// running trials; the same command again resumes the study.

import { basename, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { METRICS, parseConstraint, parseObjectives } from '../tune/objectives.js';
import { redactUrl } from '../tune/storage/base.js';
import { PRUNERS, type PrunerName, TASK_METRICS, TUNE_TASKS, type TuneTask } from '../tune/task-objectives.js';
import { defaultStudyName, describeDesign, runTuneTask } from '../tune/tune-task.js';
import { writeStudyReport } from './report.js';
import { DEFAULT_STORAGE, reportErrors } from './study.js';

interface TuneFlags {
  trials: string;
  timeout?: string;
  workers: string;
  storage: string;
  objectives?: string;
  constraint: string[];
  study?: string;
  space?: string;
  minutesPerTrial?: string;
  epochsPerTrial?: string;
  trainLimit?: string;
  sampler?: 'tpe' | 'random' | 'nsga2';
  pruner: string;
  evaluations?: string;
  backend?: string;
  threads?: string;
  quick: boolean;
  checkpoints?: string;
  report?: string;
  seed: string;
}

function positive(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n)))
    throw new Error(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

const fmtEta = (s: number | null) => (s === null ? '?' : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

async function tune(taskName: string, f: TuneFlags): Promise<void> {
  if (!TUNE_TASKS.includes(taskName as TuneTask))
    throw new Error(`tune: unknown task '${taskName}'; expected one of ${TUNE_TASKS.join(', ')}`);
  const task = taskName as TuneTask;
  const available = TASK_METRICS[task];
  const { names } = parseObjectives(f.objectives ?? `${available[0]},latency`, available);
  const constraints = f.constraint.map((c) => parseConstraint(c, available));
  if (f.sampler && !['tpe', 'random', 'nsga2'].includes(f.sampler))
    throw new Error(`--sampler: expected tpe, random or nsga2, got '${f.sampler}'`);
  if (!PRUNERS.includes(f.pruner as PrunerName)) throw new Error(`--pruner: expected ${PRUNERS.join(', ')}, got '${f.pruner}'`);
  if (f.backend && !['js', 'wasm', 'native'].includes(f.backend))
    throw new Error(`--backend: expected js, wasm or native, got '${f.backend}'`);
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    console.log('\nstopping after the running trials finish (Ctrl-C again to quit now); the same command resumes the study');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  const studyName = f.study ?? defaultStudyName({ task, objectives: names, quick: f.quick });
  const directions = names.map((n) => `${n} (${METRICS[n]!.direction})`).join(', ');
  console.log(
    `tuning ${task}${f.quick ? ' (quick: tiny models on a slice of the data)' : ''}: study '${studyName}' in ${redactUrl(f.storage)}, objectives ${directions}${constraints.length ? `, constraints ${f.constraint.join(', ')}` : ''}, pruner ${f.pruner}`,
  );
  const { study, workerErrors, checkpointDir } = await runTuneTask({
    task,
    objectives: names,
    constraints,
    spacePath: f.space,
    minutesPerTrial: positive('minutes-per-trial', f.minutesPerTrial, false),
    epochsPerTrial: positive('epochs-per-trial', f.epochsPerTrial, true),
    trainLimit: positive('train-limit', f.trainLimit, true),
    sampler: f.sampler,
    pruner: f.pruner as PrunerName,
    evaluations: positive('evaluations', f.evaluations, true),
    backend: f.backend,
    threads: positive('threads', f.threads, true),
    quick: f.quick,
    checkpointDir: f.checkpoints,
    seed: Number(f.seed),
    storage: f.storage,
    studyName,
    trials: positive('trials', f.trials, true)!,
    timeout: positive('timeout', f.timeout, false),
    workers: positive('workers', f.workers, true)!,
    signal: ac.signal,
    onProgress: (p) => {
      const best = names.length === 1 ? `best ${p.best[0]?.values?.[0]?.toPrecision(4) ?? '-'}` : `Pareto front ${p.best.length}`;
      const why = p.last.failReason ? ` (${p.last.failReason.split('\n')[0]})` : '';
      console.log(
        `[${p.done}/${p.target}] trial #${p.last.number} ${p.last.state}${why} [${(p.last.values ?? []).map((v) => v.toPrecision(4)).join(', ')}]  ${best}  ETA ${fmtEta(p.etaSeconds)}`,
      );
    },
  });
  process.off('SIGINT', onSigint);
  const front = study.bestTrials;
  console.log(names.length === 1 ? 'best design:' : `Pareto front (${front.length} designs):`);
  for (const t of names.length === 1 ? front.slice(0, 1) : front) console.log(`  ${describeDesign(t)}`);
  const baseline = study.trials.find((t) => t.userAttrs.baseline && t.state === 'COMPLETE');
  if (baseline && !front.includes(baseline)) console.log(`  default design: ${describeDesign(baseline)}`);
  const counts: Record<string, number> = {};
  for (const t of study.trials) counts[t.state] = (counts[t.state] ?? 0) + 1;
  console.log(
    `trials: ${Object.entries(counts)
      .map(([s, n]) => `${n} ${s.toLowerCase()}`)
      .join(', ')}`,
  );
  await study.close();
  if (f.report !== 'none') {
    const out = f.report ?? `${studyName.replace(/[^\w.-]+/g, '_')}-report.html`;
    await writeStudyReport(studyName, f.storage, out);
    console.log(`report: ${resolve(out)}${checkpointDir ? ` (checkpoints of the front in ${checkpointDir})` : ''}`);
  }
  const storage = quoteArg(f.storage);
  console.log(`study: attune study show ${quoteArg(studyName)} --storage ${redactUrl(storage)}; the same command resumes it`);
  if (f.quick) {
    console.log(
      `full study (full-size models and data, 1 min of training per trial, 60 trials: about an hour on 2 cores):\n  ${selfCommand()} tune ${task} --trials 60 --workers 2 --objectives ${names.join(',')} --study ${task}-full`,
    );
  }
  if (workerErrors.length) throw new Error(`a worker process stopped: ${workerErrors[0]}`);
}

/** How this command was started, for printing the next one: `attune` when installed, else `node <script>`. */
function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (script.includes('/node_modules/') || basename(script) === 'attune') return 'attune';
  return ['node', ...process.execArgv, relative(process.cwd(), script) || script].map(quoteArg).join(' ');
}

const quoteArg = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function registerTuneCommand(program: Command): void {
  program
    .command('tune <task>')
    .description(`tune the attention design of a task (${TUNE_TASKS.join(', ')}): Pareto front of quality, latency, memory, parameters`)
    .option('--trials <n>', 'finished trials the study should have (re-running resumes)', '20')
    .option('--timeout <s>', 'stop starting trials after this many seconds')
    .option('--workers <w>', 'worker processes', '1')
    .option('--storage <url>', "'sqlite:path', a .db file or 'postgres://...'", DEFAULT_STORAGE)
    .option('--objectives <list>', 'comma-separated: the quality metric, latency, memory, params (default: quality,latency)')
    .option(
      '--constraint <c>',
      "e.g. 'latency<=5ms', 'params<=200k' (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--study <name>', 'study name (default: task-objectives)')
    .option('--space <file>', 'search space as a JSON or TS file (default: the task preset)')
    .option('--minutes-per-trial <m>', 'training time of one trial (default 1)')
    .option('--epochs-per-trial <n>', 'training epochs of one trial instead of minutes')
    .option('--train-limit <n>', 'training examples used (small for quick studies)')
    .option('--sampler <name>', 'tpe, random or nsga2 (default: tpe for one objective, nsga2 for several)')
    .option('--pruner <name>', `stops poor trials at their validation evaluations: ${PRUNERS.join(', ')}`, 'median')
    .option('--evaluations <n>', 'validation evaluations per trial, each reported to the pruner (default 4)')
    .option('--quick', 'tiny models on a slice of the data: a study of minutes (what npm start runs)', false)
    .option('--backend <name>', 'kernel backend of the workers: native, wasm or js (default: the fastest that loads)')
    .option('--threads <n>', 'kernel threads per worker (default: the cores shared among the workers)')
    .option('--checkpoints <dir>', "trials' checkpoints (default: <storage file>-checkpoints/<study>; '' keeps none)")
    .option('--report <file>', "the study's HTML report (default <study>-report.html; 'none' skips it)")
    .option('--seed <n>', 'seed of the samplers and the models', '1')
    .action(reportErrors((task: string, f: TuneFlags) => tune(task, f)));
}
