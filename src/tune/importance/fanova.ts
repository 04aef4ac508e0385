// Parameter importances by fANOVA on a random forest (Hutter, Hoos and
// Leyton-Brown, 2014; Optuna's default evaluator): fit a forest of regression
// trees to (params -> objective), then, per tree, split the variance of the
// tree's prediction over the search box into each parameter's main effect.
// A tree is piecewise constant on boxes, so the marginals are exact sums.
//
// Encoding: a float or int is itself (its log on a log scale), a categorical
// is the index of its choice (splits then group neighbouring choices; a
// simplification of fANOVA's categorical splits). Importances are the mean
// per-tree fractions, normalised to sum to 1.

import { Rng } from '../../tensor/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { FrozenTrial } from '../frozen-trial.js';

export interface ImportanceOptions {
  /** Objective index (default 0). */
  target?: number;
  numTrees?: number;
  maxDepth?: number;
  minSamplesLeaf?: number;
  seed?: number;
}

interface Leaf {
  lo: number[];
  hi: number[];
  value: number;
}

function encode(d: Distribution, v: ParamValue): number {
  if (d.kind === 'categorical') return d.choices.indexOf(v);
  return d.log ? Math.log(v as number) : (v as number);
}

function domain(d: Distribution): [number, number] {
  if (d.kind === 'categorical') return [-0.5, d.choices.length - 0.5];
  return d.log ? [Math.log(d.low), Math.log(d.high)] : [d.low, d.high];
}

/** Parameters present with the same distribution in every completed trial (fANOVA needs a fixed box). */
function commonParams(trials: readonly FrozenTrial[]): [string, Distribution][] {
  const first = trials[0];
  return Object.entries(first.distributions).filter(([name]) => trials.every((t) => name in t.params));
}

export function fanovaImportances(trials: readonly FrozenTrial[], options: ImportanceOptions = {}): Map<string, number> {
  const target = options.target ?? 0;
  const done = trials.filter((t) => t.state === 'COMPLETE' && t.values && Number.isFinite(t.values[target]));
  if (done.length < 2) throw new Error(`fanovaImportances: needs at least 2 completed trials, got ${done.length}`);
  const params = commonParams(done);
  if (params.length === 0) throw new Error('fanovaImportances: no parameter is shared by every completed trial');
  const x = done.map((t) => params.map(([name, d]) => encode(d, t.params[name])));
  const y = done.map((t) => (t.values as number[])[target]);
  const box = params.map(([, d]) => domain(d));
  const rng = new Rng(options.seed ?? 0);
  const totals = new Float64Array(params.length);
  const numTrees = options.numTrees ?? 64;
  let used = 0;
  for (let t = 0; t < numTrees; t++) {
    const sample = Array.from({ length: x.length }, () => Math.floor((rng.nextU32() / 2 ** 32) * x.length));
    const leaves: Leaf[] = [];
    growTree(
      x,
      y,
      sample,
      box.map((b) => b[0]),
      box.map((b) => b[1]),
      0,
      options,
      leaves,
      rng,
    );
    const effects = mainEffects(leaves, box);
    if (!effects) continue;
    for (let i = 0; i < params.length; i++) totals[i] += effects[i];
    used++;
  }
  const raw = [...totals].map((v) => (used > 0 ? v / used : 0));
  const sum = raw.reduce((a, b) => a + b, 0);
  return new Map(params.map(([name], i) => [name, sum > 0 ? raw[i] / sum : 1 / params.length]));
}

/** Grows one regression tree by variance reduction; pushes its leaves (boxes with a mean). */
function growTree(
  x: number[][],
  y: number[],
  rows: number[],
  lo: number[],
  hi: number[],
  depth: number,
  options: ImportanceOptions,
  leaves: Leaf[],
  rng: Rng,
): void {
  const mean = rows.reduce((a, r) => a + y[r], 0) / rows.length;
  const minLeaf = options.minSamplesLeaf ?? 2;
  const split = depth < (options.maxDepth ?? 8) && rows.length >= 2 * minLeaf ? bestSplit(x, y, rows, minLeaf, rng) : null;
  if (!split) {
    leaves.push({ lo: [...lo], hi: [...hi], value: mean });
    return;
  }
  const left = rows.filter((r) => x[r][split.feature] <= split.threshold);
  const right = rows.filter((r) => x[r][split.feature] > split.threshold);
  const midHi = [...hi];
  midHi[split.feature] = split.threshold;
  const midLo = [...lo];
  midLo[split.feature] = split.threshold;
  growTree(x, y, left, lo, midHi, depth + 1, options, leaves, rng);
  growTree(x, y, right, midLo, hi, depth + 1, options, leaves, rng);
}

function bestSplit(x: number[][], y: number[], rows: number[], minLeaf: number, rng: Rng): { feature: number; threshold: number } | null {
  const numFeatures = x[0].length;
  // trying a random subset of ⌈d/3⌉ + 1 features per split decorrelates the trees
  const tries = Math.max(1, Math.ceil(numFeatures / 3) + 1);
  let best: { feature: number; threshold: number; score: number } | null = null;
  for (let k = 0; k < Math.min(tries, numFeatures); k++) {
    const feature = Math.floor((rng.nextU32() / 2 ** 32) * numFeatures);
    const sorted = [...rows].sort((a, b) => x[a][feature] - x[b][feature]);
    let leftSum = 0;
    let leftSq = 0;
    const total = sorted.reduce((a, r) => a + y[r], 0);
    const totalSq = sorted.reduce((a, r) => a + y[r] * y[r], 0);
    for (let i = 0; i < sorted.length - 1; i++) {
      leftSum += y[sorted[i]];
      leftSq += y[sorted[i]] ** 2;
      const n = i + 1;
      const a = x[sorted[i]][feature];
      const b = x[sorted[i + 1]][feature];
      if (n < minLeaf || sorted.length - n < minLeaf || a === b) continue;
      const sse = leftSq - leftSum ** 2 / n + (totalSq - leftSq) - (total - leftSum) ** 2 / (sorted.length - n);
      if (!best || sse < best.score) best = { feature, threshold: (a + b) / 2, score: sse };
    }
  }
  return best;
}

/** Each parameter's main-effect variance as a fraction of the tree's total variance over the box; null for a constant tree. */
function mainEffects(leaves: readonly Leaf[], box: readonly [number, number][]): number[] | null {
  const width = box.map(([a, b]) => b - a || 1);
  const frac = (leaf: Leaf, d: number) => (leaf.hi[d] - leaf.lo[d]) / width[d];
  const volume = leaves.map((leaf) => box.reduce((v, _, d) => v * frac(leaf, d), 1));
  const mean = leaves.reduce((a, leaf, i) => a + volume[i] * leaf.value, 0);
  const total = leaves.reduce((a, leaf, i) => a + volume[i] * (leaf.value - mean) ** 2, 0);
  if (!(total > 1e-300)) return null;
  return box.map((_, d) => {
    const cuts = [...new Set(leaves.flatMap((l) => [l.lo[d], l.hi[d]]))].sort((a, b) => a - b);
    let variance = 0;
    for (let c = 0; c < cuts.length - 1; c++) {
      const mid = (cuts[c] + cuts[c + 1]) / 2;
      let marginal = 0;
      for (let i = 0; i < leaves.length; i++) {
        const leaf = leaves[i];
        if (mid < leaf.lo[d] || mid > leaf.hi[d]) continue;
        marginal += (volume[i] / frac(leaf, d)) * leaf.value;
      }
      variance += ((cuts[c + 1] - cuts[c]) / width[d]) * (marginal - mean) ** 2;
    }
    return variance / total;
  });
}
