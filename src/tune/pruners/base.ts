// The pruner interface (Optuna's BasePruner): decide, from the trial's intermediate values and
// those of the study's other trials, whether the running trial should stop now.
//
// Several objectives (Optuna has no rule; this is ours). A trial's intermediate value at a step is
// a vector: `systemAttrs.intermediate_vectors[step]` (one value per objective) when the trial
// stored one, else the single reported value, compared in the first objective's direction. Each
// pruner then replaces "worse than" by "dominated by":
//   MedianPruner / PercentilePruner(p): prune when more than p% of the peers at the same step
//     dominate the trial (p = 50: more than half). With one value this is "worse than the median".
//   SuccessiveHalvingPruner (and each Hyperband bracket): promote to the next rung when at most
//     max(⌊n/η⌋ − 1, 0) of the n rung members dominate the trial, i.e. when it is in the top 1/η
//     by domination count. With one value this is exactly Optuna's rule.
// So a trial that is worse on the reported curve but better on another objective (lower latency,
// fewer parameters) is kept when it stored that objective in its vector.

import { dominates, type FrozenTrial, type StudyDirection, type StudyView } from '../frozen-trial.js';

export interface Pruner {
  prune(study: StudyView, trial: FrozenTrial): boolean;
}

/**
 * Sign that turns the first objective into one to minimize (+1 minimize, -1 maximize).
 * Multi-objective rule used by every pruner here: the intermediate values are those of the first
 * objective, so each pruner applies its single-objective rule in the first objective's direction.
 */
export function prunerObjectiveSign(study: StudyView): 1 | -1 {
  const d = study.directions[0];
  if (d === undefined) throw new Error('pruner: the study has no directions');
  return d === 'minimize' ? 1 : -1;
}

export const INTERMEDIATE_VECTORS_KEY = 'intermediate_vectors';

/** Objective directions of the intermediate vectors: all of them, or the first one for scalars. */
export function intermediateDirections(study: StudyView, vector: readonly number[]): StudyDirection[] {
  return study.directions.slice(0, vector.length) as StudyDirection[];
}

/**
 * The trial's intermediate vector at `step`: its stored vector when it has one of full length,
 * else [reported value], else null (no report at that step).
 */
export function intermediateVector(study: StudyView, trial: FrozenTrial, step: number): number[] | null {
  const vectors = trial.systemAttrs[INTERMEDIATE_VECTORS_KEY] as Record<string, unknown> | undefined;
  const stored = vectors?.[String(step)];
  if (Array.isArray(stored) && stored.length === study.directions.length && stored.every((x) => typeof x === 'number'))
    return stored as number[];
  const v = trial.intermediateValues.get(step);
  return v === undefined ? null : [v];
}

/** How many of `peers` dominate `v` (peers of another length are compared on their common first objectives). */
export function countDominating(
  v: readonly number[],
  peers: readonly (readonly number[])[],
  directions: readonly StudyDirection[],
): number {
  let count = 0;
  for (const p of peers) {
    const m = Math.min(v.length, p.length);
    if (dominates(p.slice(0, m), v.slice(0, m), directions.slice(0, m))) count++;
  }
  return count;
}

/** The reported steps of a trial in increasing order. */
export function reportedSteps(trial: FrozenTrial): number[] {
  return [...trial.intermediateValues.keys()].sort((a, b) => a - b);
}

/** The last step at which the trial reported a value, or null. */
export function lastStep(trial: FrozenTrial): number | null {
  let last: number | null = null;
  for (const step of trial.intermediateValues.keys()) if (last === null || step > last) last = step;
  return last;
}
