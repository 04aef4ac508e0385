// Samplers against Optuna 3.1 (Debian's python3-optuna, run by bench/optuna_peer.py).
//   node --import tsx bench/tune-samplers.ts [--seeds 10] [--trials 100] [--moTrials 500]
//                                            [--no-optuna] [--optuna-multivariate] [--study]
//                                            [--tpe-variants '[{"minBandwidthFactor":0.03}, ...]']
//                                            [--out bench/results/tune-samplers.md]
//                                            [--problems branin,hartmann6,mixed6,cond6,zdt1,zdt2]
// TPE: median best value over the seeds on branin, hartmann6, mixed6, cond6 (lower is better);
// with more than 10 seeds also the median of each block of 10 seeds (seeds 0-9, 10-19, ...).
// Both sides run seeds 0..seeds-1. cond6 is a conditional space, run through the real Study.
// rosenbrock2 and styblinski5 are held out: only with --problems, not used to choose the defaults.
// --tpe-variants adds a row of our TPE per options object (TPESamplerOptions as JSON; gamma: β for
// min(⌈β·n⌉, 25)), for ablations.
// NSGA-II: median hypervolume on zdt1, zdt2 at the reference point ZDT_REFERENCE (higher is better).
// Sampler time per trial: time inside the sampler's methods only (both sides wrap them the same way).
// --study also runs ours through the real Study (createStudy/ask/tell, in-memory storage).

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng } from '../src/tensor/random.js';
import type { Distribution, ParamValue } from '../src/tune/distributions.js';
import type { Sampler } from '../src/tune/samplers/base.js';
import { NSGAIISampler } from '../src/tune/samplers/nsga2.js';
import { hypervolume2d } from '../src/tune/samplers/pareto.js';
import { RandomSampler, sampleUniform } from '../src/tune/samplers/random.js';
import { TPESampler, type TPESamplerOptions } from '../src/tune/samplers/tpe.js';
import { createStudy } from '../src/tune/study.js';
import { type RunResult, runDirect, runThroughStudy, timedSampler } from './tune-loop.js';
import { PROBLEMS, type Problem, ZDT_REFERENCE } from './tune-problems.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    trials: { type: 'string', default: '100' },
    moTrials: { type: 'string', default: '500' },
    'no-optuna': { type: 'boolean', default: false },
    'optuna-multivariate': { type: 'boolean', default: false },
    'tpe-variants': { type: 'string', default: '[]' },
    study: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/tune-samplers.md' },
    problems: { type: 'string', default: 'branin,hartmann6,mixed6,cond6,zdt1,zdt2' },
  },
});
const nSeeds = Number(args.seeds);
const nTrials = Number(args.trials);
const moTrials = Number(args.moTrials);
const python = process.env.OPTUNA_PYTHON ?? '/usr/bin/python3';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function peer(argv: string[], input?: string): string {
  const r = spawnSync(python, ['bench/optuna_peer.py', ...argv], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`optuna_peer.py ${argv.join(' ')} failed (is python3-optuna installed?):\n${r.stderr}`);
  return r.stdout;
}

/** The objective functions must agree between the two languages: 20 random points per problem. */
function checkProblemsAgree(): void {
  const rng = new Rng(99);
  const points: Record<string, Record<string, ParamValue>[]> = {};
  for (const [name, p] of Object.entries(PROBLEMS)) {
    points[name] = Array.from({ length: 20 }, () => suggestAll(p, (_, d) => sampleUniform(rng, d)));
  }
  const theirs = JSON.parse(peer(['check'], JSON.stringify(points))) as Record<string, number[][]>;
  for (const [name, pts] of Object.entries(points)) {
    pts.forEach((pt, i) => {
      const ours = PROBLEMS[name]!.evaluate(pt);
      ours.forEach((v, j) => {
        const w = theirs[name]![i]![j]!;
        if (Math.abs(v - w) > 1e-12 * Math.max(1, Math.abs(w))) throw new Error(`${name} differs at ${JSON.stringify(pt)}: ${v} vs ${w}`);
      });
    });
  }
  console.log(`objective functions agree between TypeScript and Python (${20 * Object.keys(points).length} points)`);
}

