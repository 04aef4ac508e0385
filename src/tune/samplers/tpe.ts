// TPESampler: the Tree-structured Parzen Estimator (Bergstra et al. 2011; Optuna's TPESampler).
//
// The finished trials are ranked and split: the best γ(n) form the "below" set l(x), the rest
// the "above" set g(x). Each set becomes a Parzen estimator (parzen-estimator.ts); nEiCandidates
// points are drawn from l and the one with the largest log l(x) − log g(x) is proposed.
//
// Ranking (best first): COMPLETE trials by value (several objectives: non-domination rank, then
// crowding distance); with constraints, feasible COMPLETE trials first, then infeasible ones by
// total violation; then PRUNED trials, deeper last step first, then by their last intermediate
// value; then (constant liar) RUNNING trials, treated as the worst so parallel workers spread out.
//
// Defaults, and where they leave Optuna 3.1's (whose defaults are `multivariate: false,
// bandwidth: 'optuna'`; γ, weights, prior, 24 candidates and 10 startup trials are Optuna's):
//   multivariate: the parameters of the search space are sampled jointly, with a product kernel,
//     so l(x)/g(x) sees how parameters combine (Optuna's docs report multivariate TPE ahead on its
//     benchmarks; Watanabe 2023 recommends it). `group` (default on with multivariate) splits a
//     conditional space into groups of parameters that always occur together, each sampled
//     jointly from the trials that have it; a parameter outside every group (a distribution that
//     changed) is sampled on its own.
//   bandwidth 'scott' for the joint kernels: Scott's rule from the spread of the observations,
//     floored at minBandwidthFactor·range (0.07) and one grid step, as proper densities
//     (parzen-estimator.ts). Optuna 3.1's multivariate width ignores the observations, so once the
//     good trials cluster, l stays wide and the proposals stop closing in.
//   Per-parameter sampling (univariate, or a parameter outside the joint space) keeps Optuna
//     3.1's neighbour-gap widths and magic clip, a rule made for one dimension.
//   Constant liar: a pending trial's kernel in g is narrow (0.01·range) and takes no part in g's
//     width. With one Scott width per estimator, a lie as wide as g's kernels cannot dent l/g
//     where l is narrow, and parallel workers proposed the same point again.
// `{ multivariate: false }` is Optuna 3.1's default TPE.
//
// Evidence (bench/tune-samplers.ts, 100 trials, median best of 40 seeds; results/tune-samplers-
// 40seeds.md and tune-samplers-ablation.md), branin / hartmann6 / mixed6, lower is better:
//   Optuna 3.1's TPE                          0.427 / −3.108 / 0.228
//   ours with Optuna 3.1's defaults           0.428 / −3.121 / 0.150
//   multivariate, Optuna 3.1's widths         0.496 / −3.084 / 0.102
//   default (multivariate, Scott, floor 0.07) 0.404 / −3.168 / 0.028, each 10-seed block ahead
//     of Optuna's. Floors 0.01 / 0.03 stall on a cluster in some runs (hartmann6 −3.059 / −3.142,
//     mixed6 0.172 / 0.083), 0.1 explores too long (0.407 / −3.153 / 0.060); unnormalised kernels
//     −2.381 on hartmann6; 12 or 48 EI candidates, 5 or 20 startup trials, γ = 0.05n or 0.15n
//     (capped at 25): within ±0.004 on branin and hartmann6, worse on mixed6 (0.037–0.083);
//     γ = 0.25n worse on all three.
//   Held out (results/tune-samplers-heldout*.md): styblinski5 −165.0 vs Optuna's −164.2 (a tie);
//     rosenbrock2 over 200 seeds 0.563 vs 0.543 (a tie at the median, a heavier tail: 8 of 20
//     10-seed blocks above 1 against Optuna's 2).

