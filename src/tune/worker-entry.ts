// A worker process: loads the study and the objective module, then runs ask -> objective -> tell
// for as long as the coordinator hands it tickets. Started by worker-pool.ts with fork().

import { pathToFileURL } from 'node:url';
import { type Objective, optimizeLocal } from './optimize.js';
import { RandomSampler } from './samplers/random.js';
import { loadStudy } from './study.js';
import {
  type FromWorker,
  finishedMessage,
  type ToWorker,
  type WorkerBundle,
  type WorkerConfig,
  type WorkerFactory,
} from './worker-protocol.js';

function send(m: FromWorker): void {
  process.send!(m);
}

let ticketWaiter: ((ok: boolean) => void) | null = null;
let stopping = false;

async function loadBundle(config: WorkerConfig): Promise<WorkerBundle> {
  const spec = config.objective;
  const url = spec.module.startsWith('file:') ? spec.module : pathToFileURL(spec.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const name = spec.exportName ?? 'objective';
  const exported = mod[name];
  if (typeof exported !== 'function') throw new Error(`worker: ${spec.module} has no function export '${name}'`);
  if (spec.factoryOptions === undefined) return { objective: exported as Objective };
  return (exported as WorkerFactory)(spec.factoryOptions, { workerIndex: config.workerIndex });
}

async function run(config: WorkerConfig): Promise<void> {
  const bundle = await loadBundle(config);
  const study = await loadStudy({
    name: config.studyName,
    storage: config.storage,
    sampler: bundle.sampler ?? new RandomSampler({ seed: config.seed === null ? undefined : config.seed + config.workerIndex }),
    pruner: bundle.pruner,
    constraintsFunc: bundle.constraintsFunc,
    // the coordinator beats for this process; the worker only fails and retries stale trials
    heartbeat: config.heartbeat ? { ...config.heartbeat, beatInProcess: false } : undefined,
  });
  const acquire = (): Promise<boolean> => {
    if (stopping || (config.deadline !== null && Date.now() >= config.deadline)) return Promise.resolve(false);
    return new Promise((resolve) => {
      ticketWaiter = resolve;
      send({ type: 'ticket' });
    });
  };
  try {
    await optimizeLocal(study, bundle.objective, {
      acquire,
      catch: bundle.catchErrors ? [Error] : [],
      onStart: (t) => send({ type: 'running', trialId: t.trialId, number: t.number }),
      callbacks: [(_s, t) => send(finishedMessage(t))],
    });
  } finally {
    await study.close();
  }
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'config') {
    run(m.config).then(
      () => process.disconnect?.(),
      (e: unknown) => {
        send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        process.exitCode = 1;
        process.disconnect?.();
      },
    );
  } else if (m.type === 'ticket') {
    const w = ticketWaiter;
    ticketWaiter = null;
    w?.(m.ok);
  } else if (m.type === 'stop') {
    stopping = true;
  }
});
// the coordinator died: stop starting trials (the running one finishes)
process.on('disconnect', () => {
  stopping = true;
  ticketWaiter?.(false);
});
// Ctrl-C reaches the whole process group: the coordinator decides, the worker finishes its trial
process.on('SIGINT', () => {
  stopping = true;
});