/** The parameters of one trial of `problem`, each drawn by `ask` (define-by-run where the problem has `suggest`). */
function suggestAll(problem: Problem, ask: (name: string, d: Distribution) => ParamValue): Record<string, ParamValue> {
  if (problem.suggest) return problem.suggest(ask);
  return Object.fromEntries(Object.entries(problem.space).map(([k, d]) => [k, ask(k, d)]));
}

/** A conditional problem through createStudy / ask / suggest / tell (in-memory storage). */
async function runConditional(problem: Problem, inner: Sampler, nTrials: number, name: string): Promise<RunResult> {
  const sampler = timedSampler(inner);
  const study = await createStudy({ name, storage: 'memory', directions: problem.directions, sampler });
  const values: number[][] = [];
  const wall0 = performance.now();
  for (let n = 0; n < nTrials; n++) {
    const trial = await study.ask();
    const params = suggestAll(problem, (pname, d) => {
      if (d.kind === 'categorical') return trial.suggestCategorical(pname, d.choices);
      if (d.kind === 'int') return trial.suggestInt(pname, d.low, d.high, { log: d.log, step: d.step });
      return trial.suggestFloat(pname, d.low, d.high, { log: d.log, step: d.step });
    });
    const v = problem.evaluate(params);
    await study.tell(trial, v);
    values.push(v);
  }
  return { values, samplerMs: sampler.spentMs, wallMs: performance.now() - wall0 };
}

interface Row {
  problem: string;
  sampler: string;
  /** median best value (single objective) or median hypervolume */
  score: number;
  /** the median of each block of 10 seeds, when there are more than 10 */
  blocks: number[];
  msPerTrial: number;
}

function score(problem: Problem, values: number[][]): number {
  return problem.directions.length === 1 ? Math.min(...values.map((v) => v[0]!)) : hypervolume2d(values, ZDT_REFERENCE);
}

async function ours(problem: Problem, label: string, make: (seed: number) => Sampler, trials: number, throughStudy: boolean): Promise<Row> {
  const scores: number[] = [];
  let ms = 0;
  for (let seed = 0; seed < nSeeds; seed++) {
    const name = `${problem.name}-${label}-${seed}`;
    const r: RunResult = problem.suggest
      ? await runConditional(problem, make(seed), trials, name)
      : throughStudy
        ? await runThroughStudy(problem, make(seed), trials, name)
        : runDirect(problem, make(seed), trials);
    scores.push(score(problem, r.values));
    ms += r.samplerMs;
  }
  return { problem: problem.name, sampler: label, score: median(scores), blocks: blockMedians(scores), msPerTrial: ms / (nSeeds * trials) };
}

/** Medians of seeds 0-9, 10-19, ... (scores in seed order); none for 10 seeds or fewer. */
function blockMedians(scores: number[]): number[] {
  if (scores.length <= 10) return [];
  const out: number[] = [];
  for (let b = 0; b + 10 <= scores.length; b += 10) out.push(median(scores.slice(b, b + 10)));
  return out;
}

function optuna(problem: Problem, sampler: string, trials: number): Row {
  const lines = peer(['run', problem.name, sampler, String(trials), `0-${nSeeds - 1}`])
    .trim()
    .split('\n');
  const runs = lines.map((l) => JSON.parse(l) as { best?: number; values?: number[][]; samplerSeconds: number });
  const scores = runs.map((r) => (r.best !== undefined ? r.best : hypervolume2d(r.values!, ZDT_REFERENCE)));
  const ms = runs.reduce((a, r) => a + r.samplerSeconds * 1000, 0) / (nSeeds * trials);
  return { problem: problem.name, sampler: `Optuna 3.1 ${sampler}`, score: median(scores), blocks: blockMedians(scores), msPerTrial: ms };
}

const rows: Row[] = [];
const withOptuna = !args['no-optuna'];
if (withOptuna) checkProblemsAgree();
const selected = args.problems!.split(',');
/** A --tpe-variants gamma β: the below set is min(⌈β·n⌉, 25) trials (Optuna's rule has β = 0.1). */
const gammaOf = (beta: number | undefined) => (beta === undefined ? undefined : (n: number) => Math.min(Math.ceil(beta * n), 25));

