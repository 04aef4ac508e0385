// Searching a kernel's settings space. A candidate is one value per setting;
// evaluating it times the kernel with it (median of a few samples).
//
// - exhaustive: every combination, each with the full timing protocol (the
//   yardstick the benchmark compares against);
// - coordinateDescent: from the defaults, one setting at a time with the
//   others fixed: a line search over its ordered values (step to the next
//   smaller value while that is faster, else to the next larger while that
//   is), keep the best, and repeat until a pass changes nothing (or
//   maxPasses). Tile sizes and thread counts cost a smooth, mostly unimodal
//   function of each setting, so the walk stops after a step or two instead
//   of timing every value: the number of candidates grows with the distance
//   from the defaults to the optimum, not with the space. Candidates are
//   raced: one sample first, and only one within `raceMargin` of the best so
//   far gets the rest (successive halving with one rung), so clearly bad
//   tiles cost one call.
// Both stop early at the time budget and return the best seen.

import type { Settings, SettingsSpace } from '../backend/settings.js';
import { type Statistic, summarize } from './timing.js';

/** Samples of seconds per call for a candidate: `samples` of them (`probe`: a raced first sample, which may be timed more cheaply). */
export type Sampler = (settings: Settings, samples: number, probe?: boolean) => number[];

export interface SearchOptions {
  /** Samples of a fully timed candidate. */
  repeats: number;
  /** Stop after this many seconds of searching (the best so far is kept). */
  budgetSeconds: number;
  /** Coordinate descent: passes over the settings at most. */
  maxPasses: number;
  /** A raced candidate whose first sample is slower than best × raceMargin is dropped. */
  raceMargin: number;
  /** How a candidate's samples become its time (default median). */
  statistic?: Statistic;
}

export const defaultSearch: SearchOptions = { repeats: 5, budgetSeconds: 20, maxPasses: 3, raceMargin: 1.25 };

export interface SearchResult {
  best: Settings;
  seconds: number;
  /** Candidates timed, and samples taken in all. */
  evaluations: number;
  samples: number;
  searchSeconds: number;
}

const candidateId = (s: Settings) =>
  Object.keys(s)
    .sort()
    .map((k) => `${k}=${s[k]}`)
    .join(',');

/** Every combination of the space's values, in order. */
export function combinations(space: SettingsSpace): Settings[] {
  let out: Record<string, number>[] = [{}];
  for (const [name, values] of Object.entries(space)) out = out.flatMap((s) => values.map((v) => ({ ...s, [name]: v })));
  return out;
}

export function spaceSize(space: SettingsSpace): number {
  return Object.values(space).reduce((n, v) => n * v.length, 1);
}

class Tally {
  readonly start = performance.now();
  evaluations = 0;
  samples = 0;
  best: Settings;
  seconds = Number.POSITIVE_INFINITY;
  constructor(
    private readonly sampler: Sampler,
    private readonly options: SearchOptions,
    first: Settings,
  ) {
    this.best = first;
  }
  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }
  overBudget(): boolean {
    return this.elapsed() > this.options.budgetSeconds;
  }
  /** Times a candidate (raced against the best so far when `race`); returns its time (median by default) or +∞ if dropped. */
  time(s: Settings, race: boolean): number {
    this.evaluations++;
    let xs = this.sampler(s, 1, race);
    this.samples++;
    if (race && xs[0] > this.seconds * this.options.raceMargin) return Number.POSITIVE_INFINITY;
    const more = this.options.repeats - 1;
    if (more > 0) {
      xs = xs.concat(this.sampler(s, more));
      this.samples += more;
    }
    const t = summarize(xs, this.options.statistic);
    if (t < this.seconds) {
      this.seconds = t;
      this.best = s;
    }
    return t;
  }
  result(): SearchResult {
    return { best: this.best, seconds: this.seconds, evaluations: this.evaluations, samples: this.samples, searchSeconds: this.elapsed() };
  }
}

export function exhaustive(space: SettingsSpace, sampler: Sampler, options: SearchOptions = defaultSearch): SearchResult {
  const all = combinations(space);
  const tally = new Tally(sampler, options, all[0]);
  for (const s of all) {
    if (tally.overBudget()) break;
    tally.time(s, false);
  }
  return tally.result();
}

export function coordinateDescent(
  space: SettingsSpace,
  start: Settings,
  sampler: Sampler,
  options: SearchOptions = defaultSearch,
): SearchResult {
  const names = Object.keys(space);
  const origin = Object.fromEntries(names.map((n) => [n, space[n].includes(start[n]) ? start[n] : space[n][0]]));
  const tally = new Tally(sampler, options, origin);
  const seen = new Map<string, number>();
  const timed = (s: Settings, race: boolean) => {
    const id = candidateId(s);
    const known = seen.get(id);
    if (known !== undefined) return known;
    const t = tally.time(s, race);
    seen.set(id, t);
    return t;
  };
  timed(origin, false);
  /** Walks `name`'s values from the best's in direction `step` while each is faster; whether it moved. */
  const walk = (name: string, step: -1 | 1): boolean => {
    const values = space[name];
    let moved = false;
    for (let i = values.indexOf(tally.best[name]) + step; i >= 0 && i < values.length && !tally.overBudget(); i += step) {
      const best = tally.seconds;
      if (!(timed({ ...tally.best, [name]: values[i] }, true) < best)) break;
      moved = true;
    }
    return moved;
  };
  for (let pass = 0; pass < options.maxPasses && !tally.overBudget(); pass++) {
    const before = candidateId(tally.best);
    for (const name of names) if (!walk(name, -1)) walk(name, 1);
    if (candidateId(tally.best) === before) break;
  }
  return tally.result();
}
