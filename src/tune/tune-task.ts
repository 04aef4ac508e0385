// `attune tune <task>` as a library call: a resumable study on a shared storage, run by worker
// processes, with the task's default design enqueued first as the baseline to beat, progress
// events (trials done, best, Pareto size, ETA) and a clean stop on abort.

import { availableParallelism } from 'node:os';
import type { ParamValue } from './distributions.js';
import type { FrozenTrial } from './frozen-trial.js';
import { METRICS, METRICS_ATTR } from './objectives.js';
import { loadSearchSpace } from './search-space.js';
import { createStudy, type Study } from './study.js';
import type { TuneTaskOptions } from './task-objectives.js';
import { defaultCheckpointDir, pruneTrialCheckpoints } from './trial-checkpoints.js';

const MHA = { kvSharing: 'mha', attentionDropout: 0 } as const;
const TEXT_DEFAULT = { width: 256, numHeads: 4, headDim: 64, ...MHA, position: 'sinusoidal', window: -1, layers: 3, lr: 0.001 };
const TEXT_QUICK = { width: 64, numHeads: 4, headDim: 16, ...MHA, position: 'sinusoidal', window: -1, layers: 2, lr: 0.003 };

/** The design each task trains by default (trial 0 of a new study): the task's own default model. */
export const DEFAULT_DESIGNS: Record<string, Record<string, ParamValue>> = {
  image: { width: 64, numHeads: 4, headDim: 16, ...MHA, position: 'learned', layers: 4, lr: 0.002 },
  translation: TEXT_DEFAULT,
  summarization: TEXT_DEFAULT,
};

/** The same for the quick spaces (tiny widths). */
export const QUICK_DEFAULT_DESIGNS: Record<string, Record<string, ParamValue>> = {
  image: { width: 64, numHeads: 4, headDim: 16, ...MHA, position: 'learned', layers: 2, lr: 0.002 },
  translation: TEXT_QUICK,
  summarization: TEXT_QUICK,
};

export interface TuneRunOptions extends Omit<TuneTaskOptions, 'checkpointDir'> {
  /** folder of the trials' checkpoints (default: beside the SQLite file, see trial-checkpoints.ts); '' keeps none */
  checkpointDir?: string;
  storage: string;
  studyName?: string;
  /** finished trials the study should have (a re-run only runs what is missing) */
  trials: number;
  /** seconds */
  timeout?: number;
  workers: number;
  signal?: AbortSignal;
  onProgress?: (p: TuneProgress) => void;
}

export interface TuneProgress {
  done: number;
  target: number;
  last: { number: number; state: string; values: number[] | null; failReason?: string };
  best: FrozenTrial[];
  /** seconds left at the rate so far, null before the first trial */
  etaSeconds: number | null;
}

export function defaultStudyName(o: Pick<TuneTaskOptions, 'task' | 'objectives' | 'quick'>): string {
  return `${o.task}${o.quick ? '-quick' : ''}-${o.objectives.join('-')}`;
}

const FINISHED = ['COMPLETE', 'PRUNED', 'FAIL'] as const;

export interface TuneRunResult {
  study: Study;
  /** errors that stopped a worker process (not those of single trials, which FAIL and go on) */
  workerErrors: string[];
  /** where the trials' checkpoints are (the Pareto front's and the default design's are kept) */
  checkpointDir: string | undefined;
}

export async function runTuneTask(o: TuneRunOptions): Promise<TuneRunResult> {
  if (o.spacePath) await loadSearchSpace(o.spacePath); // fail here, not in every worker
  const study = await createStudy({
    name: o.studyName ?? defaultStudyName(o),
    storage: o.storage,
    directions: o.objectives.map((n) => METRICS[n]!.direction),
    loadIfExists: true,
  });
  // the report and the dashboard label the objectives by these names
  await study.setUserAttr('objectiveNames', o.objectives);
  const baseline = (o.quick ? QUICK_DEFAULT_DESIGNS : DEFAULT_DESIGNS)[o.task]!;
  if (study.trials.length === 0 && !o.spacePath) await study.enqueueTrial(baseline, { userAttrs: { baseline: true } });
  await study.refresh();
  const already = study.getTrials({ states: FINISHED }).length;
  const missing = Math.max(0, o.trials - already);
  const checkpointDir = o.checkpointDir === undefined ? defaultCheckpointDir(o.storage, study.name) : o.checkpointDir || undefined;
  if (missing === 0) return { study, workerErrors: [], checkpointDir };
  const t0 = Date.now();
  let done = already;
  const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / o.workers));
  const result = await study.optimize(
    {
      module: new URL(`./task-objectives${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href,
      exportName: 'taskWorker',
      factoryOptions: { ...o, threads, checkpointDir, signal: undefined, onProgress: undefined },
    },
    {
      workers: o.workers,
      nTrials: missing,
      timeout: o.timeout,
      signal: o.signal,
      onTrialFinished: (e) => {
        done++;
        const rate = (Date.now() - t0) / 1000 / (done - already);
        study.refresh().then(
          () => o.onProgress?.({ done, target: o.trials, last: e, best: study.bestTrials, etaSeconds: rate * (o.trials - done) }),
          () => {},
        );
      },
    },
  );
  if (checkpointDir) {
    const kept = [...study.bestTrials, ...study.trials.filter((t) => t.userAttrs.baseline)];
    pruneTrialCheckpoints(checkpointDir, study.trials, kept);
  }
  return { study, workerErrors: result?.workerErrors ?? [], checkpointDir };
}

/** One line per trial of a front: number, values, metrics and the design. */
export function describeDesign(t: FrozenTrial): string {
  const m = (t.userAttrs[METRICS_ATTR] ?? {}) as Record<string, number>;
  const metrics = Object.entries(m)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(' ');
  const params = Object.entries(t.params)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : v}`)
    .join(' ');
  return `#${t.number}${t.userAttrs.baseline ? ' (default)' : ''}  ${metrics}  |  ${params}`;
}