import type { Rng } from '../../tensor/random.js';
import { contains, type Distribution, isSingle, type ParamValue, toExternal, toInternal } from '../distributions.js';
import type { FrozenTrial, StudyView, TrialState } from '../frozen-trial.js';
import { type ConstraintsFunc, constraintViolation, directionSign, recordConstraints, type Sampler, trialConstraints } from './base.js';
import { crowdingDistance, nonDominatedSort } from './pareto.js';
import { ParzenEstimator, type ParzenEstimatorParameters } from './parzen-estimator.js';
import { samplerRng, sampleUniform } from './random.js';
import { groupDecomposedSearchSpace, IncrementalIntersection, withoutSingles } from './search-space.js';

export interface TPESamplerOptions {
  seed?: number;
  /** random sampling until this many trials have finished (default 10) */
  nStartupTrials?: number;
  /** candidates drawn from l(x) per proposal (default 24) */
  nEiCandidates?: number;
  /** sample the parameters jointly (default true) */
  multivariate?: boolean;
  /** with multivariate: decompose conditional spaces into groups sampled separately (default: = multivariate) */
  group?: boolean;
  /** treat RUNNING trials as the worst ones (for parallel workers) */
  constantLiar?: boolean;
  constraintsFunc?: ConstraintsFunc;
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  /** continuous kernels as normalised densities (default: for 'scott' kernels only; see parzen-estimator.ts) */
  normalizeBandwidth?: boolean;
  /** bandwidth rule of the joint kernels: 'scott' (default) or 'optuna' (Optuna 3.1's); see parzen-estimator.ts */
  bandwidth?: 'scott' | 'optuna';
  /** with 'scott': the smallest bandwidth as a fraction of the range (default 0.07) */
  minBandwidthFactor?: number;
  /** size of the "below" set for n ranked trials (default min(⌈0.1·n⌉, 25)) */
  gamma?: (n: number) => number;
  /** weights of n observations in trial order (default: flat, older ones ramped down past 25) */
  weights?: (n: number) => ArrayLike<number>;
}

export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

export function defaultWeights(n: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  if (n >= 25) {
    const ramp = n - 25;
    for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
  }
  return w;
}

/** Trials of a study ranked best first, and how many of them are "below". */
interface Split {
  below: FrozenTrial[];
  above: FrozenTrial[];
  /** finished (COMPLETE or PRUNED) trials among the ranked ones */
  nFinished: number;
}

export class TPESampler implements Sampler {
  private readonly rng: Rng;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly multivariate: boolean;
  private readonly group: boolean;
  private readonly constantLiar: boolean;
  private readonly constraintsFunc: ConstraintsFunc | undefined;
  private readonly gamma: (n: number) => number;
  private readonly weights: (n: number) => ArrayLike<number>;
  /** Parzen estimator settings for joint (relative) and for per-parameter (independent) sampling */
  private readonly jointParzen: ParzenEstimatorParameters;
  private readonly independentParzen: ParzenEstimatorParameters;
  private readonly intersection = new IncrementalIntersection();

  constructor(options: TPESamplerOptions = {}) {
    this.rng = samplerRng(options.seed);
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    if (!(Number.isInteger(this.nStartupTrials) && this.nStartupTrials >= 0)) {
      throw new Error(`TPESampler: nStartupTrials must be an integer >= 0, got ${options.nStartupTrials}`);
    }
    if (!(Number.isInteger(this.nEiCandidates) && this.nEiCandidates >= 1)) {
      throw new Error(`TPESampler: nEiCandidates must be an integer >= 1, got ${options.nEiCandidates}`);
    }
    this.multivariate = options.multivariate ?? true;
    this.group = options.group ?? this.multivariate;
    if (this.group && !this.multivariate) throw new Error('TPESampler: group=true needs multivariate=true');
    this.constantLiar = options.constantLiar ?? false;
    this.constraintsFunc = options.constraintsFunc;
    this.gamma = options.gamma ?? defaultGamma;
    this.weights = options.weights ?? defaultWeights;
    const bandwidth = options.bandwidth ?? 'scott';
    if (bandwidth !== 'scott' && bandwidth !== 'optuna')
      throw new Error(`TPESampler: bandwidth must be 'scott' or 'optuna', got ${bandwidth}`);
    const minBandwidthFactor = options.minBandwidthFactor ?? 0.07;
    if (!(minBandwidthFactor >= 0 && minBandwidthFactor <= 1)) {
      throw new Error(`TPESampler: minBandwidthFactor must be in [0, 1], got ${options.minBandwidthFactor}`);
    }
    const common = {
      priorWeight: options.priorWeight ?? 1,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
      normalizeBandwidth: options.normalizeBandwidth,
      minBandwidthFactor,
    };
    this.jointParzen = { ...common, multivariate: true, bandwidth };
    // Optuna 3.1 with multivariate uses its fixed multivariate width for independent sampling too
    this.independentParzen = { ...common, multivariate: this.multivariate && bandwidth === 'optuna', bandwidth: 'optuna' };
  }

