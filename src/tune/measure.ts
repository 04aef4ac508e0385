// How a tuning trial measures a trained model on this machine: wall time (median of repeated
// runs after a warm-up), peak tensor memory of one inference, and the parameters of the
// attention layers alone (query, key, value and output projections).

import type { Module } from '../nn/module.js';
import { getHeap } from '../tensor/tensor.js';

/**
 * Warm-up: at least `calls` calls and WARMUP_SECONDS of them. V8 optimises the JS around
 * the kernels only after many calls, and a fresh worker's first design measured 3–4× slow
 * after three calls (1 ms inferences).
 */
const WARMUP_SECONDS = 0.3;
function warmUp(fns: readonly (() => void)[], calls: number): void {
  const t0 = performance.now();
  for (let i = 0; i < calls || performance.now() - t0 < WARMUP_SECONDS * 1000; i++) for (const fn of fns) fn();
}

/** Median wall time of fn over `runs` calls after a warm-up of at least `warmup` calls, ms. */
export function medianMs(fn: () => void, runs = 15, warmup = 3): number {
  warmUp([fn], warmup);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Peak tensor bytes above what was live before fn. */
export function peakBytes(fn: () => void): number {
  const heap = getHeap();
  const before = heap.stats.liveBytes;
  heap.resetPeak();
  fn();
  return heap.stats.peakBytes - before;
}

/** Parameters inside attention modules (names with an `attention.` / `Attention.` segment). */
export function attentionParameters(model: Module): number {
  let n = 0;
  for (const [name, t] of model.namedParameters()) if (/(^|\.)(\w*[aA]ttention)\./.test(name)) n += t.size;
  return n;
}

/**
 * Median wall time of each fn, ms, timed in alternation (one run of each per round after the
 * warm-up), so a change in background load affects every fn alike: for comparing designs.
 */
export function interleavedMedianMs(fns: readonly (() => void)[], rounds = 21, warmup = 3): number[] {
  warmUp(fns, warmup);
  const times = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      times[i]!.push(performance.now() - t0);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}
