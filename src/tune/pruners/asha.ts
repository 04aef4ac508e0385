// SuccessiveHalvingPruner: asynchronous successive halving (ASHA; Li et al. 2020, Optuna's).
// Rung r sits at step minResource·η^(minEarlyStoppingRate + r). When a trial first reports at or
// past a rung, it joins that rung and continues only if it is in the top 1/η of the rung's
// members so far (any trial that has reached the rung, finished or not).
//
// The rung members are read from the trials' intermediate values (a trial's rung value is its value
// at its first reported step at or past the rung), so no state is stored: call shouldPrune after
// every report, as a rung crossed without a check is not checked later.
// Several objectives: rank by domination count (see base.ts).

import type { FrozenTrial, StudyView } from '../frozen-trial.js';
import { countDominating, intermediateDirections, intermediateVector, type Pruner, reportedSteps } from './base.js';
import { nonNegativeInt } from './median.js';

export interface SuccessiveHalvingPrunerOptions {
  /** steps before the first rung; 'auto' = max(last step of the completed trials / 100, 1) (default) */
  minResource?: number | 'auto';
  /** η (default 4) */
  reductionFactor?: number;
  /** s: the first rung is at minResource·η^s (default 0) */
  minEarlyStoppingRate?: number;
}

export class SuccessiveHalvingPruner implements Pruner {
  private readonly minResource: number | 'auto';
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;

  constructor(options: SuccessiveHalvingPrunerOptions = {}) {
    this.minResource = options.minResource ?? 'auto';
    if (this.minResource !== 'auto' && !(this.minResource > 0)) {
      throw new Error(`SuccessiveHalvingPruner: minResource must be > 0 or 'auto', got ${String(this.minResource)}`);
    }
    this.reductionFactor = options.reductionFactor ?? 4;
    if (!(this.reductionFactor >= 2)) throw new Error(`SuccessiveHalvingPruner: reductionFactor must be >= 2, got ${this.reductionFactor}`);
    this.minEarlyStoppingRate = nonNegativeInt('minEarlyStoppingRate', options.minEarlyStoppingRate ?? 0);
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    const steps = reportedSteps(trial);
    if (steps.length === 0) return false;
    const step = steps[steps.length - 1]!;
    const previous = steps.length >= 2 ? steps[steps.length - 2]! : Number.NEGATIVE_INFINITY;
    const minResource = this.minResource === 'auto' ? estimateMinResource(study) : this.minResource;
    if (minResource === null) return false;
    const others = study.getTrials().filter((t) => t.number !== trial.number);
    for (let rung = 0; ; rung++) {
      const rungStep = minResource * this.reductionFactor ** (this.minEarlyStoppingRate + rung);
      if (step < rungStep) return false;
      if (previous >= rungStep) continue; // joined this rung at an earlier report
      const value = intermediateVector(study, trial, step)!;
      if (value.some(Number.isNaN)) return true;
      const members: number[][] = [value];
      for (const t of others) {
        const v = rungValue(study, t, rungStep);
        if (v !== null && !v.some(Number.isNaN)) members.push(v);
      }
      if (!this.promotable(study, value, members)) return true;
    }
  }

  /** In the top 1/η of the rung: at most max(⌊n/η⌋ − 1, 0) members dominate it. */
  private promotable(study: StudyView, value: number[], members: number[][]): boolean {
    const allowed = Math.max(Math.floor(members.length / this.reductionFactor) - 1, 0);
    return countDominating(value, members, intermediateDirections(study, value)) <= allowed;
  }
}

/** A trial's value at a rung: at its first reported step >= rungStep. */
function rungValue(study: StudyView, t: FrozenTrial, rungStep: number): number[] | null {
  let first = Number.POSITIVE_INFINITY;
  for (const s of t.intermediateValues.keys()) if (s >= rungStep && s < first) first = s;
  return first === Number.POSITIVE_INFINITY ? null : intermediateVector(study, t, first);
}

function estimateMinResource(study: StudyView): number | null {
  let last = -1;
  for (const t of study.getTrials({ states: ['COMPLETE'] })) for (const s of t.intermediateValues.keys()) if (s > last) last = s;
  return last < 0 ? null : Math.max(Math.floor(last / 100), 1);
}
