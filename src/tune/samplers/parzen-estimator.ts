// The Parzen estimator of TPE: a weighted mixture of kernels, one per observation plus a prior
// kernel, each kernel a product over the parameters (Optuna's _ParzenEstimator).
//
//   numeric:  truncated Gaussians on the (log) scale, centred on the observations;
//             stepped/int parameters round to the grid and score the mass of their grid cell.
//   categorical: each kernel puts 1 + w/K on its observed choice and w/K on every choice, normalised
//             (an Aitchison–Aitken-like kernel); the prior kernel is uniform.
//   prior:    one extra kernel at the middle of the range with σ = range, weight `priorWeight`.
//
// Bandwidths, two rules:
//   'optuna' (Optuna 3.1): univariate, the larger gap to the sorted neighbours; multivariate, the
//             fixed 0.2·n^(−1/(d+4))·range, whatever the observations; both clipped to
//             [range / min(100, 1 + K), range] (the "magic clip").
//   'scott':  Scott's rule for a d-dimensional product kernel from the observations themselves
//             (the prior mean included, as Watanabe 2023's TPE): σ = 1.059·min(sd, IQR/1.34)·
//             m^(−1/(d+4)), m = n + 1, the same σ for every observation of a parameter, clipped to
//             [max(minBandwidthFactor·range, one grid step), range]. The width follows how
//             concentrated the good points really are, where the fixed rule gives the 10 best of 100
//             trials in 2-D 0.14·range whatever their spread; the floor (default 0.07·range) keeps a tight cluster exploring, and
//             on a grid a kernel always reaches the neighbouring cells (Watanabe's tpe uses one step).
//             Pending trials (the constant liar's) take no part in the width; their own kernels
//             are 0.01·range wide (or one grid step), so each marks its point as taken.
//
// Kernel heights: Optuna 3.1's truncnorm.logpdf omits −log σ (newer Optuna divides by σ). With the
// 'optuna' rule that is the default here too: as an acquisition l(x)/g(x) it finds better points
// within 100 trials than the normalised one (bench/tune-samplers.ts, 40 seeds: branin median best
// 0.43 vs 0.47, hartmann6 −3.12 vs −2.99). With 'scott' every kernel of l has one width and every
// kernel of g another, so leaving out σ would scale l/g by σ_g/σ_l; there the kernels are proper
// densities (bench/results/tune-samplers-ablation.md, 40 seeds: hartmann6 −3.168 vs −2.381
// unnormalised). `normalizeBandwidth` overrides either.
// Grid cells and categoricals are masses.
//
// All values here are internal (categorical = index); K = observations + 1 kernels.

import type { Rng } from '../../tensor/random.js';
import type { Distribution } from '../distributions.js';
import { uniform53 } from './random.js';
import { logGaussMass, truncnormPpf } from './truncnorm.js';

export interface ParzenEstimatorParameters {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  multivariate: boolean;
  /** divide continuous kernels by their bandwidth (a proper density); default: with 'scott' only, see above */
  normalizeBandwidth?: boolean;
  /** 'optuna' (default: Optuna 3.1's rules, `multivariate` choosing which) or 'scott', see above */
  bandwidth?: 'optuna' | 'scott';
  /** with 'scott': the smallest σ as a fraction of the range (default 0.07) */
  minBandwidthFactor?: number;
}

/** σ of a pending trial's kernel with 'scott', as a fraction of the range (Watanabe's tpe's minimum width) */
const PENDING_BANDWIDTH_FACTOR = 0.01;

interface NumericKernels {
  kind: 'numeric';
  mus: Float64Array;
  sigmas: Float64Array;
  /** transformed truncation bounds (log scale, widened by half a step on grids) */
  low: number;
  high: number;
  log: boolean;
  step: number | null;
  /** grid origin and end in external units */
  gridLow: number;
  gridHigh: number;
  /** log mass of each kernel inside [low, high] */
  logMass: Float64Array;
  /** logMass plus log σ when kernels are normalised (continuous densities) */
  logNorm: Float64Array;
}

interface CategoricalKernels {
  kind: 'categorical';
  /** K × nChoices row-normalised weights, as logs */
  logWeights: Float64Array[];
}

type Kernels = NumericKernels | CategoricalKernels;

export class ParzenEstimator {
  private readonly names: string[];
  private readonly logWeights: Float64Array;
  private readonly cumWeights: Float64Array;
  private readonly kernels: Kernels[];

