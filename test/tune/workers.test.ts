// Reliability of worker processes on a shared storage: 8 workers × 400 trials on SQLite and on
// PostgreSQL (none lost, none run twice, no lock error), a worker killed with SIGKILL mid-trial
// (its trial becomes FAIL after the heartbeat timeout, is retried, and the study finishes), and
// a PostgreSQL server restarted mid-study (workers retry; no completed trial is lost).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createStudy, type Study } from '../../src/tune/study.js';
import type { ObjectiveModule } from '../../src/tune/worker-protocol.js';
import type { FixtureOptions } from './fixtures/objective.js';
import { type PostgresServer, startPostgres } from './postgres-server.js';

const dir = mkdtempSync(join(tmpdir(), 'attune-workers-'));
const fixture = new URL('./fixtures/objective.ts', import.meta.url).pathname;
let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function objective(name: string, options: Omit<FixtureOptions, 'log'> = {}): { spec: ObjectiveModule; log: string } {
  const log = join(dir, `${name}.log`);
  return { spec: { module: fixture, exportName: 'worker', factoryOptions: { log, ...options } }, log };
}

/** Trial numbers each run of the objective logged (one line per run). */
function runs(log: string): number[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[0]));
}

async function eightByFourHundred(study: Study, name: string): Promise<void> {
  const { spec, log } = objective(name);
  const result = (await study.optimize(spec, { workers: 8, nTrials: 400, seed: 1 }))!;
  assert.deepEqual(result.workerErrors, []);
  assert.equal(result.killed, 0);
  assert.equal(result.finished, 400);
  const ran = runs(log);
  assert.equal(ran.length, 400, 'objective runs');
  assert.equal(new Set(ran).size, 400, 'no trial ran twice');
  const complete = study.getTrials({ states: ['COMPLETE'] });
  assert.equal(complete.length, 400);
  assert.equal(study.trials.length, 400, 'no trial left RUNNING, WAITING or FAIL');
  assert.deepEqual(
    complete.map((t) => t.number),
    Array.from({ length: 400 }, (_, i) => i),
  );
  for (const n of ran) assert.equal(study.trials[n]!.state, 'COMPLETE');
}

describe('worker processes', { timeout: 120_000 }, () => {
  test('8 workers, 400 trials on SQLite: none lost, none twice, no lock error', async () => {
    const study = await createStudy({ name: 'w8', storage: `sqlite:${join(dir, 'w8.db')}` });
    await eightByFourHundred(study, 'sqlite8');
    await study.close();
  });

  test('8 workers, 400 trials on PostgreSQL: none lost, none twice', async () => {
    const study = await createStudy({ name: 'w8', storage: await server.newDatabase() });
    await eightByFourHundred(study, 'pg8');
    await study.close();
  });

  test('a worker killed with SIGKILL mid-trial: its trial becomes FAIL after the heartbeat timeout, is retried, and the study finishes', async () => {
    const study = await createStudy({
      name: 'kill',
      storage: `sqlite:${join(dir, 'kill.db')}`,
      heartbeat: { intervalMs: 100, graceMs: 500, retryFailedTrials: true },
    });
    const { spec, log } = objective('kill', { sleepMs: 60 });
    let victim: { number: number; pid: number } | null = null;
    const result = (await study.optimize(spec, {
      workers: 3,
      nTrials: 60,
      onTrialStarted: (e) => {
        if (victim === null && e.number >= 6) {
          victim = { number: e.number, pid: e.pid };
          setTimeout(() => process.kill(e.pid, 'SIGKILL'), 30); // mid-trial: after its params, before its result
        }
      },
    }))!;
    assert.ok(victim, 'a worker was killed');
    const killed = victim as { number: number; pid: number };
    assert.equal(result.killed, 1);
    assert.deepEqual(result.workerErrors, []);
    const dead = study.trials[killed.number]!;
    assert.equal(dead.state, 'FAIL');
    const retry = study.trials.find((t) => JSON.stringify(t.systemAttrs.retry_of) === JSON.stringify([killed.number]));
    assert.ok(retry, 'the failed trial was re-enqueued');
    assert.equal(retry.state, 'COMPLETE');
    assert.deepEqual(retry.params, dead.params);
    assert.equal(study.getTrials({ states: ['COMPLETE'] }).length, 60);
    assert.ok(!runs(log).includes(killed.number), 'the killed run never logged a result');
    await study.close();
  });

  test('a worker blocked in a synchronous objective longer than the grace period is not taken for dead', async () => {
    const study = await createStudy({
      name: 'busy',
      storage: `sqlite:${join(dir, 'busy.db')}`,
      heartbeat: { intervalMs: 100, graceMs: 400, retryFailedTrials: true },
    });
    const { spec } = objective('busy', { busyMs: 1000 });
    const result = (await study.optimize(spec, { workers: 2, nTrials: 4 }))!;
    assert.deepEqual(result.workerErrors, []);
    assert.deepEqual(
      study.trials.map((t) => t.state),
      ['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE'],
    );
    await study.close();
  });

  test('abort (Ctrl-C) stops after the running trials, leaves none RUNNING, and a second run resumes the study', async () => {
    const storage = `sqlite:${join(dir, 'abort.db')}`;
    const study = await createStudy({ name: 'abort', storage });
    const { spec, log } = objective('abort', { sleepMs: 100 });
    const ac = new AbortController();
    const first = (await study.optimize(spec, {
      workers: 2,
      nTrials: 50,
      signal: ac.signal,
      onTrialFinished: (e) => {
        if (e.number >= 2) ac.abort();
      },
    }))!;
    assert.ok(first.finished >= 3 && first.finished < 10, `${first.finished} trials before the stop`);
    assert.deepEqual(study.getTrials({ states: ['RUNNING', 'WAITING', 'FAIL'] }), []);
    const again = await createStudy({ name: 'abort', storage, loadIfExists: true });
    await again.optimize(spec, { workers: 2, nTrials: 4 });
    assert.equal(again.getTrials({ states: ['COMPLETE'] }).length, first.finished + 4);
    assert.equal(new Set(runs(log)).size, first.finished + 4);
    await study.close();
    await again.close();
  });

  test('PostgreSQL restarted mid-study: workers retry and no completed trial is lost', async () => {
    const study = await createStudy({
      name: 'restart',
      storage: await server.newDatabase(),
      heartbeat: { intervalMs: 200, graceMs: 10_000 },
    });
    const { spec, log } = objective('restart', { sleepMs: 20 });
    let restarted: Promise<void> | null = null;
    const result = (await study.optimize(spec, {
      workers: 4,
      nTrials: 120,
      onTrialFinished: (e) => {
        if (restarted === null && e.number >= 30) restarted = server.restart();
      },
    }))!;
    assert.ok(restarted, 'the server was restarted');
    await restarted;
    assert.deepEqual(result.workerErrors, []);
    assert.equal(result.finished, 120);
    const ran = runs(log);
    assert.equal(new Set(ran).size, ran.length, 'no trial ran twice');
    for (const n of ran) assert.equal(study.trials[n]!.state, 'COMPLETE', `trial ${n} ran to the end and is COMPLETE`);
    assert.equal(study.getTrials({ states: ['COMPLETE'] }).length, 120);
    await study.close();
  });
});
