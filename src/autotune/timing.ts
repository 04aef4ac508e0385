// Timing one kernel call: warm-up runs, then samples of enough calls each to
// last ≥ minSampleSeconds (a timer tick or a thread wake-up is no longer the
// measurement), and the median of the samples.

export interface TimingOptions {
  /** Untimed calls first (V8 tier-up, caches, worker wake-up). */
  warmup: number;
  /** Timed samples; the result is their median. */
  repeats: number;
  /** Each sample repeats the call until it lasts this long. */
  minSampleSeconds: number;
}

export const defaultTiming: TimingOptions = { warmup: 2, repeats: 5, minSampleSeconds: 0.002 };

/**
 * How samples become one time: 'median' (the default), or 'min' for a machine
 * that other work preempts (a preempted sample only ever reads slower, so the
 * fastest is the closest to the kernel's own cost).
 */
export type Statistic = 'median' | 'min';

export function summarize(xs: readonly number[], statistic: Statistic = 'median'): number {
  return statistic === 'min' ? Math.min(...xs) : median(xs);
}

const now = (): number => performance.now() / 1000;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Calls per sample so that one sample lasts ≥ minSampleSeconds, from the seconds one call took. */
export function callsPerSample(oneCallSeconds: number, minSampleSeconds: number): number {
  return Math.max(1, Math.min(10_000, Math.ceil(minSampleSeconds / Math.max(oneCallSeconds, 1e-7))));
}

/** Seconds one call of `run` takes (a single timed call). */
export function timeOneCall(run: () => void): number {
  const t0 = now();
  run();
  return now() - t0;
}

/** Seconds per call of each of `repeats` samples (`calls` calls each). */
export function sample(run: () => void, calls: number, repeats: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = now();
    for (let c = 0; c < calls; c++) run();
    out.push((now() - t0) / calls);
  }
  return out;
}

/** Median seconds per call of `run`. */
export function measure(run: () => void, options: TimingOptions = defaultTiming): number {
  for (let i = 0; i < options.warmup; i++) run();
  return median(sample(run, callsPerSample(timeOneCall(run), options.minSampleSeconds), options.repeats));
}