const TPE_VARIANTS: [string, (seed: number) => Sampler][] = [
  ['attune TPE', (seed) => new TPESampler({ seed })],
  ["attune TPE, Optuna 3.1's defaults (univariate)", (seed) => new TPESampler({ seed, multivariate: false })],
  ["attune TPE multivariate, Optuna 3.1's widths", (seed) => new TPESampler({ seed, bandwidth: 'optuna' })],
  ...(JSON.parse(args['tpe-variants']!) as (Omit<TPESamplerOptions, 'gamma'> & { gamma?: number })[]).map(
    (o): [string, (seed: number) => Sampler] => [
      `attune TPE ${JSON.stringify(o)}`,
      (seed) => new TPESampler({ ...o, seed, gamma: gammaOf(o.gamma) }),
    ],
  ),
];
for (const name of ['branin', 'hartmann6', 'mixed6', 'cond6', 'rosenbrock2', 'styblinski5'].filter((n) => selected.includes(n))) {
  const p = PROBLEMS[name]!;
  for (const [label, make] of TPE_VARIANTS) rows.push(await ours(p, label, make, nTrials, false));
  if (args.study && !p.suggest) rows.push(await ours(p, 'attune TPE via Study', (seed) => new TPESampler({ seed }), nTrials, true));
  rows.push(await ours(p, 'attune random', (seed) => new RandomSampler({ seed }), nTrials, false));
  if (withOptuna) rows.push(optuna(p, 'tpe', nTrials));
  if (withOptuna && args['optuna-multivariate']) rows.push(optuna(p, 'tpe-multivariate', nTrials));
  console.log(
    rows
      .filter((r) => r.problem === name)
      .map(format)
      .join('\n'),
  );
}
for (const name of ['zdt1', 'zdt2'].filter((n) => selected.includes(n))) {
  const p = PROBLEMS[name]!;
  rows.push(await ours(p, 'attune NSGA-II', (seed) => new NSGAIISampler({ seed }), moTrials, false));
  rows.push(await ours(p, 'attune NSGA-II sbx', (seed) => new NSGAIISampler({ seed, crossover: 'sbx' }), moTrials, false));
  if (args.study) rows.push(await ours(p, 'attune NSGA-II via Study', (seed) => new NSGAIISampler({ seed }), moTrials, true));
  rows.push(await ours(p, 'attune random', (seed) => new RandomSampler({ seed }), moTrials, false));
  if (withOptuna) rows.push(optuna(p, 'nsga2', moTrials));
  console.log(
    rows
      .filter((r) => r.problem === name)
      .map(format)
      .join('\n'),
  );
}

/** An argument as a POSIX shell would need it written. */
function shellQuote(a: string): string {
  return /^[\w./,=:-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
}

function format(r: Row): string {
  const blocks = nSeeds > 10 ? ` ${r.blocks.map((b) => b.toPrecision(4)).join(' ')} |` : '';
  return `| ${r.problem} | ${r.sampler} | ${r.score.toPrecision(6)} |${blocks} ${r.msPerTrial.toFixed(3)} |`;
}

const header = [
  `Samplers vs Optuna 3.1: ${nSeeds} seeds; ${nTrials} trials (TPE, median best value, lower is better),`,
  `${moTrials} trials (NSGA-II, median hypervolume at (${ZDT_REFERENCE}), higher is better).`,
  `Sampler ms/trial = time inside the sampler methods. \`node --import tsx bench/tune-samplers.ts ${process.argv.slice(2).map(shellQuote).join(' ')}\``,
  '',
  nSeeds > 10
    ? '| problem | sampler | median score | medians of seeds 0-9, 10-19, ... | sampler ms/trial |'
    : '| problem | sampler | median score | sampler ms/trial |',
  nSeeds > 10 ? '|---|---|---|---|---|' : '|---|---|---|---|',
];
const table = [...header, ...rows.map(format)].join('\n');
console.log(`\n${table}`);
writeFileSync(args.out!, `${table}\n`);