  inferRelativeSearchSpace(study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    if (!this.multivariate) return {};
    const trials = study.getTrials({ states: ['COMPLETE', 'PRUNED'] });
    if (!this.group) return withoutSingles(this.intersection.calculate(trials));
    const space: Record<string, Distribution> = {};
    for (const g of groupDecomposedSearchSpace(trials)) Object.assign(space, withoutSingles(g));
    return space;
  }

  sampleRelative(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue> {
    if (Object.keys(space).length === 0) return {};
    const subspaces = this.group
      ? groupDecomposedSearchSpace(study.getTrials({ states: ['COMPLETE', 'PRUNED'] }))
          .map((g) => withoutSingles(Object.fromEntries(Object.entries(g).filter(([name]) => name in space))))
          .filter((g) => Object.keys(g).length > 0)
      : [space];
    const out: Record<string, ParamValue> = {};
    for (const sub of subspaces) Object.assign(out, this.sampleJointly(study, trial, sub));
    return out;
  }

  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): ParamValue {
    if (isSingle(distribution)) return distribution.kind === 'categorical' ? distribution.choices[0]! : distribution.low;
    const split = this.split(study, trial, null);
    if (split.nFinished < this.nStartupTrials) return sampleUniform(this.rng, distribution);
    return this.proposeFrom(split, { [name]: distribution }, this.independentParzen)[name]!;
  }

  afterTrial(_study: StudyView, trial: FrozenTrial, state: TrialState, _values: number[] | null): void {
    recordConstraints(trial, state, this.constraintsFunc);
  }