  /**
   * @param observations internal values per parameter, all of one length n
   * @param weights n non-negative weights of the observations (the prior's is appended here)
   * @param pending which observations are pending trials (the constant liar's); with 'scott' they
   *   take no part in the bandwidth and get narrow kernels of their own
   */
  constructor(
    observations: Record<string, ArrayLike<number>>,
    space: Record<string, Distribution>,
    params: ParzenEstimatorParameters,
    weights: ArrayLike<number>,
    pending?: ArrayLike<boolean>,
  ) {
    if (!(params.priorWeight > 0)) throw new Error(`ParzenEstimator: priorWeight must be > 0, got ${params.priorWeight}`);
    this.names = Object.keys(space);
    const n = weights.length;
    const w = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) w[i] = weights[i]!;
    w[n] = n === 0 ? 1 : params.priorWeight;
    let sum = 0;
    for (const x of w) sum += x;
    this.logWeights = new Float64Array(n + 1);
    this.cumWeights = new Float64Array(n + 1);
    let acc = 0;
    for (let i = 0; i <= n; i++) {
      this.logWeights[i] = Math.log(w[i]! / sum);
      acc += w[i]! / sum;
      this.cumWeights[i] = acc;
    }
    this.kernels = this.names.map((name) => {
      const obs = observations[name];
      if (obs === undefined || obs.length !== n) throw new Error(`ParzenEstimator: '${name}' needs ${n} observations, got ${obs?.length}`);
      const d = space[name]!;
      return d.kind === 'categorical'
        ? categoricalKernels(obs, d.choices.length, params)
        : numericKernels(obs, d, params, this.names.length, pending);
    });
  }

  /** `size` draws, internal values per parameter. */
  sample(rng: Rng, size: number): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    for (const name of this.names) out[name] = new Float64Array(size);
    for (let s = 0; s < size; s++) {
      const k = this.pickKernel(uniform53(rng));
      for (let p = 0; p < this.names.length; p++) out[this.names[p]!]![s] = sampleKernel(this.kernels[p]!, k, rng);
    }
    return out;
  }

  private pickKernel(u: number): number {
    const cw = this.cumWeights;
    let lo = 0;
    let hi = cw.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cw[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** log density on the (log) scale, or log mass on grids and categoricals, of each sample under the mixture. */
  logPdf(samples: Record<string, ArrayLike<number>>): Float64Array {
    const size = samples[this.names[0]!]?.length ?? 0;
    const K = this.logWeights.length;
    const out = new Float64Array(size);
    const terms = new Float64Array(K);
    for (let s = 0; s < size; s++) {
      terms.set(this.logWeights);
      for (let p = 0; p < this.names.length; p++) addKernelLogPdf(this.kernels[p]!, samples[this.names[p]!]![s]!, terms);
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) if (terms[k]! > m) m = terms[k]!;
      if (m === Number.NEGATIVE_INFINITY) {
        out[s] = m;
        continue;
      }
      let acc = 0;
      for (let k = 0; k < K; k++) acc += Math.exp(terms[k]! - m);
      out[s] = m + Math.log(acc);
    }
    return out;
  }
}

function categoricalKernels(obs: ArrayLike<number>, nChoices: number, params: ParzenEstimatorParameters): CategoricalKernels {
  const n = obs.length;
  const K = n + 1;
  const fill = n === 0 ? 1 : params.priorWeight / K;
  const logWeights: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const row = new Float64Array(nChoices).fill(fill);
    if (k < n) row[Math.round(obs[k]!)]! += 1;
    let sum = 0;
    for (const x of row) sum += x;
    for (let c = 0; c < nChoices; c++) row[c] = Math.log(row[c]! / sum);
    logWeights.push(row);
  }
  return { kind: 'categorical', logWeights };
}

function numericKernels(
  obs: ArrayLike<number>,
  d: Distribution & { kind: 'float' | 'int' },
  params: ParzenEstimatorParameters,
  nParams: number,
  pending?: ArrayLike<boolean>,
): NumericKernels {
  const step = d.kind === 'int' ? d.step : d.step;
  let low = step !== null ? d.low - step / 2 : d.low;
  let high = step !== null ? d.high + step / 2 : d.high;
  if (d.log) {
    low = Math.log(low);
    high = Math.log(high);
  }
  const n = obs.length;
  const mus = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) mus[i] = d.log ? Math.log(obs[i]!) : obs[i]!;
  const range = high - low;
  const sigmas = new Float64Array(n + 1);
  mus[n] = 0.5 * (low + high);
  if (params.bandwidth === 'scott') {
    const grid = step !== null && !d.log ? step : 0;
    const floor = Math.max((params.minBandwidthFactor ?? 0.07) * range, grid);
    const known = pending ? mus.filter((_, i) => i === n || !pending[i]) : mus;
    sigmas.fill(scottBandwidth(known, nParams, range, floor));
    // a pending trial (constant liar) marks its own point taken, at the finest width
    if (pending) for (let i = 0; i < n; i++) if (pending[i]) sigmas[i] = Math.max(PENDING_BANDWIDTH_FACTOR * range, grid);
  } else {
    if (params.multivariate) {
      sigmas.fill(0.2 * Math.max(n, 1) ** (-1 / (nParams + 4)) * range);
    } else {
      neighbourBandwidths(mus.subarray(0, n), low, high, params.considerEndpoints, sigmas);
    }
    const minSigma = params.considerMagicClip ? range / Math.min(100, 1 + (n + 1)) : 1e-12;
    for (let i = 0; i < n; i++) sigmas[i] = Math.min(range, Math.max(minSigma, sigmas[i]!));
  }
  sigmas[n] = range;
  const normalize = params.normalizeBandwidth ?? params.bandwidth === 'scott';
  const logMass = new Float64Array(n + 1);
  const logNorm = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    logMass[k] = logGaussMass((low - mus[k]!) / sigmas[k]!, (high - mus[k]!) / sigmas[k]!);
    logNorm[k] = logMass[k]! + (normalize ? Math.log(sigmas[k]!) : 0);
  }
  return { kind: 'numeric', mus, sigmas, low, high, log: d.log, step, gridLow: d.low, gridHigh: d.high, logMass, logNorm };
}

