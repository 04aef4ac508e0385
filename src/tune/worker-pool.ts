// The coordinator of worker processes: forks W workers on one shared storage, hands out one
// ticket per trial (nTrials is shared), beats the heart of each running trial while its worker
// lives, and reports progress. A worker killed mid-trial gives its ticket back; its trial becomes
// FAIL when another worker sees the heartbeat stopped (and is re-enqueued if asked).

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrialState } from './frozen-trial.js';
import type { Storage } from './storage/base.js';
import { openStorage } from './storage/open.js';
import type { HeartbeatOptions } from './study.js';
import type { FromWorker, ObjectiveModule, ToWorker, WorkerConfig } from './worker-protocol.js';

export interface WorkerPoolOptions {
  storage: string;
  studyName: string;
  objective: ObjectiveModule;
  workers: number;
  nTrials?: number;
  /** seconds */
  timeout?: number;
  /** default: beat every 1 s, fail after 10 s without a beat */
  heartbeat?: HeartbeatOptions;
  seed?: number;
  signal?: AbortSignal;
  onTrialStarted?: (event: { number: number; workerIndex: number; pid: number }) => void;
  onTrialFinished?: (event: {
    number: number;
    state: TrialState;
    values: number[] | null;
    workerIndex: number;
    failReason?: string;
  }) => void;
  onWorkerExit?: (event: { workerIndex: number; code: number | null; signal: NodeJS.Signals | null; error: string | null }) => void;
}

export interface WorkerPoolResult {
  /** trials finished by live workers (COMPLETE, PRUNED or FAIL) */
  finished: number;
  states: Partial<Record<TrialState, number>>;
  workerErrors: string[];
  /** workers that died from a signal */
  killed: number;
}

interface WorkerState {
  child: ChildProcess;
  index: number;
  /** holds a ticket whose trial has not finished */
  holding: boolean;
  running: number | null;
  error: string | null;
}

function workerEntryPath(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`./worker-entry${ext}`, import.meta.url));
}

export async function runWorkerPool(options: WorkerPoolOptions): Promise<WorkerPoolResult> {
  if (!(Number.isInteger(options.workers) && options.workers >= 1))
    throw new Error(`workers must be an integer >= 1, got ${options.workers}`);
  if (options.storage === 'memory') {
    throw new Error("workers need a storage that processes share ('sqlite:path' or 'postgres://...'), got 'memory'");
  }
  const heartbeat = options.heartbeat ?? { intervalMs: 1000, graceMs: 10_000 };
  const storage = await openStorage(options.storage);
  const result: WorkerPoolResult = { finished: 0, states: {}, workerErrors: [], killed: 0 };
  let granted = 0;
  const budgetLeft = () => (options.nTrials === undefined ? true : granted < options.nTrials);
  const deadline = options.timeout === undefined ? null : Date.now() + options.timeout * 1000;
  const workers: WorkerState[] = [];
  const beat = setInterval(() => beatAll(storage, workers), heartbeat.intervalMs);

  const exits = Array.from({ length: options.workers }, (_, index) => {
    const child = fork(workerEntryPath(), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w: WorkerState = { child, index, holding: false, running: null, error: null };
    workers.push(w);
    const config: WorkerConfig = {
      storage: options.storage,
      studyName: options.studyName,
      objective: options.objective,
      workerIndex: index,
      deadline,
      heartbeat,
      seed: options.seed ?? null,
    };
    const send = (m: ToWorker) => {
      if (child.connected) child.send(m);
    };
    send({ type: 'config', config });
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ticket') {
        const ok = !options.signal?.aborted && budgetLeft();
        if (ok) {
          granted++;
          w.holding = true;
        }
        send({ type: 'ticket', ok });
      } else if (m.type === 'running') {
        w.running = m.trialId;
        options.onTrialStarted?.({ number: m.number, workerIndex: index, pid: child.pid! });
      } else if (m.type === 'finished') {
        w.holding = false;
        w.running = null;
        result.finished++;
        result.states[m.state] = (result.states[m.state] ?? 0) + 1;
        options.onTrialFinished?.({ number: m.number, state: m.state, values: m.values, workerIndex: index, failReason: m.failReason });
      } else if (m.type === 'error') {
        w.error = m.message;
      }
    });
    return new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        if (w.holding) granted--; // its trial never finished: the ticket goes back
        w.holding = false;
        w.running = null;
        if (signal) result.killed++;
        else if (code !== 0) result.workerErrors.push(w.error ?? `worker ${index} exited with code ${code}`);
        options.onWorkerExit?.({ workerIndex: index, code, signal, error: w.error });
        resolve();
      });
    });
  });
  const onAbort = () => {
    for (const w of workers) if (w.child.connected) w.child.send({ type: 'stop' } satisfies ToWorker);
  };
  options.signal?.addEventListener('abort', onAbort);
  try {
    await Promise.all(exits);
  } finally {
    clearInterval(beat);
    options.signal?.removeEventListener('abort', onAbort);
    await storage.close();
  }
  return result;
}

function beatAll(storage: Storage, workers: readonly WorkerState[]): void {
  for (const w of workers) {
    if (w.running !== null && w.child.exitCode === null && w.child.signalCode === null) {
      storage.heartbeat(w.running).catch(() => {
        // retried at the next beat; the grace period covers a few misses
      });
    }
  }
}
