// HyperbandPruner (Li et al. 2018, Optuna's): several successive-halving brackets with different
// first rungs (minEarlyStoppingRate = 0 … nBrackets−1), so some trials get a long run before they
// are judged. Each trial belongs to one bracket, picked by a hash of its number with odds
// ⌈nBrackets·η^s/(s+1)⌉ (s = nBrackets−1−bracket), and is compared only with its bracket's trials.

import type { FrozenTrial, StudyView, TrialState } from '../frozen-trial.js';
import { SuccessiveHalvingPruner } from './asha.js';
import type { Pruner } from './base.js';

export interface HyperbandPrunerOptions {
  /** steps of the shortest bracket's first rung (default 1) */
  minResource?: number;
  /** the longest run's steps; 'auto' = 1 + the last step of the trials completed when first needed (default) */
  maxResource?: number | 'auto';
  /** η (default 3) */
  reductionFactor?: number;
}

export class HyperbandPruner implements Pruner {
  private readonly minResource: number;
  private maxResource: number | 'auto';
  readonly reductionFactor: number;
  private brackets: SuccessiveHalvingPruner[] = [];
  private budgets: number[] = [];

  constructor(options: HyperbandPrunerOptions = {}) {
    this.minResource = options.minResource ?? 1;
    if (!(this.minResource > 0)) throw new Error(`HyperbandPruner: minResource must be > 0, got ${this.minResource}`);
    this.maxResource = options.maxResource ?? 'auto';
    if (this.maxResource !== 'auto' && !(this.maxResource >= this.minResource)) {
      throw new Error(
        `HyperbandPruner: maxResource must be >= minResource (${this.minResource}) or 'auto', got ${String(this.maxResource)}`,
      );
    }
    this.reductionFactor = options.reductionFactor ?? 3;
    if (!(this.reductionFactor >= 2)) throw new Error(`HyperbandPruner: reductionFactor must be >= 2, got ${this.reductionFactor}`);
    if (this.maxResource !== 'auto') this.build(this.maxResource);
  }

  get nBrackets(): number {
    return this.brackets.length;
  }

  private build(maxResource: number): void {
    this.maxResource = maxResource;
    const n = Math.floor(Math.log(maxResource / this.minResource) / Math.log(this.reductionFactor) + 1e-9) + 1;
    this.brackets = [];
    this.budgets = [];
    for (let i = 0; i < n; i++) {
      this.brackets.push(
        new SuccessiveHalvingPruner({ minResource: this.minResource, reductionFactor: this.reductionFactor, minEarlyStoppingRate: i }),
      );
      const s = n - 1 - i;
      this.budgets.push(Math.ceil((n * this.reductionFactor ** s) / (s + 1)));
    }
  }

  /** The bracket a trial belongs to (null before maxResource is known). */
  bracketOf(trialNumber: number): number | null {
    if (this.brackets.length === 0) return null;
    const total = this.budgets.reduce((a, b) => a + b, 0);
    let r = hash32(trialNumber) % total;
    for (let i = 0; i < this.budgets.length; i++) {
      r -= this.budgets[i]!;
      if (r < 0) return i;
    }
    return this.budgets.length - 1;
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    if (this.brackets.length === 0) {
      let last = -1;
      for (const t of study.getTrials({ states: ['COMPLETE'] })) for (const s of t.intermediateValues.keys()) if (s > last) last = s;
      if (last < 0) return false;
      this.build(Math.max(last + 1, this.minResource));
    }
    const bracket = this.bracketOf(trial.number)!;
    const view: StudyView = {
      directions: study.directions,
      getTrials: (options?: { states?: readonly TrialState[] }) =>
        study.getTrials(options).filter((t) => this.bracketOf(t.number) === bracket),
    };
    return this.brackets[bracket]!.prune(view, trial);
  }
}

/** splitmix32-style mix of a trial number, so brackets don't follow the trial order. */
function hash32(n: number): number {
  let z = (n + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
