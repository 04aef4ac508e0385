// The benchmark harness: what a compared system implements, and the machinery that
// times it, checks it, measures its memory and reports it.
//
// B batch · H heads · Nq query rows · Nk key rows · D head dim
//
// ## Adding a system
//
// A system is a module under bench/ that exports `systems: System[]`. A case names
// the module (path relative to bench/), the system and one of its variants:
//
//   export interface System {
//     name: string;                       // 'ort-node', 'tfjs-wasm', 'attune-wasm', ...
//     maxThreads?: number;                // cases asking for more threads are skipped
//     variants(workload): string[];       // formulations it offers for a workload ([] = none)
//     init?(threads): Promise<void>;      // once per process, before any setup (thread pools, wasm)
//     setup(spec, inputs): Promise<Case>; // build sessions/tensors; throw SkipCase to skip
//   }
//   export interface Case {
//     run(): void | Promise<void>;        // the timed work: one forward (or forward+backward)
//     outputs(): Outputs | Promise<Outputs>; // results of the last run, canonical layouts, untimed
//     dispose(): void | Promise<void>;
//   }
//
// Inputs and outputs are Float32Arrays in the canonical layouts:
//   matmul:    a [...batch, M, K], b [...batch, K, N] → c [...batch, M, N]
//   attention: q [B, H, Nq, D], k, v [B, H, Nk, D] → o [B, H, Nq, D];
//              forwardBackward also gets dOut [B, H, Nq, D] (the upstream gradient of o)
//              and returns dq, dk, dv (o optional).
// A system that wants another layout converts in setup() and outputs(), outside the timing.
//
// Each (module, system, threads) group runs in its own child process (bench/child.ts):
// onnxruntime-web fixes its thread count when it starts. In the child every case is
// set up, run once, checked against a plain JS reference on the same seeded inputs
// (bench/reference.ts), and only then timed; a case that disagrees is reported, not timed.
// A case that throws or crashes is reported as failed and its group goes on in a fresh
// process. Peak RSS is VmHWM, reset just before the timed runs; in a shared process it
// includes what earlier cases left (wasm heaps never shrink): `processPerCase` isolates.
// Tables and the JSON in bench/results/ are bench/report.ts.
//
// ## Using it (bench/matmul.ts, bench/attention.ts)
//
//   const workload: Workload = { kind: 'matmul', shapeA: [1024, 1024], shapeB: [1024, 1024] };
//   const results = await runCases([
//     { module: 'peers/ort.ts', system: 'ort-node', variant: 'MatMul', threads: 1, workload },
//     { module: 'attune.ts', system: 'attune-wasm', variant: 'default', threads: 1, workload },
//   ], { retryContended: 1 });
//   // from './report.js':
//   printTable(results, { baseline: 'ort-node MatMul ×1' });
//   writeResults('matmul', results);

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MatmulWorkload {
  kind: 'matmul';
  shapeA: number[];
  shapeB: number[];
}

export interface AttentionWorkload {
  kind: 'attention';
  batch: number;
  numHeads: number;
  headDim: number;
  seqQ: number;
  seqK: number;
  /** Query row i sees keys j ≤ i + (Nk − Nq) (bottom-right aligned). */
  causal: boolean;
  pass: 'forward' | 'forwardBackward';
}

export type Workload = MatmulWorkload | AttentionWorkload;

export type Inputs = Record<string, Float32Array>;
export type Outputs = Record<string, Float32Array>;

export interface TimingOptions {
  /** Untimed runs first (JIT tier-up, arenas, caches). */
  warmup: number;
  minRuns: number;
  minSeconds: number;
  /** Stop after this long even below minRuns (at least one timed run is made). */
  maxSeconds: number;
}

export interface CaseSpec {
  /** Module exporting `systems`, relative to bench/, e.g. 'peers/ort.ts'. */
  module: string;
  system: string;
  variant: string;
  threads: number;
  workload: Workload;
  seed?: number;
  timing?: Partial<TimingOptions>;
  /** Largest accepted relative error (max |x − ref| / max |ref|); default 1e-3. */
  tolerance?: number;
}

export interface Case {
  run(): void | Promise<void>;
  outputs(): Outputs | Promise<Outputs>;
  dispose(): void | Promise<void>;
}

export interface System {
  name: string;
  maxThreads?: number;
  variants(workload: Workload): string[];
  init?(threads: number): Promise<void>;
  setup(spec: CaseSpec, inputs: Inputs): Promise<Case>;
}

/** Thrown by setup() when a system cannot run a case; the reason is reported. */
export class SkipCase extends Error {}

