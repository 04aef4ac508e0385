// How many optimizer updates fit a wall-clock budget: time a few real steps
// after V8 has optimised the JS around the kernels (the first calls run 3×
// slower), then divide. Used by the tasks' `--minutes`; the Trainer then
// re-plans once from the pace of the real run (timeBudget).

import type { TrainerOptions } from './trainer.js';

/** `step(i)` runs forward + backward on sample batch i (0 ≤ i < warmup + timed). */
export function stepsForBudget(step: (i: number) => void, seconds: number, { warmup = 3, timed = 6, fill = 0.9 } = {}): number {
  for (let i = 0; i < warmup; i++) step(i);
  const t0 = performance.now();
  for (let i = 0; i < timed; i++) step(warmup + i);
  const perStep = ((performance.now() - t0) / (1000 * timed)) * 1.05; // + the optimizer update
  return Math.max(1, Math.floor((seconds * fill) / perStep));
}

/**
 * The Trainer's budget for a `minutes` run planned by stepsForBudget (none when the
 * length was given in steps or epochs, or came from a checkpoint): re-plan after a
 * tenth of the budget, at most a minute in.
 */
export function timeBudget(minutes: number, planned: boolean): TrainerOptions<unknown>['budget'] {
  if (!planned) return undefined;
  const seconds = minutes * 60;
  return { seconds, replanAfter: Math.min(60, seconds / 10) };
}
