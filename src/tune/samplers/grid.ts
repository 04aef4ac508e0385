// GridSampler: each point of the Cartesian product of the given values exactly once, in a seeded
// random order. When every point has been taken, `isExhausted` says so (the Study stops there, as
// Optuna's study.stop()); a trial asked for after that gets a random grid point again (a duplicate).
//
// Which points are taken is read from the trials themselves (their `grid_id` system attribute, or
// their params), plus the ids this sampler handed out in this process, so several workers on one
// study share the grid without extra state.

import type { Rng } from '../../tensor/random.js';
import { contains, type Distribution, distributionToString, type ParamValue } from '../distributions.js';
import type { FrozenTrial, StudyView } from '../frozen-trial.js';
import type { Sampler } from './base.js';
import { randomIndex, samplerRng } from './random.js';

export const GRID_ID_KEY = 'grid_id';

export type GridSearchSpace = Record<string, readonly ParamValue[]>;

export interface GridSamplerOptions {
  seed?: number;
}

export class GridSampler implements Sampler {
  private readonly names: string[];
  private readonly values: ParamValue[][];
  readonly size: number;
  private readonly rng: Rng;
  /** trial number -> grid id handed out by this sampler */
  private readonly assigned = new Map<number, number>();

  constructor(searchSpace: GridSearchSpace, options: GridSamplerOptions = {}) {
    if (searchSpace === null || typeof searchSpace !== 'object')
      throw new Error(`GridSampler: expected a search space object, got ${String(searchSpace)}`);
    this.names = Object.keys(searchSpace).sort();
    this.values = this.names.map((name) => {
      const vs = searchSpace[name];
      if (!Array.isArray(vs) || vs.length === 0)
        throw new Error(`GridSampler: '${name}' needs a non-empty array of values, got ${JSON.stringify(vs)}`);
      return [...vs];
    });
    this.size = this.values.reduce((n, vs) => n * vs.length, 1);
    this.rng = samplerRng(options.seed);
  }

  /** The grid point with this id (mixed radix over the names in sorted order). */
  gridPoint(id: number): Record<string, ParamValue> {
    const point: Record<string, ParamValue> = {};
    let rest = id;
    for (let i = this.names.length - 1; i >= 0; i--) {
      const vs = this.values[i]!;
      point[this.names[i]!] = vs[rest % vs.length]!;
      rest = Math.floor(rest / vs.length);
    }
    return point;
  }

  private gridIdOf(params: Record<string, unknown>): number | null {
    let id = 0;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      if (!(name in params)) return null;
      const k = this.values[i]!.findIndex((v) => v === params[name] || (Number.isNaN(v) && Number.isNaN(params[name])));
      if (k < 0) return null;
      id = id * this.values[i]!.length + k;
    }
    return id;
  }

  private trialGridId(t: FrozenTrial): number | null {
    const stored = t.systemAttrs[GRID_ID_KEY];
    if (typeof stored === 'number') return stored;
    const mine = this.assigned.get(t.number);
    if (mine !== undefined) return mine;
    const fixed = t.systemAttrs.fixed_params;
    if (fixed !== null && typeof fixed === 'object') {
      const id = this.gridIdOf(fixed as Record<string, unknown>);
      if (id !== null) return id;
    }
    return this.gridIdOf(t.params);
  }

  private takenIds(study: StudyView, except?: number): Set<number> {
    const taken = new Set<number>();
    for (const t of study.getTrials({ states: ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL'] })) {
      if (t.number === except) continue;
      const id = this.trialGridId(t);
      if (id !== null) taken.add(id);
    }
    return taken;
  }

  /** True when every grid point has been given to a trial. */
  isExhausted(study: StudyView): boolean {
    return this.takenIds(study).size >= this.size;
  }

  private gridIdFor(study: StudyView, trial: FrozenTrial): number {
    const known = this.trialGridId(trial);
    if (known !== null) {
      this.assigned.set(trial.number, known);
      return known;
    }
    const taken = this.takenIds(study, trial.number);
    const free: number[] = [];
    for (let id = 0; id < this.size; id++) if (!taken.has(id)) free.push(id);
    const id = free.length > 0 ? free[randomIndex(this.rng, free.length)]! : randomIndex(this.rng, this.size);
    this.assigned.set(trial.number, id);
    trial.systemAttrs[GRID_ID_KEY] = id;
    return id;
  }

  beforeTrial(study: StudyView, trial: FrozenTrial): void {
    this.gridIdFor(study, trial);
  }

  inferRelativeSearchSpace(_study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    return {};
  }

  sampleRelative(_study: StudyView, _trial: FrozenTrial, _space: Record<string, Distribution>): Record<string, ParamValue> {
    return {};
  }

  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): ParamValue {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`GridSampler: parameter '${name}' is not in the grid (grid parameters: ${this.names.join(', ')})`);
    const value = this.gridPoint(this.gridIdFor(study, trial))[name]!;
    if (!contains(distribution, value)) {
      throw new Error(
        `GridSampler: grid value ${JSON.stringify(value)} of '${name}' is outside its distribution ${distributionToString(distribution)}`,
      );
    }
    return value;
  }
}
