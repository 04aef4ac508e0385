// The pruner interface (Optuna's BasePruner): decide, from the trial's intermediate values and
// those of the study's other trials, whether the running trial should stop now.
//
// Several objectives: intermediate values are reported for the FIRST objective only (as the
// contract says), so a pruner compares trials on that curve; see `prunerObjectiveSign`.

import type { FrozenTrial, StudyView } from '../frozen-trial.js';

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

/** The last step at which the trial reported a value, or null. */
export function lastStep(trial: FrozenTrial): number | null {
  let last: number | null = null;
  for (const step of trial.intermediateValues.keys()) if (last === null || step > last) last = step;
  return last;
}
