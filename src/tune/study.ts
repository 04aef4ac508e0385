// A study (Optuna's Study): a named set of trials in a storage, optimised in one or several
// directions. ask() and tell() are the only way a trial starts and finishes; optimize() (in
// optimize.ts) and the worker processes are loops over them.
//
// The study keeps a cache of its trials and refreshes it incrementally (only trials written
// since the last read), so samplers and pruners get a synchronous StudyView whose cost does not
// grow with the number of trials in the storage.

import type { Distribution, ParamValue } from './distributions.js';
import {
  dominates,
  type FrozenTrial,
  isFeasible,
  isFinished,
  type StudyDirection,
  type StudyView,
  type TrialState,
} from './frozen-trial.js';
import { type Objective, type OptimizeOptions, optimizeLocal } from './optimize.js';
import type { Pruner } from './pruners/base.js';
import type { ConstraintsFunc, Sampler } from './samplers/base.js';
import { RandomSampler } from './samplers/random.js';
import {
  checkValues,
  DuplicatedStudyError,
  redactUrl,
  type Storage,
  StudyNotFoundError,
  TrialNotRunningError,
  type TrialUpdate,
} from './storage/base.js';
import { openStorage } from './storage/open.js';
import { Trial, type TrialHost } from './trial.js';
import { runWorkerPool, type WorkerPoolOptions, type WorkerPoolResult } from './worker-pool.js';
import type { ObjectiveModule } from './worker-protocol.js';

export interface HeartbeatOptions {
  /** how often a running trial records that its worker is alive, ms */
  intervalMs: number;
  /** a RUNNING trial without a heartbeat for this long becomes FAIL (default 2 × interval), ms */
  graceMs?: number;
  /** fail stale trials at each ask() (default true) */
  failStaleTrials?: boolean;
  /** re-enqueue a stale trial's parameters as a WAITING trial (default false), at most this many times if a number */
  retryFailedTrials?: boolean | number;
  /** beat from a timer in this process (default true); worker processes leave it to their coordinator */
  beatInProcess?: boolean;
}

export interface StudyOptions {
  name: string;
  /** a Storage, or 'memory' (default), 'sqlite:path', a path ending in .db/.sqlite, or 'postgres://...' */
  storage?: Storage | string;
  directions?: readonly StudyDirection[];
  direction?: StudyDirection;
  sampler?: Sampler;
  pruner?: Pruner;
  /** one value per constraint, feasible when all are <= 0; stored as systemAttrs.constraints */
  constraintsFunc?: ConstraintsFunc;
  heartbeat?: HeartbeatOptions;
}

export type TellResult = number | readonly number[] | 'pruned' | 'failed';

export const FIXED_PARAMS_KEY = 'fixed_params';
export const RETRY_OF_KEY = 'retry_of';

export async function createStudy(options: StudyOptions & { loadIfExists?: boolean }): Promise<Study> {
  const storage = await openStorage(options.storage ?? 'memory');
  const directions = options.directions ?? [options.direction ?? 'minimize'];
  let record = await storage.getStudy(options.name);
  if (record && !options.loadIfExists) throw new DuplicatedStudyError(options.name, redactUrl(storage.url));
  if (!record) {
    try {
      await storage.createStudy(options.name, directions);
    } catch (e) {
      // another worker created it between our read and our write
      if (!(e instanceof DuplicatedStudyError && options.loadIfExists)) throw e;
    }
    record = (await storage.getStudy(options.name))!;
  }
  if (options.directions && record.directions.join() !== options.directions.join()) {
    throw new Error(`study '${options.name}' has directions [${record.directions}], asked for [${options.directions}]`);
  }
  const study = new Study(storage, record.studyId, record.name, record.directions, options);
  await study.refresh();
  return study;
}

export async function loadStudy(options: Omit<StudyOptions, 'directions' | 'direction'>): Promise<Study> {
  const storage = await openStorage(options.storage ?? 'memory');
  const record = await storage.getStudy(options.name);
  if (!record) {
    const names = (await storage.getAllStudies()).map((s) => s.name);
    throw new StudyNotFoundError(options.name, `${redactUrl(storage.url)} (studies: ${names.length ? names.join(', ') : 'none'})`);
  }
  const study = new Study(storage, record.studyId, record.name, record.directions, options);
  await study.refresh();
  return study;
}

export async function deleteStudy(options: { name: string; storage: Storage | string }): Promise<void> {
  const storage = await openStorage(options.storage);
  const record = await storage.getStudy(options.name);
  if (!record) throw new StudyNotFoundError(options.name, redactUrl(storage.url));
  await storage.deleteStudy(record.studyId);
}

export class Study implements StudyView, TrialHost {
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly constraintsFunc: ConstraintsFunc | undefined;
  readonly heartbeat: HeartbeatOptions | undefined;
  private cache: FrozenTrial[] = [];
  private seq = -1;
  private beats = new Map<number, ReturnType<typeof setInterval>>();

