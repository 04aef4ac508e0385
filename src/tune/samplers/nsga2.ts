// NSGAIISampler: the elitist genetic algorithm NSGA-II (Deb et al. 2002) for one or several
// objectives, as in Optuna: non-dominated sorting with crowding distance selects the parents,
// binary tournaments (Deb's crowded comparison) pick two of them, crossover mixes them and mutation resamples a parameter
// uniformly (a parameter left out of the relative proposal is sampled at random).
//
// Generations come from trial numbers: trial n belongs to generation ⌊n / populationSize⌋. The
// parents of generation g are the elite of generation g−1's parents and the trials of generation
// g−1 that have COMPLETEd so far. Nothing waits for a generation to finish, so workers running
// concurrently keep going; a population is cached once every trial in it has finished.
// Constraints: Deb's constrained domination (feasible first, then by total violation).

import type { Rng } from '../../tensor/random.js';
import { contains, type Distribution, type ParamValue } from '../distributions.js';
import type { FrozenTrial, StudyView, TrialState } from '../frozen-trial.js';
import { type ConstraintsFunc, constraintViolation, directionSign, recordConstraints, type Sampler, trialConstraints } from './base.js';
import { type CrossoverKind, crossover } from './crossover.js';
import { crowdingDistance, nonDominatedSort, selectElite } from './pareto.js';
import { randomIndex, samplerRng, sampleUniform, uniform53 } from './random.js';
import { IncrementalIntersection, withoutSingles } from './search-space.js';

export interface NSGAIISamplerOptions {
  seed?: number;
  populationSize?: number;
  /** probability to resample each parameter; null (default) = 1 / number of parameters */
  mutationProb?: number | null;
  crossoverProb?: number;
  swappingProb?: number;
  crossover?: CrossoverKind;
  sbxEta?: number;
  constraintsFunc?: ConstraintsFunc;
}

export class NSGAIISampler implements Sampler {
  private readonly rng: Rng;
  readonly populationSize: number;
  private readonly mutationProb: number | null;
  private readonly crossoverProb: number;
  private readonly swappingProb: number;
  private readonly crossoverKind: CrossoverKind;
  private readonly sbxEta: number;
  private readonly constraintsFunc: ConstraintsFunc | undefined;
  /** generation -> its parents' elite, kept once all its trials are final */
  private readonly populations = new Map<number, FrozenTrial[]>();
  private readonly intersection = new IncrementalIntersection();
  /** front ranks and crowding distances of cached populations */
  private readonly orders = new WeakMap<FrozenTrial[], { rank: Int32Array; crowding: Float64Array }>();

  constructor(options: NSGAIISamplerOptions = {}) {
    this.rng = samplerRng(options.seed);
    this.populationSize = options.populationSize ?? 50;
    if (!(Number.isInteger(this.populationSize) && this.populationSize >= 2)) {
      throw new Error(`NSGAIISampler: populationSize must be an integer >= 2, got ${options.populationSize}`);
    }
    this.mutationProb = options.mutationProb ?? null;
    if (this.mutationProb !== null && !(this.mutationProb >= 0 && this.mutationProb <= 1)) {
      throw new Error(`NSGAIISampler: mutationProb must be in [0, 1] or null, got ${this.mutationProb}`);
    }
    this.crossoverProb = checkProb('crossoverProb', options.crossoverProb ?? 0.9);
    this.swappingProb = checkProb('swappingProb', options.swappingProb ?? 0.5);
    this.crossoverKind = options.crossover ?? 'uniform';
    if (this.crossoverKind !== 'uniform' && this.crossoverKind !== 'sbx') {
      throw new Error(`NSGAIISampler: crossover must be 'uniform' or 'sbx', got ${String(this.crossoverKind)}`);
    }
    this.sbxEta = options.sbxEta ?? 20;
    this.constraintsFunc = options.constraintsFunc;
  }

  generationOf(trial: FrozenTrial): number {
    return Math.floor(trial.number / this.populationSize);
  }

  inferRelativeSearchSpace(study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    return withoutSingles(this.intersection.calculate(study.getTrials({ states: ['COMPLETE'] })));
  }

