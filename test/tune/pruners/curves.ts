// Synthetic learning curves for pruner tests: trial i's loss falls from `start` towards final[i],
// value(step) = final + (start − final)·e^(−step/τ), run one trial after another like a study.

import type { FrozenTrial, StudyDirection, StudyView, TrialState } from '../../../src/tune/frozen-trial.js';
import type { Pruner } from '../../../src/tune/pruners/base.js';

export class CurveStudy implements StudyView {
  readonly trials: FrozenTrial[] = [];
  constructor(readonly directions: readonly StudyDirection[] = ['minimize']) {}

  getTrials(options: { states?: readonly TrialState[] } = {}): FrozenTrial[] {
    const states = options.states;
    return states ? this.trials.filter((t) => states.includes(t.state)) : [...this.trials];
  }

  newTrial(): FrozenTrial {
    const t: FrozenTrial = {
      number: this.trials.length,
      trialId: this.trials.length,
      state: 'RUNNING',
      params: {},
      distributions: {},
      values: null,
      intermediateValues: new Map(),
      userAttrs: {},
      systemAttrs: {},
      datetimeStart: null,
      datetimeComplete: null,
    };
    this.trials.push(t);
    return t;
  }

  /**
   * Runs one trial through `steps` reports of `curve(step)`, asking the pruner after each.
   * `vector(step)` optionally stores the intermediate vector of every objective.
   * Returns the step at which it was pruned, or null when it completed.
   */
  run(pruner: Pruner, curve: (step: number) => number, steps: number, vector?: (step: number) => number[]): number | null {
    const t = this.newTrial();
    for (let step = 0; step < steps; step++) {
      t.intermediateValues.set(step, curve(step));
      if (vector) {
        const vs = (t.systemAttrs.intermediate_vectors ??= {}) as Record<string, number[]>;
        vs[String(step)] = vector(step);
      }
      if (pruner.prune(this, t)) {
        t.state = 'PRUNED';
        return step;
      }
    }
    t.state = 'COMPLETE';
    t.values = vector ? vector(steps - 1) : [curve(steps - 1)];
    return null;
  }
}

export function decayCurve(final: number, start = 10, tau = 8): (step: number) => number {
  return (step) => final + (start - final) * Math.exp(-step / tau);
}

/** n final losses in a seeded, shuffled order (a stand-in for trials of mixed quality). */
export function shuffledFinals(n: number, seed: number): number[] {
  const finals = Array.from({ length: n }, (_, i) => 1 + i / n);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [finals[i], finals[j]] = [finals[j]!, finals[i]!];
  }
  return finals;
}
