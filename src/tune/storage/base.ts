// The storage interface (Optuna's BaseStorage) that memory, SQLite and PostgreSQL implement,
// and the errors every storage throws. One conformance suite (test/tune/storage-conformance.ts)
// runs against all of them.
//
// Only the process that runs a trial writes it (through updateTrial, while it is RUNNING); other
// processes change a trial only by claiming a WAITING one or by failing a RUNNING one whose
// heartbeat stopped. Every write bumps the study's sequence number, so a reader can fetch what
// changed since its last read (`getTrials(studyId, { sinceSeq })`) in time that does not grow
// with the number of trials.

import type { Distribution, ParamValue } from '../distributions.js';
import type { FrozenTrial, StudyDirection, TrialState } from '../frozen-trial.js';

export interface StudyRecord {
  studyId: number;
  name: string;
  directions: StudyDirection[];
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  datetimeStart: Date;
}

export interface StudySummary extends StudyRecord {
  nTrials: number;
  stateCounts: Partial<Record<TrialState, number>>;
}

/** What a new trial starts with: RUNNING for ask(), WAITING for enqueueTrial(), or a finished trial (addTrial). */
export interface TrialTemplate {
  state: TrialState;
  params?: Record<string, ParamValue>;
  distributions?: Record<string, Distribution>;
  values?: number[] | null;
  intermediateValues?: Map<number, number>;
  userAttrs?: Record<string, unknown>;
  systemAttrs?: Record<string, unknown>;
}

/** Fields to merge into a RUNNING trial. A state other than RUNNING finishes it. */
export interface TrialUpdate {
  state?: TrialState;
  values?: number[] | null;
  params?: Record<string, ParamValue>;
  distributions?: Record<string, Distribution>;
  intermediateValues?: ReadonlyArray<readonly [number, number]>;
  userAttrs?: Record<string, unknown>;
  systemAttrs?: Record<string, unknown>;
}

export interface TrialsSince {
  trials: FrozenTrial[];
  /** pass back as sinceSeq to get only what changed after this read */
  seq: number;
}

/** A storage URL fit for messages and pages: a password in `scheme://user:password@host` becomes ***. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][\w+.-]*:\/\/[^:/@?#]*):[^@/?#]*@/i, '$1:***@');
}

export interface Storage {
  /** A short URL-like description (`memory`, `sqlite:path`, `postgres://host/db`), for messages and worker processes. */
  readonly url: string;
  createStudy(name: string, directions: readonly StudyDirection[]): Promise<number>;
  getStudy(name: string): Promise<StudyRecord | null>;
  getAllStudies(): Promise<StudySummary[]>;
  deleteStudy(studyId: number): Promise<void>;
  setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void>;
  setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void>;

  createTrial(studyId: number, template: TrialTemplate): Promise<FrozenTrial>;
  /** Atomically turns the oldest WAITING trial into RUNNING and returns it; null when none waits. */
  claimWaitingTrial(studyId: number): Promise<FrozenTrial | null>;
  /** Merges into a RUNNING trial; throws TrialNotRunningError when it has finished (or was failed as stale). */
  updateTrial(trialId: number, update: TrialUpdate): Promise<void>;
  getTrial(trialId: number): Promise<FrozenTrial>;
  /** Trials ordered by number; with sinceSeq, only those written after that sequence number. */
  getTrials(studyId: number, options?: { sinceSeq?: number }): Promise<TrialsSince>;

  /** Records that the RUNNING trial's worker is alive. */
  heartbeat(trialId: number): Promise<void>;
  /** Fails RUNNING trials whose last heartbeat is older than graceMs; returns the trials it failed. */
  failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]>;
  close(): Promise<void>;
}

export class StudyNotFoundError extends Error {
  constructor(name: string, where: string) {
    super(`study '${name}' not found in ${where}`);
    this.name = 'StudyNotFoundError';
  }
}

export class DuplicatedStudyError extends Error {
  constructor(name: string, where: string) {
    super(`study '${name}' already exists in ${where} (pass loadIfExists: true to resume it)`);
    this.name = 'DuplicatedStudyError';
  }
}

export class TrialNotRunningError extends Error {
  constructor(trialId: number, state: TrialState) {
    super(`trial ${trialId} is ${state}, not RUNNING: it can't be changed any more`);
    this.name = 'TrialNotRunningError';
  }
}

export class NotAStudyDatabaseError extends Error {
  constructor(where: string, why: string) {
    super(`${where} is not an attune study database: ${why}`);
    this.name = 'NotAStudyDatabaseError';
  }
}