  sampleRelative(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue> {
    const names = Object.keys(space);
    const generation = this.generationOf(trial);
    if (names.length === 0 || generation === 0) return {};
    const population = this.parentPopulation(study, generation);
    const parents = population.filter((t) => names.every((n) => n in t.params && contains(space[n]!, t.params[n]!)));
    if (parents.length === 0) return {};
    let order = parents.length === population.length ? this.orders.get(population) : undefined;
    if (order === undefined) {
      const { values, violations } = this.objectives(study, parents);
      order = crowdedOrder(values, violations);
      if (parents.length === population.length) this.orders.set(population, order);
    }
    const pick = (exclude: number): number => this.tournament(parents.length, order, exclude);
    const first = pick(-1);
    let child: Record<string, ParamValue>;
    if (parents.length >= 2 && uniform53(this.rng) < this.crossoverProb) {
      const second = pick(first);
      child = crossover(this.crossoverKind, this.rng, space, parents[first]!.params, parents[second]!.params, {
        swappingProb: this.swappingProb,
        sbxEta: this.sbxEta,
      });
    } else {
      child = {};
      for (const n of names) child[n] = parents[first]!.params[n]!;
    }
    const mutationProb = this.mutationProb ?? 1 / Math.max(1, names.length);
    for (const n of names) if (uniform53(this.rng) < mutationProb) delete child[n];
    return child;
  }

  sampleIndependent(_study: StudyView, _trial: FrozenTrial, _name: string, distribution: Distribution): ParamValue {
    return sampleUniform(this.rng, distribution);
  }

  afterTrial(_study: StudyView, trial: FrozenTrial, state: TrialState, _values: number[] | null): void {
    recordConstraints(trial, state, this.constraintsFunc);
  }

  /**
   * Binary tournament with Deb's crowded comparison: of two distinct random members the one on the
   * better front wins, on the same front the less crowded one (Optuna 3.1 uses domination only).
   */
  private tournament(n: number, order: { rank: Int32Array; crowding: Float64Array }, exclude: number): number {
    const pool = exclude >= 0 && n > 1 ? n - 1 : n;
    const draw = (): number => {
      const k = randomIndex(this.rng, pool);
      return exclude >= 0 && n > 1 && k >= exclude ? k + 1 : k;
    };
    const a = draw();
    if (pool < 2) return a;
    let b = draw();
    while (b === a) b = draw();
    if (order.rank[a]! !== order.rank[b]!) return order.rank[a]! < order.rank[b]! ? a : b;
    if (order.crowding[a]! !== order.crowding[b]!) return order.crowding[a]! > order.crowding[b]! ? a : b;
    return uniform53(this.rng) < 0.5 ? a : b;
  }

  /** Loss vectors (all minimized) and total violations (null without constraints). */
  private objectives(study: StudyView, trials: readonly FrozenTrial[]): { values: number[][]; violations: Float64Array | null } {
    const signs = study.directions.map(directionSign);
    const values = trials.map((t) => t.values!.map((v, i) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : signs[i]! * v)));
    const constrained = this.constraintsFunc !== undefined || trials.some((t) => t.systemAttrs.constraints !== undefined);
    if (!constrained) return { values, violations: null };
    const violations = Float64Array.from(trials, (t) => {
      const c = trialConstraints(t, this.constraintsFunc);
      return c === null ? Number.POSITIVE_INFINITY : constraintViolation(c);
    });
    return { values, violations };
  }

  /** The parents of `generation`: elite(parents of g−1 ∪ COMPLETE trials of g−1), recursively. */
  private parentPopulation(study: StudyView, generation: number): FrozenTrial[] {
    const all = study.getTrials();
    const byGeneration: FrozenTrial[][] = Array.from({ length: generation }, () => []);
    const open = new Array<boolean>(generation).fill(false);
    for (const t of all) {
      const g = this.generationOf(t);
      if (g >= generation) continue;
      if (t.state === 'COMPLETE' && t.values !== null && t.values.length === study.directions.length) byGeneration[g]!.push(t);
      else if (t.state === 'RUNNING' || t.state === 'WAITING') open[g] = true;
    }
    const seen = new Set(all.map((t) => t.number));
    let parents: FrozenTrial[] = [];
    let stable = true;
    for (let g = 0; g < generation; g++) {
      const cached = this.populations.get(g + 1);
      if (cached !== undefined && stable) {
        parents = cached;
        continue;
      }
      const candidates = [...parents, ...byGeneration[g]!];
      if (candidates.length > 0) {
        const { values, violations } = this.objectives(study, candidates);
        parents = selectElite(values, violations, this.populationSize).map((i) => candidates[i]!);
      }
      // final once no trial of generations <= g can still change
      let complete = !open[g];
      for (let n = g * this.populationSize; complete && n < (g + 1) * this.populationSize; n++) complete = seen.has(n);
      stable = stable && complete;
      if (stable) this.populations.set(g + 1, parents);
    }
    return parents;
  }
}

/** Front index and crowding distance of every member (constrained domination). */
function crowdedOrder(values: number[][], violations: Float64Array | null): { rank: Int32Array; crowding: Float64Array } {
  const rank = new Int32Array(values.length);
  const crowding = new Float64Array(values.length);
  nonDominatedSort(values, violations).forEach((front, r) => {
    const dist = crowdingDistance(front, values);
    for (const i of front) {
      rank[i] = r;
      crowding[i] = dist.get(i)!;
    }
  });
  return { rank, crowding };
}

function checkProb(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`NSGAIISampler: ${name} must be in [0, 1], got ${p}`);
  return p;
}