export interface CaseResult {
  spec: CaseSpec;
  status: 'ok' | 'mismatch' | 'skipped' | 'failed';
  reason?: string;
  flops: number;
  /** Median seconds of the timed runs. */
  seconds?: number;
  samples?: number[];
  gflops?: number;
  /** Largest relative error against the reference; null when not finite (NaN/∞ in the output). */
  maxRelError?: number | null;
  /** setup() and the first, untimed run (session creation, weight packing, compilation). */
  setupSeconds?: number;
  /** Resident set before setup (runtime + library loaded) and its peak while timing. */
  rssBeforeSetupMiB?: number;
  peakRssMiB?: number;
  /**
   * Process CPU seconds per wall second while timing: about `threads` when the
   * threads really ran; lower means they waited (a busy machine, or no pool).
   */
  cpuPerWall?: number;
}

export const defaultTiming: TimingOptions = { warmup: 2, minRuns: 5, minSeconds: 0.5, maxSeconds: 10 };

// ---------------------------------------------------------------- workloads

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** GEMM 2·M·N·K·batch; attention 4·B·H·Nq·Nk·D, halved when causal, ×3.5 with the backward. */
export function workloadFlops(w: Workload): number {
  if (w.kind === 'matmul') {
    const m = w.shapeA[w.shapeA.length - 2];
    const k = w.shapeA[w.shapeA.length - 1];
    const n = w.shapeB[w.shapeB.length - 1];
    const batch = Math.max(shapeSize(w.shapeA.slice(0, -2)), shapeSize(w.shapeB.slice(0, -2)));
    return 2 * m * n * k * batch;
  }
  const forward = (4 * w.batch * w.numHeads * w.seqQ * w.seqK * w.headDim) / (w.causal ? 2 : 1);
  return w.pass === 'forward' ? forward : 3.5 * forward;
}

/** Short human name of a workload, the row group of the tables. */
export function workloadLabel(w: Workload): string {
  if (w.kind === 'matmul') return `matmul [${w.shapeA}]×[${w.shapeB}]`;
  const shape = `B=${w.batch} H=${w.numHeads} D=${w.headDim} Nq=${w.seqQ} Nk=${w.seqK}`;
  return `attention ${w.pass === 'forward' ? 'fwd' : 'fwd+bwd'} ${shape}${w.causal ? ' causal' : ''}`;
}

// ------------------------------------------------------------ seeded inputs

/** mulberry32: a tiny seeded 32-bit generator, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal values (Box–Muller on mulberry32). */
export function randomNormal(size: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < size) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

export function inputShapes(w: Workload): Record<string, number[]> {
  if (w.kind === 'matmul') return { a: w.shapeA, b: w.shapeB };
  const qShape = [w.batch, w.numHeads, w.seqQ, w.headDim];
  const kvShape = [w.batch, w.numHeads, w.seqK, w.headDim];
  const shapes: Record<string, number[]> = { q: qShape, k: kvShape, v: kvShape };
  if (w.pass === 'forwardBackward') shapes.dOut = qShape;
  return shapes;
}

/** The same seed gives the same inputs in every process. */
export function makeInputs(w: Workload, seed = 1): Inputs {
  const inputs: Inputs = {};
  Object.entries(inputShapes(w)).forEach(([name, shape], i) => {
    inputs[name] = randomNormal(shapeSize(shape), (seed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0);
  });
  return inputs;
}

// ------------------------------------------------------------------- timing

export interface Timing {
  median: number;
  min: number;
  samples: number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs `fn` `warmup` times untimed, then times runs until both minRuns and minSeconds
 * are reached or maxSeconds has passed. Returns the median in seconds and all samples.
 * `afterRun` is called after each run, outside the sample (memory sampling).
 */
export async function timeIt(fn: () => void | Promise<void>, options: Partial<TimingOptions> = {}, afterRun?: () => void): Promise<Timing> {
  const { warmup, minRuns, minSeconds, maxSeconds } = { ...defaultTiming, ...options };
  const start = performance.now();
  for (let i = 0; i < warmup; i++) {
    await fn();
    afterRun?.();
    if ((performance.now() - start) / 1e3 > maxSeconds / 2) break;
  }
  const samples: number[] = [];
  const timedStart = performance.now();
  for (;;) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1e3);
    afterRun?.();
    const elapsed = (performance.now() - timedStart) / 1e3;
    if ((samples.length >= minRuns && elapsed >= minSeconds) || elapsed >= maxSeconds) break;
  }
  return { median: median(samples), min: Math.min(...samples), samples };
}

// ------------------------------------------------------------------- memory

const mib = 1024 * 1024;