  constructor(
    readonly storage: Storage,
    readonly studyId: number,
    readonly name: string,
    readonly directions: readonly StudyDirection[],
    options: Omit<StudyOptions, 'directions' | 'direction'>,
  ) {
    this.sampler = options.sampler ?? new RandomSampler({});
    this.pruner = options.pruner ?? { prune: () => false };
    this.constraintsFunc = options.constraintsFunc;
    this.heartbeat = options.heartbeat;
  }

  /** Reads what changed in the storage since the last refresh. */
  async refresh(): Promise<void> {
    const { trials, seq } = await this.storage.getTrials(this.studyId, { sinceSeq: this.seq });
    for (const t of trials) this.cache[t.number] = t;
    this.seq = seq;
  }

  getTrials(options: { states?: readonly TrialState[] } = {}): FrozenTrial[] {
    const all = this.cache.filter((t) => t !== undefined);
    return options.states ? all.filter((t) => options.states!.includes(t.state)) : all;
  }

  /** All trials as of the last refresh (ask, tell and optimize refresh). */
  get trials(): FrozenTrial[] {
    return this.getTrials();
  }

  /** The best COMPLETE (and feasible) trial of a single-objective study. */
  get bestTrial(): FrozenTrial {
    if (this.directions.length !== 1)
      throw new Error(`bestTrial: the study has ${this.directions.length} objectives; use bestTrials (the Pareto front)`);
    const sign = this.directions[0] === 'minimize' ? 1 : -1;
    let best: FrozenTrial | null = null;
    for (const t of this.completeFeasible()) if (!best || sign * t.values![0]! < sign * best.values![0]!) best = t;
    if (!best) throw new Error(`bestTrial: study '${this.name}' has no COMPLETE${this.constraintsFunc ? ' feasible' : ''} trial yet`);
    return best;
  }

  get bestValue(): number {
    return this.bestTrial.values![0]!;
  }

  get bestParams(): Record<string, ParamValue> {
    return this.bestTrial.params;
  }

  /** The Pareto front: COMPLETE feasible trials that no other one dominates, ordered by number. */
  get bestTrials(): FrozenTrial[] {
    const done = this.completeFeasible();
    return done.filter((t) => !done.some((o) => dominates(o.values!, t.values!, this.directions)));
  }

  async setUserAttr(key: string, value: unknown): Promise<void> {
    await this.storage.setStudyUserAttr(this.studyId, key, value);
  }

  /** Adds a WAITING trial whose parameters are fixed; the next ask() runs it. */
  async enqueueTrial(
    params: Record<string, ParamValue>,
    options: { userAttrs?: Record<string, unknown>; skipIfExists?: boolean } = {},
  ): Promise<void> {
    if (options.skipIfExists) {
      await this.refresh();
      const same = (t: FrozenTrial) => JSON.stringify(t.systemAttrs[FIXED_PARAMS_KEY] ?? t.params) === JSON.stringify(params);
      if (this.cache.some((t) => t && same(t))) return;
    }
    await this.storage.createTrial(this.studyId, {
      state: 'WAITING',
      userAttrs: options.userAttrs,
      systemAttrs: { [FIXED_PARAMS_KEY]: params },
    });
  }

  /** Starts a trial: a WAITING one if any (enqueued or retried), else a new one; samples relative params. */
  async ask(fixedDistributions: Record<string, Distribution> = {}): Promise<Trial> {
    if (this.heartbeat && (this.heartbeat.failStaleTrials ?? true)) await this.failStale();
    const frozen =
      (await this.storage.claimWaitingTrial(this.studyId)) ?? (await this.storage.createTrial(this.studyId, { state: 'RUNNING' }));
    await this.refresh();
    this.startHeartbeat(frozen.trialId);
    const fixed = (frozen.systemAttrs[FIXED_PARAMS_KEY] ?? {}) as Record<string, ParamValue>;
    const before = structuredClone(frozen.systemAttrs);
    this.sampler.beforeTrial?.(this, frozen);
    const space = this.sampler.inferRelativeSearchSpace(this, frozen);
    const relative = Object.keys(space).length > 0 ? this.sampler.sampleRelative(this, frozen, space) : {};
    const trial = new Trial(this, frozen, fixed, relative, space);
    // what the sampler wrote on the trial (a grid point's id, ...) is stored so other workers see it
    persistSystemAttrs(trial, before, frozen.systemAttrs);
    for (const [name, d] of Object.entries(fixedDistributions)) trial.suggest(name, d);
    return trial;
  }

  /** Finishes a trial: values make it COMPLETE (NaN makes it FAIL, as in Optuna), or 'pruned' / 'failed'. */
  async tell(trial: Trial, result: TellResult): Promise<FrozenTrial> {
    this.stopHeartbeat(trial.trialId);
    let writeError: unknown = null;
    await trial.flush().catch((e: unknown) => {
      writeError = e;
    });
    let state: TrialState;
    let values: number[] | null = null;
    if (result === 'pruned') state = 'PRUNED';
    else if (result === 'failed') state = 'FAIL';
    else {
      values = typeof result === 'number' ? [result] : [...result];
      if (values.some((v) => Number.isNaN(v))) {
        state = 'FAIL';
        values = null;
      } else {
        checkValues(values, this.directions.length);
        state = 'COMPLETE';
      }
    }
    const frozen = trial.snapshot();
    frozen.state = state;
    frozen.values = values;
    if (state === 'COMPLETE' && this.constraintsFunc) frozen.systemAttrs.constraints = checkConstraints(this.constraintsFunc(frozen));
    this.sampler.afterTrial?.(this, frozen, state, values);
    const update: TrialUpdate = { state, values, systemAttrs: frozen.systemAttrs };
    await this.storage.updateTrial(trial.trialId, update);
    if (writeError) throw writeError;
    const stored = await this.storage.getTrial(trial.trialId);
    this.cache[stored.number] = stored;
    return stored;
  }