/**
 * Scott's rule over `points` (the observations and the prior mean) for a product kernel over
 * nParams dimensions, clipped to [minSigma, range].
 */
function scottBandwidth(points: Float64Array, nParams: number, range: number, minSigma: number): number {
  const m = points.length;
  let mean = 0;
  for (const x of points) mean += x;
  mean /= m;
  let ss = 0;
  for (const x of points) ss += (x - mean) ** 2;
  const sd = m > 1 ? Math.sqrt(ss / (m - 1)) : 0;
  const sorted = Float64Array.from(points).sort();
  const quantile = (p: number): number => {
    const h = (m - 1) * p;
    const i = Math.floor(h);
    return i + 1 < m ? sorted[i]! + (h - i) * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
  };
  const iqr = quantile(0.75) - quantile(0.25);
  const spread = iqr > 0 ? Math.min(sd, iqr / 1.34) : sd;
  return Math.min(range, Math.max(minSigma, 1.059 * spread * m ** (-1 / (nParams + 4))));
}

/** Each observation's σ = the larger gap to its sorted neighbours, the prior's mean and the bounds included. */
function neighbourBandwidths(mus: Float64Array, low: number, high: number, considerEndpoints: boolean, out: Float64Array): void {
  const n = mus.length;
  // sorted positions of the observations plus the prior mean (index n)
  const withPrior = new Float64Array(n + 1);
  withPrior.set(mus);
  withPrior[n] = 0.5 * (low + high);
  const order = Array.from({ length: n + 1 }, (_, i) => i).sort((a, b) => withPrior[a]! - withPrior[b]! || a - b);
  const sorted = new Float64Array(n + 3);
  sorted[0] = low;
  for (let i = 0; i <= n; i++) sorted[i + 1] = withPrior[order[i]!]!;
  sorted[n + 2] = high;
  const sortedSigmas = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) sortedSigmas[i] = Math.max(sorted[i + 1]! - sorted[i]!, sorted[i + 2]! - sorted[i + 1]!);
  if (!considerEndpoints && sorted.length >= 4) {
    sortedSigmas[0] = sorted[2]! - sorted[1]!;
    sortedSigmas[n] = sorted[n + 1]! - sorted[n]!;
  }
  for (let i = 0; i <= n; i++) if (order[i]! < n) out[order[i]!] = sortedSigmas[i]!;
}

function sampleKernel(kernels: Kernels, k: number, rng: Rng): number {
  if (kernels.kind === 'categorical') {
    const row = kernels.logWeights[k]!;
    let u = uniform53(rng);
    for (let c = 0; c < row.length; c++) {
      u -= Math.exp(row[c]!);
      if (u < 0) return c;
    }
    return row.length - 1;
  }
  const mu = kernels.mus[k]!;
  const sigma = kernels.sigmas[k]!;
  const z = truncnormPpf(uniform53(rng), (kernels.low - mu) / sigma, (kernels.high - mu) / sigma);
  let x = mu + sigma * z;
  if (kernels.log) x = Math.exp(x);
  if (kernels.step !== null) x = kernels.gridLow + Math.round((x - kernels.gridLow) / kernels.step) * kernels.step;
  return Math.min(kernels.gridHigh, Math.max(kernels.gridLow, x));
}

/** Adds each kernel's log density of the value x to terms[k]. */
function addKernelLogPdf(kernels: Kernels, x: number, terms: Float64Array): void {
  const K = terms.length;
  if (kernels.kind === 'categorical') {
    const c = Math.round(x);
    for (let k = 0; k < K; k++) terms[k]! += kernels.logWeights[k]![c]!;
    return;
  }
  const { mus, sigmas, logNorm, logMass, step } = kernels;
  if (step === null) {
    const t = kernels.log ? Math.log(x) : x;
    for (let k = 0; k < K; k++) {
      const z = (t - mus[k]!) / sigmas[k]!;
      terms[k]! += -0.5 * z * z - 0.9189385332046727 - logNorm[k]!;
    }
    return;
  }
  // grid cell [x − step/2, x + step/2] on the (log) scale
  let lo = x - step / 2;
  let hi = x + step / 2;
  if (kernels.log) {
    lo = Math.log(Math.max(lo, Number.MIN_VALUE));
    hi = Math.log(hi);
  }
  lo = Math.max(lo, kernels.low);
  hi = Math.min(hi, kernels.high);
  for (let k = 0; k < K; k++) {
    const s = sigmas[k]!;
    terms[k]! += logGaussMass((lo - mus[k]!) / s, (hi - mus[k]!) / s) - logMass[k]!;
  }
}