function procStatusKiB(field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) in MiB since start or the last resetPeakRss(). */
export function peakRssMiB(): number {
  const kib = procStatusKiB('VmHWM');
  return kib === undefined ? process.memoryUsage.rss() / mib : kib / 1024;
}

export function rssMiB(): number {
  return process.memoryUsage.rss() / mib;
}

/** Resets VmHWM to the current RSS (Linux: `5` > /proc/self/clear_refs). */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------ child runner

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const resultPrefix = '@@case-result ';

/** How bench/child.ts reports a result on stdout (libraries may print there too). */
export function formatResultLine(result: CaseResult): string {
  return resultPrefix + JSON.stringify(result);
}

function groupKey(spec: CaseSpec): string {
  return `${spec.module}|${spec.system}|${spec.threads}`;
}

function runChild(specs: CaseSpec[], timeoutSeconds: number, onResult: (r: CaseResult) => void) {
  return new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    const args = ['--expose-gc', '--import', 'tsx', path.join(benchDir, 'child.ts'), JSON.stringify(specs)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1e3);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      let newline = stdout.indexOf('\n');
      while (newline >= 0) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        if (line.startsWith(resultPrefix)) onResult(JSON.parse(line.slice(resultPrefix.length)));
        newline = stdout.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

export interface RunOptions {
  /** Called after each case with its result (progress printing). */
  onResult?: (result: CaseResult) => void;
  /** Kill a child that runs longer than this many seconds per case. Default 120. */
  caseTimeoutSeconds?: number;
  /**
   * One process per case instead of per (module, system, threads). Slower to start, but
   * the peak RSS is the case's own: a wasm heap never shrinks, so in a shared process a
   * case's peak includes what earlier cases grew.
   */
  processPerCase?: boolean;
  /** Run cases that were timed on a busy machine again, up to this many times. Default 0. */
  retryContended?: number;
}

async function runGroups(specs: CaseSpec[], options: RunOptions, record: (r: CaseResult) => void) {
  const timeout = options.caseTimeoutSeconds ?? 120;
  const groups = new Map<string, CaseSpec[]>();
  specs.forEach((spec, i) => {
    const key = options.processPerCase ? String(i) : groupKey(spec);
    groups.set(key, [...(groups.get(key) ?? []), spec]);
  });
  for (let pending of groups.values()) {
    while (pending.length > 0) {
      let done = 0;
      const batch = pending;
      const exit = await runChild(batch, timeout * batch.length, (r) => {
        // results come back in order; keep the caller's spec object as the key
        record({ ...r, spec: batch[done] });
        done++;
      });
      // exit code 0 with cases left: the child stopped after a failure, on purpose
      if (done < batch.length && (exit.code !== 0 || exit.signal)) {
        const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
        const tail = exit.stderr.trim().split('\n').slice(-3).join(' | ');
        const spec = batch[done];
        record({ spec, status: 'failed', reason: `process ${how}: ${tail}`, flops: workloadFlops(spec.workload) });
        done++;
      }
      if (done === 0) throw new Error(`bench: a child process ran none of its ${batch.length} cases`);
      pending = batch.slice(done);
    }
  }
}

/**
 * Runs the cases, one child process per (module, system, threads) group, one group at
 * a time (so a 2-thread case has both cores). A case that kills its process is reported
 * as failed and the rest of its group continue in a fresh process. With
 * `retryContended`, cases whose threads did not get their cores (see `contended`) run
 * again, up to that many times, and the measurement with the most CPU per wall second
 * is kept.
 */
export async function runCases(specs: CaseSpec[], options: RunOptions = {}): Promise<CaseResult[]> {
  const results = new Map<CaseSpec, CaseResult>();
  await runGroups(specs, options, (result) => {
    results.set(result.spec, result);
    options.onResult?.(result);
  });
  for (let retry = 0; retry < (options.retryContended ?? 0); retry++) {
    const again = specs.filter((s) => contended(results.get(s)));
    if (again.length === 0) break;
    await runGroups(again, options, (result) => {
      const before = results.get(result.spec);
      if ((result.cpuPerWall ?? 0) > (before?.cpuPerWall ?? 0)) results.set(result.spec, result);
      options.onResult?.(result);
    });
  }
  return specs.map((s) => results.get(s) as CaseResult);
}

/**
 * A timed case whose threads were not all running (another process had the cores).
 * Runs under a millisecond are left out: their waits between runs dominate.
 */
export function contended(r: CaseResult | undefined): boolean {
  return r?.cpuPerWall !== undefined && (r.seconds ?? 0) >= 1e-3 && r.cpuPerWall < 0.8 * r.spec.threads;
}