  // TrialHost: what a Trial calls back.
  sampleParam(trial: Trial, name: string, distribution: Distribution): ParamValue {
    const frozen = trial.snapshot();
    const before = structuredClone(frozen.systemAttrs);
    const value = this.sampler.sampleIndependent(this, frozen, name, distribution);
    persistSystemAttrs(trial, before, frozen.systemAttrs);
    return value;
  }

  /** True when the sampler has nothing left to propose (a grid fully taken): optimize() stops. */
  isExhausted(): boolean {
    return this.sampler.isExhausted?.(this) ?? false;
  }

  async pruneCheck(trial: Trial): Promise<boolean> {
    await this.refresh();
    return this.pruner.prune(this, trial.snapshot());
  }

  writeTrial(trialId: number, update: TrialUpdate): Promise<void> {
    return this.storage.updateTrial(trialId, update);
  }

  /**
   * Runs trials until nTrials, timeout or abort. An objective function runs in this process; an
   * ObjectiveModule runs in `workers` separate processes that share this study's storage.
   */
  async optimize(
    objective: Objective | ObjectiveModule,
    options: OptimizeOptions & { workers?: number; seed?: number } & Pick<
        WorkerPoolOptions,
        'onTrialStarted' | 'onTrialFinished' | 'onWorkerExit'
      > = {},
  ): Promise<WorkerPoolResult | null> {
    if (typeof objective === 'function') {
      if ((options.workers ?? 1) > 1) {
        throw new Error(
          'optimize: workers > 1 run in separate processes and need the objective as a module ({ module, exportName }), not a function',
        );
      }
      await optimizeLocal(this, objective, options);
      await this.refresh();
      return null;
    }
    const result = await runWorkerPool({
      storage: this.storage.url,
      studyName: this.name,
      objective,
      workers: options.workers ?? 1,
      nTrials: options.nTrials,
      timeout: options.timeout,
      heartbeat: this.heartbeat,
      seed: options.seed,
      signal: options.signal,
      onTrialStarted: options.onTrialStarted,
      onTrialFinished: options.onTrialFinished,
      onWorkerExit: options.onWorkerExit,
    });
    await this.refresh();
    return result;
  }

  /** Stops heartbeats and closes the storage. */
  async close(): Promise<void> {
    for (const id of [...this.beats.keys()]) this.stopHeartbeat(id);
    await this.storage.close();
  }

  private completeFeasible(): FrozenTrial[] {
    return this.getTrials({ states: ['COMPLETE'] }).filter((t) => isFeasible(t));
  }

  private startHeartbeat(trialId: number): void {
    if (!this.heartbeat || this.heartbeat.beatInProcess === false) return;
    const beat = setInterval(() => {
      this.storage.heartbeat(trialId).catch(() => {
        // a missed beat is retried at the next interval; the grace period covers a few
      });
    }, this.heartbeat.intervalMs);
    beat.unref();
    this.beats.set(trialId, beat);
  }

  private stopHeartbeat(trialId: number): void {
    const beat = this.beats.get(trialId);
    if (beat !== undefined) clearInterval(beat);
    this.beats.delete(trialId);
  }

  private async failStale(): Promise<void> {
    const hb = this.heartbeat!;
    const failed = await this.storage.failStaleTrials(this.studyId, hb.graceMs ?? 2 * hb.intervalMs);
    const maxRetries = hb.retryFailedTrials === true ? 3 : hb.retryFailedTrials || 0;
    for (const t of failed) {
      const chain = (t.systemAttrs[RETRY_OF_KEY] as number[] | undefined) ?? [];
      if (chain.length >= maxRetries) continue;
      await this.storage.createTrial(this.studyId, {
        state: 'WAITING',
        userAttrs: t.userAttrs,
        systemAttrs: { [FIXED_PARAMS_KEY]: t.params, [RETRY_OF_KEY]: [...chain, t.number] },
      });
    }
  }
}

/** Writes the system attributes that a sampler added or changed on a trial's snapshot. */
function persistSystemAttrs(trial: Trial, before: Record<string, unknown>, after: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) trial.setSystemAttr(key, value);
  }
}

function checkConstraints(c: unknown): number[] {
  if (!Array.isArray(c) || c.some((v) => typeof v !== 'number' || Number.isNaN(v))) {
    throw new Error(`constraintsFunc must return an array of numbers (<= 0 feasible), got ${JSON.stringify(c)}`);
  }
  return c as number[];
}

export { isFinished, TrialNotRunningError };
