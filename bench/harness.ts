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

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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
  maxRelError?: number;
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
export async function timeIt(
  fn: () => void | Promise<void>,
  options: Partial<TimingOptions> = {},
  afterRun?: () => void,
): Promise<Timing> {
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
}

/**
 * Runs the cases, one child process per (module, system, threads) group, one group at
 * a time (so a 2-thread case has both cores). A case that kills its process is reported
 * as failed and the rest of its group continue in a fresh process.
 */
export async function runCases(specs: CaseSpec[], options: RunOptions = {}): Promise<CaseResult[]> {
  const timeout = options.caseTimeoutSeconds ?? 120;
  const groups = new Map<string, CaseSpec[]>();
  for (const spec of specs) groups.set(groupKey(spec), [...(groups.get(groupKey(spec)) ?? []), spec]);
  const results = new Map<CaseSpec, CaseResult>();
  const record = (result: CaseResult) => {
    results.set(result.spec, result);
    options.onResult?.(result);
  };
  for (let pending of groups.values()) {
    while (pending.length > 0) {
      let done = 0;
      const batch = pending;
      const exit = await runChild(batch, timeout * batch.length, (r) => {
        // results come back in order; keep the caller's spec object as the key
        record({ ...r, spec: batch[done] });
        done++;
      });
      if (done < batch.length) {
        const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
        const tail = exit.stderr.trim().split('\n').slice(-3).join(' | ');
        const spec = batch[done];
        record({ spec, status: 'failed', reason: `process ${how}: ${tail}`, flops: workloadFlops(spec.workload) });
        done++;
      }
      pending = batch.slice(done);
    }
  }
  return specs.map((s) => results.get(s) as CaseResult);
}

// ---------------------------------------------------------------- reporting

export function caseLabel(spec: CaseSpec): string {
  return `${spec.system} ${spec.variant} ×${spec.threads}`;
}

function formatSeconds(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

export interface TableOptions {
  /** Label (caseLabel) of the row ratios are taken against, or one per workload. */
  baseline?: string | ((workload: Workload) => string);
  title?: string;
}

/**
 * Prints one table per workload: median time, GFLOP/s, ratio vs the baseline row
 * (baseline time / row time: > 1 is faster than the baseline), CPU seconds per wall
 * second, peak RSS in MiB, max relative error against the reference, and why a row
 * has no time (skipped, mismatch, failed).
 */
export function printTable(results: CaseResult[], options: TableOptions = {}): void {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) {
    const key = workloadLabel(r.spec.workload);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (options.title) console.log(`\n${options.title}`);
  for (const [workload, rows] of groups) {
    const { baseline } = options;
    const baseLabel = typeof baseline === 'function' ? baseline(rows[0].spec.workload) : baseline;
    const base = rows.find((r) => caseLabel(r.spec) === baseLabel && r.seconds !== undefined);
    const table = rows.map((r) => {
      const ok = r.status === 'ok' && r.seconds !== undefined;
      return [
        caseLabel(r.spec),
        ok ? formatSeconds(r.seconds as number) : r.status,
        ok ? (r.gflops as number).toFixed(1) : '',
        ok && base ? `${((base.seconds as number) / (r.seconds as number)).toFixed(2)}×` : '',
        r.cpuPerWall !== undefined ? r.cpuPerWall.toFixed(1) : '',
        r.peakRssMiB !== undefined ? r.peakRssMiB.toFixed(0) : '',
        r.maxRelError !== undefined ? r.maxRelError.toExponential(1) : '',
        r.reason ?? '',
      ];
    });
    const header = ['system variant ×threads', 'median', 'GFLOP/s', base ? 'vs base' : '', 'cpu', 'peak MiB', 'rel err', ''];
    const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
    const line = (cells: string[]) =>
      cells
        .map((cell, c) => (c === 0 || c === cells.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd();
    console.log(`\n${workload}${base ? `   (vs base: time of ${baseLabel} / time of the row)` : ''}`);
    console.log(line(header));
    for (const row of table) console.log(line(row));
  }
}

function packageVersion(name: string): string | undefined {
  try {
    const file = path.join(benchDir, '..', 'node_modules', name, 'package.json');
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return undefined;
  }
}

export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {}
  return {
    cpu,
    cores: os.availableParallelism(),
    loadAverage: os.loadavg(),
    memoryMiB: Math.round(os.totalmem() / mib),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    versions: Object.fromEntries(
      ['onnxruntime-node', 'onnxruntime-web', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'].map((p) => [
        p,
        packageVersion(p),
      ]),
    ),
  };
}

/** Writes bench/results/<name>.json (machine info + every result), atomically. */
export function writeResults(name: string, results: CaseResult[], extra: Record<string, unknown> = {}): string {
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const body = { name, machine: machineInfo(), ...extra, results };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}
