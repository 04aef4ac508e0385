// Messages between the coordinator (worker-pool.ts) and its worker processes (worker-entry.ts).
//
// The coordinator hands out one ticket per trial, so `nTrials` is shared by all workers and a
// ticket held by a worker that dies goes back to the pool. It also beats the heart of every
// trial its live workers run, so a worker busy in a synchronous objective is not taken for dead,
// and a worker that dies stops beating at once.

import type { FrozenTrial, TrialState } from './frozen-trial.js';
import type { Pruner } from './pruners/base.js';
import type { ConstraintsFunc, Sampler } from './samplers/base.js';
import type { HeartbeatOptions } from './study.js';

/** What a worker module exports: an objective, or a factory for one with its sampler and pruner. */
export interface ObjectiveModule {
  /** path or file: URL of an ES module */
  module: string;
  /** the export to use (default 'objective'); with `factoryOptions`, a WorkerFactory */
  exportName?: string;
  /** passed to the export when it is a factory (JSON) */
  factoryOptions?: unknown;
}

export interface WorkerBundle {
  objective: import('./optimize.js').Objective;
  sampler?: Sampler;
  pruner?: Pruner;
  constraintsFunc?: ConstraintsFunc;
  /** an error in the objective fails the trial and the worker goes on (default: the worker stops) */
  catchErrors?: boolean;
}

export type WorkerFactory = (options: unknown, context: { workerIndex: number }) => WorkerBundle | Promise<WorkerBundle>;

export interface WorkerConfig {
  storage: string;
  studyName: string;
  objective: ObjectiveModule;
  workerIndex: number;
  /** ms since epoch after which no trial starts */
  deadline: number | null;
  heartbeat: HeartbeatOptions | null;
  /** seed of the default RandomSampler (plus the worker index) when the module gives no sampler */
  seed: number | null;
}

export type ToWorker = { type: 'config'; config: WorkerConfig } | { type: 'ticket'; ok: boolean } | { type: 'stop' };

export type FromWorker =
  | { type: 'ticket' }
  | { type: 'running'; trialId: number; number: number }
  | { type: 'finished'; trialId: number; number: number; state: TrialState; values: number[] | null; failReason?: string }
  | { type: 'error'; message: string };

export function finishedMessage(t: FrozenTrial): FromWorker {
  const reason = t.systemAttrs.fail_reason;
  return {
    type: 'finished',
    trialId: t.trialId,
    number: t.number,
    state: t.state,
    values: t.values,
    ...(typeof reason === 'string' ? { failReason: reason } : {}),
  };
}
