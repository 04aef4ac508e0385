// PercentilePruner and MedianPruner (Optuna's): stop a trial whose best intermediate value so far
// is worse than the p-th percentile of the COMPLETE trials' values at the same step.
// Several objectives with stored intermediate vectors: prune when more than p% of those trials
// dominate the trial's vector at this step (see base.ts).

import type { FrozenTrial, StudyView } from '../frozen-trial.js';
import { countDominating, intermediateDirections, intermediateVector, lastStep, type Pruner, prunerObjectiveSign } from './base.js';

export interface PercentilePrunerOptions {
  /** trials are not pruned until this many trials have completed (default 5) */
  nStartupTrials?: number;
  /** a trial is not pruned before this step (default 0) */
  nWarmupSteps?: number;
  /** check every this many steps after the warm-up (default 1) */
  intervalSteps?: number;
  /** at least this many completed trials must have reported at the step (default 1) */
  nMinTrials?: number;
}

export class PercentilePruner implements Pruner {
  private readonly nStartupTrials: number;
  private readonly nWarmupSteps: number;
  private readonly intervalSteps: number;
  private readonly nMinTrials: number;

  constructor(
    readonly percentile: number,
    options: PercentilePrunerOptions = {},
  ) {
    if (!(percentile >= 0 && percentile <= 100)) throw new Error(`PercentilePruner: percentile must be in [0, 100], got ${percentile}`);
    this.nStartupTrials = nonNegativeInt('nStartupTrials', options.nStartupTrials ?? 5);
    this.nWarmupSteps = nonNegativeInt('nWarmupSteps', options.nWarmupSteps ?? 0);
    this.intervalSteps = nonNegativeInt('intervalSteps', options.intervalSteps ?? 1);
    if (this.intervalSteps < 1) throw new Error(`PercentilePruner: intervalSteps must be >= 1, got ${this.intervalSteps}`);
    this.nMinTrials = nonNegativeInt('nMinTrials', options.nMinTrials ?? 1);
    if (this.nMinTrials < 1) throw new Error(`PercentilePruner: nMinTrials must be >= 1, got ${this.nMinTrials}`);
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    const completed = study.getTrials({ states: ['COMPLETE'] });
    if (completed.length === 0 || completed.length < this.nStartupTrials) return false;
    const step = lastStep(trial);
    if (step === null || step < this.nWarmupSteps) return false;
    if (!this.isFirstInInterval(step, trial)) return false;
    const vector = intermediateVector(study, trial, step)!;
    if (vector.length > 1) return this.pruneDominated(study, vector, step, completed);

    const sign = prunerObjectiveSign(study);
    let best = Number.NaN;
    for (const v of trial.intermediateValues.values()) if (!Number.isNaN(v) && (Number.isNaN(best) || sign * v < sign * best)) best = v;
    if (Number.isNaN(best)) return true;
    const peers: number[] = [];
    for (const t of completed) {
      const v = t.intermediateValues.get(step);
      if (v !== undefined && !Number.isNaN(v)) peers.push(v);
    }
    if (peers.length < this.nMinTrials) return false;
    const p = percentileOf(peers, sign === 1 ? this.percentile : 100 - this.percentile);
    return sign === 1 ? best > p : best < p;
  }

  private pruneDominated(study: StudyView, vector: number[], step: number, completed: FrozenTrial[]): boolean {
    if (vector.some(Number.isNaN)) return true;
    const peers: number[][] = [];
    for (const t of completed) {
      const v = intermediateVector(study, t, step);
      if (v !== null && !v.some(Number.isNaN)) peers.push(v);
    }
    if (peers.length < this.nMinTrials) return false;
    return countDominating(vector, peers, intermediateDirections(study, vector)) > (this.percentile / 100) * peers.length;
  }

  /** True when no earlier report of the trial falls in the same checking interval as `step`. */
  private isFirstInInterval(step: number, trial: FrozenTrial): boolean {
    const nearestLower = Math.floor((step - this.nWarmupSteps) / this.intervalSteps) * this.intervalSteps + this.nWarmupSteps;
    let secondLast = -1;
    for (const s of trial.intermediateValues.keys()) if (s > secondLast && s !== step) secondLast = s;
    return secondLast < nearestLower;
  }
}

export type MedianPrunerOptions = PercentilePrunerOptions;

export class MedianPruner extends PercentilePruner {
  constructor(options: MedianPrunerOptions = {}) {
    super(50, options);
  }
}

/** The q-th percentile with linear interpolation between order statistics (numpy's default). */
export function percentileOf(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function nonNegativeInt(name: string, x: number): number {
  if (!(Number.isInteger(x) && x >= 0)) throw new Error(`pruner: ${name} must be an integer >= 0, got ${x}`);
  return x;
}
