// study.optimize(): a loop of ask -> objective -> tell (Optuna's _optimize). With `workers`,
// separate processes run the same loop on a shared storage (worker-pool.ts).

import type { FrozenTrial } from './frozen-trial.js';
import type { Study } from './study.js';
import { type Trial, TrialPruned } from './trial.js';

export type Objective = (trial: Trial) => number | readonly number[] | Promise<number | readonly number[]>;

export interface OptimizeOptions {
  /** trials to run (default: until timeout or abort) */
  nTrials?: number;
  /** stop starting trials after this many seconds */
  timeout?: number;
  /** error classes that fail the trial but not the study; other errors fail the trial and are rethrown */
  catch?: ReadonlyArray<new (...args: never[]) => Error>;
  /** called after each finished trial */
  callbacks?: ReadonlyArray<(study: Study, trial: FrozenTrial) => void | Promise<void>>;
  /** stop after the running trial (Ctrl-C) */
  signal?: AbortSignal;
  /**
   * Asked before each trial whether it may start (worker processes ask their coordinator);
   * false ends the loop. Overrides nTrials counting when given.
   */
  acquire?: () => Promise<boolean>;
  /** called when a trial has started (worker processes tell their coordinator) */
  onStart?: (trial: Trial) => void;
}

/** Runs trials in this process until nTrials, timeout, abort or an exhausted sampler (a full grid); returns the trials it finished. */
export async function optimizeLocal(study: Study, objective: Objective, options: OptimizeOptions = {}): Promise<FrozenTrial[]> {
  const { nTrials, timeout, signal } = options;
  if (nTrials !== undefined && !(Number.isInteger(nTrials) && nTrials >= 0))
    throw new Error(`optimize: nTrials must be an integer >= 0, got ${nTrials}`);
  if (timeout !== undefined && !(timeout > 0)) throw new Error(`optimize: timeout must be > 0 seconds, got ${timeout}`);
  const deadline = timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeout * 1000;
  const done: FrozenTrial[] = [];
  for (let i = 0; ; i++) {
    if (signal?.aborted || Date.now() >= deadline) break;
    if (study.sampler.isExhausted) {
      await study.refresh();
      if (study.isExhausted()) break;
    }
    if (options.acquire ? !(await options.acquire()) : nTrials !== undefined && i >= nTrials) break;
    const frozen = await runTrial(study, objective, options);
    done.push(frozen);
    for (const cb of options.callbacks ?? []) await cb(study, frozen);
  }
  return done;
}

/** One ask -> objective -> tell. TrialPruned gives PRUNED; a caught error FAIL; others FAIL and rethrow. */
export async function runTrial(
  study: Study,
  objective: Objective,
  options: Pick<OptimizeOptions, 'catch' | 'onStart'> = {},
): Promise<FrozenTrial> {
  const trial = await study.ask();
  options.onStart?.(trial);
  let result: number | readonly number[];
  try {
    result = await objective(trial);
  } catch (e) {
    if (e instanceof TrialPruned) {
      trial.setSystemAttr('prune_reason', e.message);
      return study.tell(trial, 'pruned');
    }
    trial.setSystemAttr('fail_reason', e instanceof Error ? e.message : String(e));
    const frozen = await study.tell(trial, 'failed');
    if ((options.catch ?? []).some((cls) => e instanceof cls)) return frozen;
    throw e;
  }
  if (!isValues(result, study.directions.length)) {
    await study.tell(trial, 'failed');
    throw new Error(
      `objective of trial ${trial.number} returned ${JSON.stringify(result)}: expected ${study.directions.length === 1 ? 'a number' : `${study.directions.length} numbers`}`,
    );
  }
  return study.tell(trial, result);
}

function isValues(r: unknown, n: number): r is number | readonly number[] {
  if (typeof r === 'number') return n === 1;
  return Array.isArray(r) && r.length === n && r.every((v) => typeof v === 'number');
}
