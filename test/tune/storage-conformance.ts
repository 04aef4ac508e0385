// One suite, every storage (as Optuna's storage tests): memory, SQLite and PostgreSQL must
// behave the same through the Storage interface.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Storage, TrialNotRunningError } from '../../src/tune/storage/base.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function storageConformance(label: string, open: () => Promise<Storage>): void {
  describe(`storage conformance: ${label}`, () => {
    const opened: Storage[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close();
    });

    test('studies: create, get, list, attrs, duplicate and bad directions are errors', async () => {
      const s = await fresh();
      const id = await s.createStudy('a', ['minimize', 'maximize']);
      await assert.rejects(s.createStudy('a', ['minimize']), /already exists/);
      await assert.rejects(s.createStudy('b', []), /at least one/);
      await assert.rejects(s.createStudy('b', ['up' as 'minimize']), /expected 'minimize' or 'maximize', got "up"/);
      await s.setStudyUserAttr(id, 'note', { k: [1, 2] });
      await s.setStudySystemAttr(id, 'v', 3);
      const r = (await s.getStudy('a'))!;
      assert.equal(r.studyId, id);
      assert.deepEqual(r.directions, ['minimize', 'maximize']);
      assert.deepEqual(r.userAttrs, { note: { k: [1, 2] } });
      assert.deepEqual(r.systemAttrs, { v: 3 });
      assert.equal(await s.getStudy('nope'), null);
      await s.createTrial(id, { state: 'RUNNING' });
      await s.createTrial(id, { state: 'WAITING' });
      const all = await s.getAllStudies();
      assert.equal(all.length, 1);
      assert.equal(all[0]!.nTrials, 2);
      assert.deepEqual(all[0]!.stateCounts, { RUNNING: 1, WAITING: 1 });
    });

    test('trials: numbers are 0..n-1 per study, ids unique, fields round-trip (Infinity included)', async () => {
      const s = await fresh();
      const a = await s.createStudy('a', ['minimize']);
      const b = await s.createStudy('b', ['minimize']);
      const t0 = await s.createTrial(a, { state: 'RUNNING' });
      const u0 = await s.createTrial(b, { state: 'RUNNING' });
      const t1 = await s.createTrial(a, { state: 'RUNNING' });
      assert.deepEqual([t0.number, t1.number, u0.number], [0, 1, 0]);
      assert.equal(new Set([t0.trialId, t1.trialId, u0.trialId]).size, 3);
      const dist = { kind: 'float', low: 0, high: 1, log: false, step: null } as const;
      await s.updateTrial(t0.trialId, { params: { x: 0.5 }, distributions: { x: dist } });
      await s.updateTrial(t0.trialId, { params: { k: 'c' }, distributions: { k: { kind: 'categorical', choices: ['c', null] } } });
      await s.updateTrial(t0.trialId, {
        intermediateValues: [
          [0, 3],
          [1, Number.POSITIVE_INFINITY],
        ],
        userAttrs: { u: 1 },
      });
      await s.updateTrial(t0.trialId, { state: 'COMPLETE', values: [Number.NEGATIVE_INFINITY], systemAttrs: { constraints: [-1] } });
      const got = await s.getTrial(t0.trialId);
      assert.equal(got.state, 'COMPLETE');
      assert.deepEqual(got.params, { x: 0.5, k: 'c' });
      assert.deepEqual(got.distributions.x, dist);
      assert.deepEqual(got.values, [Number.NEGATIVE_INFINITY]);
      assert.deepEqual(
        [...got.intermediateValues],
        [
          [0, 3],
          [1, Number.POSITIVE_INFINITY],
        ],
      );
      assert.deepEqual(got.userAttrs, { u: 1 });
      assert.deepEqual(got.systemAttrs, { constraints: [-1] });
      assert.ok(got.datetimeStart instanceof Date && got.datetimeComplete instanceof Date);
      assert.ok(got.datetimeComplete.getTime() >= got.datetimeStart.getTime());
    });

    test('a finished trial cannot change: TrialNotRunningError', async () => {
      const s = await fresh();
      const id = await s.createStudy('a', ['minimize']);
      const t = await s.createTrial(id, { state: 'RUNNING' });
      await s.updateTrial(t.trialId, { state: 'PRUNED' });
      await assert.rejects(
        s.updateTrial(t.trialId, { userAttrs: { a: 1 } }),
        (e: unknown) => e instanceof TrialNotRunningError && /PRUNED/.test(e.message),
      );
    });

    test('getTrials since a sequence number returns only what changed', async () => {
      const s = await fresh();
      const id = await s.createStudy('a', ['minimize']);
      const ts = [];
      for (let i = 0; i < 5; i++) ts.push(await s.createTrial(id, { state: 'RUNNING' }));
      const first = await s.getTrials(id);
      assert.deepEqual(
        first.trials.map((t) => t.number),
        [0, 1, 2, 3, 4],
      );
      await s.updateTrial(ts[3]!.trialId, { state: 'COMPLETE', values: [1] });
      await s.createTrial(id, { state: 'WAITING' });
      const next = await s.getTrials(id, { sinceSeq: first.seq });
      assert.deepEqual(
        next.trials.map((t) => [t.number, t.state]),
        [
          [3, 'COMPLETE'],
          [5, 'WAITING'],
        ],
      );
      assert.deepEqual((await s.getTrials(id, { sinceSeq: next.seq })).trials, []);
    });

    test('WAITING trials are claimed oldest first, each exactly once under concurrent claims', async () => {
      const s = await fresh();
      const id = await s.createStudy('a', ['minimize']);
      for (let i = 0; i < 12; i++) await s.createTrial(id, { state: 'WAITING', systemAttrs: { fixed_params: { i } } });
      const first = (await s.claimWaitingTrial(id))!;
      assert.equal(first.number, 0);
      assert.equal(first.state, 'RUNNING');
      assert.ok(first.datetimeStart instanceof Date);
      const claims = await Promise.all(Array.from({ length: 20 }, () => s.claimWaitingTrial(id)));
      const got = claims.filter((c) => c !== null).map((c) => c!.number);
      assert.equal(got.length, 11);
      assert.equal(new Set(got).size, 11);
      assert.equal(await s.claimWaitingTrial(id), null);
    });

    test('a RUNNING trial whose heartbeat stops becomes FAIL; one that beats does not', async () => {
      const s = await fresh();
      const id = await s.createStudy('a', ['minimize']);
      const alive = await s.createTrial(id, { state: 'RUNNING' });
      const dead = await s.createTrial(id, { state: 'RUNNING' });
      const done = await s.createTrial(id, { state: 'RUNNING' });
      await s.updateTrial(done.trialId, { state: 'COMPLETE', values: [0] });
      for (let i = 0; i < 4; i++) {
        await sleep(100);
        await s.heartbeat(alive.trialId);
      }
      const failed = await s.failStaleTrials(id, 250);
      assert.deepEqual(
        failed.map((t) => [t.number, t.state]),
        [[1, 'FAIL']],
      );
      assert.equal((await s.getTrial(alive.trialId)).state, 'RUNNING');
      assert.equal((await s.getTrial(done.trialId)).state, 'COMPLETE');
      await assert.rejects(s.updateTrial(dead.trialId, { state: 'COMPLETE', values: [1] }), TrialNotRunningError);
    });

    test('deleteStudy removes the study and its trials', async () => {
      const s = await fresh();
      const id = await s.createStudy('gone', ['minimize']);
      await s.createTrial(id, { state: 'RUNNING' });
      await s.deleteStudy(id);
      assert.equal(await s.getStudy('gone'), null);
      assert.deepEqual(await s.getAllStudies(), []);
      await s.createStudy('gone', ['minimize']);
    });
  });
}
