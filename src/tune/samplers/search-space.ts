// Search spaces a relative sampler infers from the trials so far (Optuna's IntersectionSearchSpace
// and _GroupDecomposedSearchSpace).

import { type Distribution, isSingle, sameDistribution } from '../distributions.js';
import type { FrozenTrial } from '../frozen-trial.js';

/**
 * The intersection search space of a study, updated incrementally: finished trials don't change,
 * so each is folded in once (Optuna's IntersectionSearchSpace). Pass only finished trials.
 */
export class IncrementalIntersection {
  private readonly seen = new Set<number>();
  private space: Record<string, Distribution> | null = null;

  calculate(trials: readonly FrozenTrial[]): Record<string, Distribution> {
    for (const t of trials) {
      if (this.seen.has(t.number)) continue;
      this.seen.add(t.number);
      this.space = intersect(this.space, t.distributions);
    }
    return sortedSpace(this.space ?? {});
  }
}

/** The parameters every given trial has, with the same distribution in each. */
export function intersectionSearchSpace(trials: readonly FrozenTrial[]): Record<string, Distribution> {
  let space: Record<string, Distribution> | null = null;
  for (const t of trials) space = intersect(space, t.distributions);
  return sortedSpace(space ?? {});
}

/** The parameters of `space` that `distributions` has with the same distribution (all of them when space is null). */
function intersect(space: Record<string, Distribution> | null, distributions: Record<string, Distribution>): Record<string, Distribution> {
  if (space === null) return { ...distributions };
  const out: Record<string, Distribution> = {};
  for (const [name, d] of Object.entries(space)) {
    const other = distributions[name];
    if (other !== undefined && sameDistribution(other, d)) out[name] = d;
  }
  return out;
}

/**
 * Splits the parameters into groups that always occur together: a conditional search space
 * (`if model == 'a': x else: y`) gives {model}, {x}, {y}. Each group is sampled jointly.
 */
export function groupDecomposedSearchSpace(trials: readonly FrozenTrial[]): Record<string, Distribution>[] {
  let groups: Record<string, Distribution>[] = [];
  for (const t of trials) {
    const rest = new Set(Object.keys(t.distributions));
    const next: Record<string, Distribution>[] = [];
    for (const group of groups) {
      const inTrial: Record<string, Distribution> = {};
      const notInTrial: Record<string, Distribution> = {};
      for (const [name, d] of Object.entries(group)) {
        const td = t.distributions[name];
        if (td === undefined) notInTrial[name] = d;
        else if (sameDistribution(td, d)) inTrial[name] = d;
        // a parameter whose distribution changed drops out of the relative space
        rest.delete(name);
      }
      next.push(inTrial, notInTrial);
    }
    const fresh: Record<string, Distribution> = {};
    for (const name of rest) fresh[name] = t.distributions[name]!;
    next.push(fresh);
    groups = next.filter((g) => Object.keys(g).length > 0);
  }
  return groups.map(sortedSpace);
}

/** The same space with single-point distributions removed (nothing to sample there). */
export function withoutSingles(space: Record<string, Distribution>): Record<string, Distribution> {
  const out: Record<string, Distribution> = {};
  for (const [name, d] of Object.entries(space)) if (!isSingle(d)) out[name] = d;
  return out;
}

function sortedSpace(space: Record<string, Distribution>): Record<string, Distribution> {
  const out: Record<string, Distribution> = {};
  for (const name of Object.keys(space).sort()) out[name] = space[name]!;
  return out;
}
