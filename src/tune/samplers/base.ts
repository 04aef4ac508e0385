// The sampler interface (Optuna's BaseSampler) and what every sampler shares.
//
// Per trial the Study calls `inferRelativeSearchSpace` and `sampleRelative` once, then
// `sampleIndependent` for each parameter the relative space did not cover.

import type { Distribution, ParamValue } from '../distributions.js';
import type { FrozenTrial, StudyView, TrialState } from '../frozen-trial.js';

export interface Sampler {
  /** params sampled jointly (multivariate TPE, grid); {} for independent-only samplers */
  inferRelativeSearchSpace(study: StudyView, trial: FrozenTrial): Record<string, Distribution>;
  sampleRelative(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue>;
  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): ParamValue;
  beforeTrial?(study: StudyView, trial: FrozenTrial): void;
  /**
   * Called once when a trial finishes. A sampler with a `constraintsFunc` writes
   * `trial.systemAttrs.constraints` here; the Study should persist the frozen trial's systemAttrs after it.
   */
  afterTrial?(study: StudyView, trial: FrozenTrial, state: TrialState, values: number[] | null): void;
  /** True when the sampler has nothing new left to propose (a grid fully taken): the Study should stop. */
  isExhausted?(study: StudyView): boolean;
}

/** Optuna's constraints_func: one value per constraint, feasible when every value is <= 0. */
export type ConstraintsFunc = (trial: FrozenTrial) => number[];

/** The system attribute that holds a trial's constraint values (as Optuna's `constraints`). */
export const CONSTRAINTS_KEY = 'constraints';

/**
 * A trial's constraint values: the stored `systemAttrs.constraints`, else `constraintsFunc(trial)`
 * when one is given (for trials finished before the attribute was persisted), else null.
 */
export function trialConstraints(trial: FrozenTrial, constraintsFunc?: ConstraintsFunc): number[] | null {
  const stored = trial.systemAttrs[CONSTRAINTS_KEY];
  if (Array.isArray(stored)) return stored as number[];
  if (constraintsFunc && trial.state === 'COMPLETE') return checkedConstraints(constraintsFunc(trial));
  return null;
}

/** Stores the constraint values of a finished trial on its systemAttrs (what afterTrial does). */
export function recordConstraints(trial: FrozenTrial, state: TrialState, constraintsFunc?: ConstraintsFunc): void {
  if (!constraintsFunc || state !== 'COMPLETE') return;
  trial.systemAttrs[CONSTRAINTS_KEY] = checkedConstraints(constraintsFunc(trial));
}

function checkedConstraints(values: unknown): number[] {
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'number' || Number.isNaN(v))) {
    throw new Error(`constraintsFunc must return an array of numbers (NaN not allowed), got ${JSON.stringify(values)}`);
  }
  return values as number[];
}

/** Total violation: the sum of the positive constraint values (0 = feasible), Optuna's rule. */
export function constraintViolation(constraints: readonly number[]): number {
  let v = 0;
  for (const c of constraints) if (c > 0) v += c;
  return v;
}

/** Sign that turns every objective into one to minimize. */
export function directionSign(direction: 'minimize' | 'maximize'): 1 | -1 {
  return direction === 'minimize' ? 1 : -1;
}