  /** One joint proposal over `space` from the trials that have all of its parameters; {} before startup. */
  private sampleJointly(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue> {
    const split = this.split(study, trial, space);
    if (split.nFinished < this.nStartupTrials) return {};
    return this.proposeFrom(split, space, this.jointParzen);
  }

  private proposeFrom(split: Split, space: Record<string, Distribution>, parzen: ParzenEstimatorParameters): Record<string, ParamValue> {
    const below = this.estimator(split.below, space, parzen);
    const above = this.estimator(split.above, space, parzen);
    const candidates = below.sample(this.rng, this.nEiCandidates);
    const logL = below.logPdf(candidates);
    const logG = above.logPdf(candidates);
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.nEiCandidates; i++) {
      const score = logL[i]! - logG[i]!;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    const out: Record<string, ParamValue> = {};
    for (const [name, d] of Object.entries(space)) out[name] = toExternal(d, candidates[name]![best]!);
    return out;
  }

  /** A Parzen estimator from the trials whose value of every parameter of `space` fits it. */
  private estimator(
    trials: readonly FrozenTrial[],
    space: Record<string, Distribution>,
    parzen: ParzenEstimatorParameters,
  ): ParzenEstimator {
    const names = Object.keys(space);
    const kept = trials
      .filter((t) => names.every((n) => n in t.params && contains(space[n]!, t.params[n]!)))
      .sort((a, b) => a.number - b.number);
    const observations: Record<string, Float64Array> = {};
    for (const n of names) observations[n] = Float64Array.from(kept, (t) => toInternal(space[n]!, t.params[n]!));
    const pending = kept.map((t) => t.state === 'RUNNING');
    return new ParzenEstimator(observations, space, parzen, this.weights(kept.length), pending.some(Boolean) ? pending : undefined);
  }

  /**
   * Ranks the study's trials (other than `trial`) best first and splits off the best γ(n).
   * With `space`, only trials holding every parameter of it take part (multivariate).
   */
  private split(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution> | null): Split {
    const states: TrialState[] = this.constantLiar ? ['COMPLETE', 'PRUNED', 'RUNNING'] : ['COMPLETE', 'PRUNED'];
    let trials = study.getTrials({ states }).filter((t) => t.number !== trial.number);
    if (space !== null) {
      const names = Object.keys(space);
      trials = trials.filter((t) => names.every((n) => n in t.params));
    }
    const ranked = this.rank(study, trials);
    // γ of the finished trials, as Optuna: RUNNING ones (constant liar) only ever join "above"
    const nFinished = trials.filter((t) => t.state !== 'RUNNING').length;
    const nBelow = Math.min(nFinished, Math.max(0, Math.floor(this.gamma(nFinished))));
    return { below: ranked.slice(0, nBelow), above: ranked.slice(nBelow), nFinished };
  }

  private rank(study: StudyView, trials: readonly FrozenTrial[]): FrozenTrial[] {
    const signs = study.directions.map(directionSign);
    const feasible: FrozenTrial[] = [];
    const infeasible: { t: FrozenTrial; v: number }[] = [];
    const pruned: FrozenTrial[] = [];
    const rest: FrozenTrial[] = [];
    for (const t of trials) {
      if (t.state === 'COMPLETE' && t.values !== null && t.values.length === signs.length) {
        const c = this.constraintsFunc || t.systemAttrs.constraints !== undefined ? trialConstraints(t, this.constraintsFunc) : null;
        const v = c === null ? 0 : constraintViolation(c);
        if (v > 0) infeasible.push({ t, v });
        else feasible.push(t);
      } else if (t.state === 'PRUNED' && t.intermediateValues.size > 0) pruned.push(t);
      else rest.push(t);
    }
    const losses = new Map<FrozenTrial, number[]>();
    for (const t of feasible)
      losses.set(
        t,
        t.values!.map((v, i) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : signs[i]! * v)),
      );
    let rankedFeasible: FrozenTrial[];
    if (signs.length === 1) {
      rankedFeasible = feasible.sort((a, b) => losses.get(a)![0]! - losses.get(b)![0]! || a.number - b.number);
    } else {
      const values = feasible.map((t) => losses.get(t)!);
      rankedFeasible = [];
      for (const front of nonDominatedSort(values)) {
        const dist = crowdingDistance(front, values);
        front.sort((a, b) => dist.get(b)! - dist.get(a)! || a - b);
        for (const i of front) rankedFeasible.push(feasible[i]!);
      }
    }
    infeasible.sort((a, b) => a.v - b.v || a.t.number - b.t.number);
    const s0 = signs[0]!;
    const last = new Map<FrozenTrial, [number, number]>();
    for (const t of pruned) {
      let step = Number.NEGATIVE_INFINITY;
      for (const k of t.intermediateValues.keys()) if (k > step) step = k;
      const v = s0 * t.intermediateValues.get(step)!;
      last.set(t, [step, Number.isNaN(v) ? Number.POSITIVE_INFINITY : v]);
    }
    pruned.sort((a, b) => {
      const [sa, va] = last.get(a)!;
      const [sb, vb] = last.get(b)!;
      return sb - sa || va - vb || a.number - b.number;
    });
    return [...rankedFeasible, ...infeasible.map((x) => x.t), ...pruned, ...rest];
  }
}
