// npm run bench -- autotune [--quick] [--backend wasm|native] [--threads n] [--repeats n] [--budget s] [--statistic median|min] [shape ...]
//
// How good is the autotuner's search? For each shape (default: the 17
// standard shapes of src/autotune/shapes.ts; --quick: 4 small ones) on one
// backend (--backend, default wasm):
//   1. an exhaustive sweep times every candidate of the kernel's settings space;
//   2. the autotuner searches the same space (coordinate descent with racing)
//      and confirms its pick against the defaults;
//   3. the defaults, the sweep's best and the autotuner's pick are timed again,
//      interleaved, `--final` samples each (so drift hits all three alike);
//      two of them with the same settings share their samples.
// Reported per shape and as geometric means: the autotuned speed as a
// fraction of the sweep's best (target ≥ 97%), the search time as a fraction
// of the sweep's (target ≤ 1/10), the autotuned speed over the defaults'
// (target ≥ 1 on every shape) and the defaults' gap to the sweep's best.
// --statistic min takes the fastest sample instead of the median (for a
// machine other work preempts). The cache file is not touched. Writes bench/results/autotune.json.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { spaceSize } from '../src/autotune/search.ts';
import { QUICK_SHAPES, STANDARD_SHAPES } from '../src/autotune/shapes.ts';
import { type Statistic, summarize } from '../src/autotune/timing.ts';
import { makeSampler, type TuneOptions, tuneWorkload } from '../src/autotune/tuner.ts';
import { makeWorkload, parseShape } from '../src/autotune/workloads.ts';
import type { Settings } from '../src/backend/settings.ts';
import { kernelSettings } from '../src/backend/settings.ts';
import * as at from '../src/index.ts';
import { machineInfo } from './report.ts';

const { values: args, positionals } = parseArgs({
  args: process.argv.slice(3),
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    threads: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    repeats: { type: 'string', default: '5' },
    final: { type: 'string', default: '9' },
    budget: { type: 'string', default: '600' },
    statistic: { type: 'string', default: 'median' },
  },
});

at.configureAutotune({ mode: 'off' });
at.setBackend(args.backend);
const backend = at.getBackend();
const settings = kernelSettings(backend.name);
if (!settings) throw new Error(`bench autotune: backend '${backend.name}' has no tunable kernels`);
if (args.threads) at.setThreads(Number(args.threads));
const repeats = Number(args.repeats);
const finalSamples = Number(args.final);
const shapes = (positionals.length ? positionals : undefined) ?? (args.quick ? QUICK_SHAPES : STANDARD_SHAPES);
const timing = { warmup: 2, repeats, minSampleSeconds: 0.002 };
const statistic = args.statistic as Statistic;
if (statistic !== 'median' && statistic !== 'min') throw new Error(`bench autotune: --statistic must be median or min, got '${statistic}'`);
const search = { repeats, budgetSeconds: Number(args.budget), maxPasses: 3, raceMargin: 1.25, statistic };
const options = (strategy: TuneOptions['strategy']): Partial<TuneOptions> => ({ strategy, timing, search });

interface Row {
  shape: string;
  kernel: string;
  candidates: number;
  defaults: Settings;
  sweepBest: Settings;
  autotuned: Settings;
  seconds: { defaults: number; sweepBest: number; autotuned: number };
  searchSeconds: { sweep: number; autotune: number };
  evaluations: { sweep: number; autotune: number };
}

const ms = (s: number) => (s * 1e3).toFixed(3);
const settingsId = (s: Settings) =>
  JSON.stringify(
    Object.keys(s)
      .sort()
      .map((k) => [k, s[k]]),
  );
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