/** The current schema version; storages migrate older ones and refuse newer ones. */
export const SCHEMA_VERSION = 1;

export function checkDirections(directions: readonly StudyDirection[]): void {
  if (directions.length === 0) throw new Error('directions: expected at least one of minimize/maximize, got []');
  for (const d of directions) {
    if (d !== 'minimize' && d !== 'maximize') throw new Error(`directions: expected 'minimize' or 'maximize', got ${JSON.stringify(d)}`);
  }
}

/** Checks the values of a COMPLETE trial: one finite-or-infinite number per direction (NaN is not a value). */
export function checkValues(values: readonly number[] | null | undefined, nDirections: number): void {
  if (!values || values.length !== nDirections) {
    throw new Error(`a COMPLETE trial needs ${nDirections} value(s), one per direction, got ${JSON.stringify(values)}`);
  }
  for (const v of values)
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`trial values must be numbers, got ${JSON.stringify(values)}`);
}

/** Shared JSON shape of a trial row (SQLite and PostgreSQL store the same columns). */
export interface TrialRow {
  trial_id: number;
  number: number;
  state: TrialState;
  params: string;
  distributions: string;
  trial_values: string | null;
  intermediate: string;
  user_attrs: string;
  system_attrs: string;
  datetime_start: number | null;
  datetime_complete: number | null;
}

export function rowToTrial(r: TrialRow): FrozenTrial {
  const pairs = JSON.parse(r.intermediate) as [number, number][];
  return {
    number: Number(r.number),
    trialId: Number(r.trial_id),
    state: r.state,
    params: JSON.parse(r.params),
    distributions: JSON.parse(r.distributions),
    values: r.trial_values === null ? null : decodeValues(JSON.parse(r.trial_values)),
    intermediateValues: new Map(pairs.map(([s, v]) => [s, decodeNumber(v)])),
    userAttrs: JSON.parse(r.user_attrs),
    systemAttrs: JSON.parse(r.system_attrs),
    datetimeStart: r.datetime_start === null ? null : new Date(Number(r.datetime_start)),
    datetimeComplete: r.datetime_complete === null ? null : new Date(Number(r.datetime_complete)),
  };
}

/** JSON has no Infinity: store ±Infinity as strings. */
export function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function decodeNumber(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

export function encodeValues(values: readonly number[]): string {
  return JSON.stringify(values.map(encodeNumber));
}

function decodeValues(v: (number | string)[]): number[] {
  return v.map(decodeNumber);
}

export function encodeIntermediate(m: Map<number, number>): string {
  return JSON.stringify([...m].map(([s, v]) => [s, encodeNumber(v)]));
}

/** Applies an update to a trial in memory (the storages use it for their read-merge-write). */
export function mergeUpdate(t: FrozenTrial, u: TrialUpdate, now: Date): FrozenTrial {
  const next: FrozenTrial = {
    ...t,
    params: u.params ? { ...t.params, ...u.params } : t.params,
    distributions: u.distributions ? { ...t.distributions, ...u.distributions } : t.distributions,
    userAttrs: u.userAttrs ? { ...t.userAttrs, ...u.userAttrs } : t.userAttrs,
    systemAttrs: u.systemAttrs ? { ...t.systemAttrs, ...u.systemAttrs } : t.systemAttrs,
    intermediateValues: t.intermediateValues,
  };
  if (u.intermediateValues) {
    next.intermediateValues = new Map(t.intermediateValues);
    for (const [s, v] of u.intermediateValues) next.intermediateValues.set(s, v);
  }
  if (u.values !== undefined) next.values = u.values ? [...u.values] : null;
  if (u.state !== undefined && u.state !== t.state) {
    next.state = u.state;
    if (u.state !== 'RUNNING' && u.state !== 'WAITING') next.datetimeComplete = now;
  }
  return next;
}

/** The columns a trial update writes, before `seq` (every SQL storage), and their values from a merged trial. */
export const TRIAL_UPDATE_COLUMNS = [
  'state',
  'params',
  'distributions',
  'trial_values',
  'intermediate',
  'user_attrs',
  'system_attrs',
  'datetime_complete',
] as const;

export function trialUpdateValues(t: FrozenTrial): (string | number | null)[] {
  return [
    t.state,
    JSON.stringify(t.params),
    JSON.stringify(t.distributions),
    t.values ? encodeValues(t.values) : null,
    encodeIntermediate(t.intermediateValues),
    JSON.stringify(t.userAttrs),
    JSON.stringify(t.systemAttrs),
    t.datetimeComplete ? t.datetimeComplete.getTime() : null,
  ];
}
