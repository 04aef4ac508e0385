// Tuning one workload on one backend: search its kernel's settings space,
// confirm the winner against the defaults (samples interleaved, so drift hits
// both alike), and keep it only when it is faster by more than the noise
// margin (and not slower under the other statistic, median or min): tuned
// settings are never slower than the defaults they replace.

import type { KernelTable } from '../backend/kernels.js';
import type { KernelSettings, Settings } from '../backend/settings.js';
import type { CacheEntry } from './cache.js';
import { coordinateDescent, defaultSearch, exhaustive, type SearchOptions } from './search.js';
import { callsPerSample, defaultTiming, type Statistic, sample, summarize, type TimingOptions, timeOneCall } from './timing.js';
import type { Workload } from './workloads.js';

export interface TuneOptions {
  timing: TimingOptions;
  search: SearchOptions;
  /** 'descent' (coordinate descent with racing) or 'exhaustive' (every candidate: the yardstick). */
  strategy: 'descent' | 'exhaustive';
  /** Keep the winner only when it takes < this fraction of the defaults' time. */
  acceptBelow: number;
}

export const defaultTuneOptions: TuneOptions = { timing: defaultTiming, search: defaultSearch, strategy: 'descent', acceptBelow: 0.98 };

export interface TuneResult extends CacheEntry {
  label: string;
  /** The search's best before the confirmation against the defaults. */
  searchBest: Settings;
  samples: number;
  /** Whether the tuned settings replaced the defaults. */
  accepted: boolean;
}

/**
 * Times workload `w` on `kernels` under any settings of `registry` (warm-up and calibration
 * once per candidate). A probe — the first sample of a raced candidate — is cheaper: one
 * warm-up call, and the calibration call itself is the sample when it already lasts
 * minSampleSeconds (long kernels), so a candidate the race drops costs two calls, not four.
 */
export function makeSampler(registry: KernelSettings, kernels: Partial<KernelTable>, w: Workload, timing: TimingOptions) {
  const calls = new Map<string, number>();
  const run = () => w.run(kernels);
  return (settings: Settings, samples: number, probe = false): number[] =>
    registry.withSettings(w.kernel, settings, () => {
      const id = JSON.stringify(settings);
      let n = calls.get(id);
      if (n === undefined) {
        for (let i = 0; i < (probe ? Math.min(1, timing.warmup) : timing.warmup); i++) run();
        const one = timeOneCall(run);
        n = callsPerSample(one, timing.minSampleSeconds);
        calls.set(id, n);
        if (probe && n === 1 && samples === 1) return [one];
      }
      return sample(run, n, samples);
    });
}

/** Searches, confirms against the defaults, and records the result in the registry. */
export function tuneWorkload(
  registry: KernelSettings,
  kernels: Partial<KernelTable>,
  w: Workload,
  options: Partial<TuneOptions> = {},
): TuneResult {
  const o = { ...defaultTuneOptions, ...options };
  const kernel = w.kernel;
  const key = registry.keyOf(kernel, w.params);
  const defaults = registry.defaults(kernel);
  const space = registry.space(kernel);
  const sampler = makeSampler(registry, kernels, w, o.timing);
  const found = o.strategy === 'exhaustive' ? exhaustive(space, sampler, o.search) : coordinateDescent(space, defaults, sampler, o.search);
  const best = { ...defaults, ...found.best };
  const confirm = confirmAgainstDefaults(sampler, best, defaults, 2 * o.timing.repeats + 1, o.search.statistic);
  // faster by the margin under the chosen statistic, and not slower under the other one
  const other: Statistic = o.search.statistic === 'min' ? 'median' : 'min';
  const accepted =
    confirm.best < confirm.defaults * o.acceptBelow && summarize(confirm.samples.best, other) <= summarize(confirm.samples.defaults, other);
  const settings = accepted ? best : { ...defaults };
  registry.set(kernel, key, settings);
  return {
    label: w.label,
    backend: registry.backend,
    build: registry.build,
    kernel,
    key,
    settings,
    searchBest: best,
    seconds: accepted ? confirm.best : confirm.defaults,
    defaultSeconds: confirm.defaults,
    evaluations: found.evaluations,
    samples: found.samples + 2 * (2 * o.timing.repeats + 1),
    searchSeconds: found.searchSeconds,
    tunedAt: new Date().toISOString(),
    accepted,
  };
}

/** The times (median by default) of interleaved samples of the candidate and the defaults. */
export function confirmAgainstDefaults(
  sampler: (s: Settings, n: number) => number[],
  best: Settings,
  defaults: Settings,
  repeats: number,
  statistic: Statistic = 'median',
) {
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < repeats; r++) {
    b.push(...sampler(defaults, 1));
    a.push(...sampler(best, 1));
  }
  return { best: summarize(a, statistic), defaults: summarize(b, statistic), samples: { best: a, defaults: b } };
}