const rows: Row[] = [];
console.log(
  `autotune bench: ${shapes.length} shapes, ${backend.name} ${settings.build}, ${backend.threads} threads, ${repeats} samples per candidate`,
);
for (const spec of shapes) {
  const w = makeWorkload(parseShape(spec));
  try {
    const registry = settings;
    const defaults = registry.defaults(w.kernel);
    const sweep = tuneWorkload(registry, backend.kernels, w, options('exhaustive'));
    const tuned = tuneWorkload(registry, backend.kernels, w, options('descent'));
    // the final word: the three settings, interleaved
    const sampler = makeSampler(registry, backend.kernels, w, timing);
    // settings that are the same (the autotuner kept the defaults, or found the sweep's best) are
    // one measurement: timing them apart would report noise as a speed-up or a slowdown
    const picks = { defaults, sweepBest: sweep.searchBest, autotuned: tuned.settings };
    const distinct = new Map<string, { settings: Settings; samples: number[] }>();
    for (const s of Object.values(picks)) distinct.set(settingsId(s), { settings: s, samples: [] });
    for (let r = 0; r < finalSamples; r++) for (const d of distinct.values()) d.samples.push(...sampler(d.settings, 1));
    const samples = {
      defaults: distinct.get(settingsId(defaults))!.samples,
      sweepBest: distinct.get(settingsId(sweep.searchBest))!.samples,
      autotuned: distinct.get(settingsId(tuned.settings))!.samples,
    };
    const row: Row = {
      shape: w.label,
      kernel: w.kernel,
      candidates: spaceSize(registry.space(w.kernel)),
      defaults,
      sweepBest: sweep.searchBest,
      autotuned: tuned.settings,
      seconds: {
        defaults: summarize(samples.defaults, statistic),
        sweepBest: summarize(samples.sweepBest, statistic),
        autotuned: summarize(samples.autotuned, statistic),
      },
      searchSeconds: { sweep: sweep.searchSeconds, autotune: tuned.searchSeconds },
      evaluations: { sweep: sweep.evaluations, autotune: tuned.evaluations },
    };
    rows.push(row);
    const s = row.seconds;
    console.log(
      `${row.shape.padEnd(46)} ${row.kernel.padEnd(17)} defaults ${ms(s.defaults)} ms  sweep ${ms(s.sweepBest)} ms  autotuned ${ms(s.autotuned)} ms` +
        `  | vs sweep ${pct(s.sweepBest / s.autotuned)}  vs defaults ${(s.defaults / s.autotuned).toFixed(2)}×` +
        `  search ${row.searchSeconds.autotune.toFixed(1)} s (${row.evaluations.autotune}/${row.candidates}) vs ${row.searchSeconds.sweep.toFixed(1)} s`,
    );
  } finally {
    w.dispose();
  }
}

const vsSweep = geomean(rows.map((r) => r.seconds.sweepBest / r.seconds.autotuned));
const searchFraction = rows.reduce((a, r) => a + r.searchSeconds.autotune, 0) / rows.reduce((a, r) => a + r.searchSeconds.sweep, 0);
const vsDefaults = geomean(rows.map((r) => r.seconds.defaults / r.seconds.autotuned));
const defaultsGap = geomean(rows.map((r) => r.seconds.sweepBest / r.seconds.defaults));
const slower = rows.filter((r) => r.seconds.autotuned > r.seconds.defaults * 1.02);
const summary = {
  shapes: rows.length,
  autotunedSpeedVsSweep: vsSweep,
  searchTimeVsSweep: searchFraction,
  autotunedSpeedupVsDefaults: vsDefaults,
  defaultsSpeedVsSweep: defaultsGap,
  shapesSlowerThanDefaults: slower.map((r) => r.shape),
};
console.log(
  `\ngeometric means over ${rows.length} shapes: autotuned speed ${pct(vsSweep)} of the exhaustive sweep's best (target ≥ 97%)` +
    ` in ${pct(searchFraction)} of its search time (target ≤ 10%); ${vsDefaults.toFixed(2)}× the defaults; the defaults reach ${pct(defaultsGap)} of the sweep's best`,
);
console.log(
  slower.length
    ? `slower than the defaults by > 2%: ${slower.map((r) => r.shape).join('; ')}`
    : 'no shape slower than the defaults (by > 2%)',
);

const file = new URL(`./results/autotune-${backend.name}-${backend.threads}t${args.quick ? '-quick' : ''}.json`, import.meta.url).pathname;
mkdirSync(new URL('./results/', import.meta.url).pathname, { recursive: true });
writeFileSync(
  `${file}.tmp`,
  `${JSON.stringify({ name: 'autotune', machine: machineInfo(), backend: backend.name, build: settings.build, threads: backend.threads, summary, rows }, null, 1)}\n`,
);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
