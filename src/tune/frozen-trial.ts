// A trial as stored: an immutable snapshot that samplers, pruners and storages
// pass around (Optuna's FrozenTrial). Live trials are in trial.ts.

import type { Distribution, ParamValue } from './distributions.js';

export type TrialState = 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL' | 'WAITING';
export type StudyDirection = 'minimize' | 'maximize';

export const TRIAL_STATES: readonly TrialState[] = ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'];

export interface FrozenTrial {
  /** 0-based within the study */
  number: number;
  /** storage-wide id */
  trialId: number;
  state: TrialState;
  /** external values */
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  /** one per direction when COMPLETE */
  values: number[] | null;
  /** step -> value (first objective) */
  intermediateValues: Map<number, number>;
  userAttrs: Record<string, unknown>;
  /** e.g. constraints: number[] (<= 0 feasible), fixed_params */
  systemAttrs: Record<string, unknown>;
  datetimeStart: Date | null;
  datetimeComplete: Date | null;
}

/** The read-only view a sampler or pruner gets (implemented by Study in study.ts). */
export interface StudyView {
  readonly directions: readonly StudyDirection[];
  /** ordered by number */
  getTrials(options?: { states?: readonly TrialState[] }): FrozenTrial[];
}

/** True when every systemAttrs.constraints entry is <= 0, or when the trial has none. */
export function isFeasible(t: FrozenTrial): boolean {
  const c = t.systemAttrs.constraints;
  if (!Array.isArray(c)) return true;
  return c.every((v) => typeof v === 'number' && v <= 0);
}

/** True when the state is final (the trial will not change any more). */
export function isFinished(state: TrialState): boolean {
  return state === 'COMPLETE' || state === 'PRUNED' || state === 'FAIL';
}

/** True when a dominates b: no worse in every objective and better in one. */
export function dominates(a: readonly number[], b: readonly number[], directions: readonly StudyDirection[]): boolean {
  let better = false;
  for (let i = 0; i < directions.length; i++) {
    const sign = directions[i] === 'minimize' ? 1 : -1;
    const x = sign * a[i]!;
    const y = sign * b[i]!;
    if (x > y) return false;
    if (x < y) better = true;
  }
  return better;
}

/** A deep copy, so a caller can't change what a storage holds. */
export function cloneTrial(t: FrozenTrial): FrozenTrial {
  return {
    ...t,
    params: { ...t.params },
    distributions: { ...t.distributions },
    values: t.values ? [...t.values] : null,
    intermediateValues: new Map(t.intermediateValues),
    userAttrs: structuredClone(t.userAttrs),
    systemAttrs: structuredClone(t.systemAttrs),
    datetimeStart: t.datetimeStart ? new Date(t.datetimeStart) : null,
    datetimeComplete: t.datetimeComplete ? new Date(t.datetimeComplete) : null,
  };
}
