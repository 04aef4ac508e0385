// Attention: attune's fused kernels against onnxruntime-node (native), onnxruntime-web
// (wasm) — each with the com.microsoft MultiHeadAttention op and a plain
// MatMul→Softmax→MatMul graph — and tfjs-wasm as a user first writes it (rank-4) and in
// its fastest form (per-head 2-D). B=1, H=8, D=64, Nq = Nk = N, causal and not, 1 and 2
// threads (tfjs-wasm: 1), one child process per (system, threads) and N; at N > 2048 one
// process per case, so each peak RSS is the case's own.
//
// Passes: forward; forward+backward (attune, tfjs: neither onnxruntime package has a
// backward); decode, 1 query row against 4,096 keys. FLOPs as FlashAttention counts
// them (harness.workloadFlops): forward 4·B·H·Nq·Nk·D, halved when causal; backward
// 2.5× the forward. Every row is checked against the reference before it is timed.
//
//   npm run bench -- attention                 the full run (≈ 20–25 min on 2 cores)
//   npm run bench -- attention --quick         N ∈ {512, 2048}, fewer runs, no memory run (< 5 min)
//   npm run bench -- attention --sizes 512,2048 --threads 1 --systems attune,ort-web --passes forward,decode
//   npm run bench -- attention --memory        attune forward+backward at N = 32768 in a fresh process:
//                                              peak resident memory vs 1 GiB (exit code 1 when over)
//         [--n 32768] [--causal] [--threads 2] [--limit-mib 1024] [--timeout 1800]
//
// Time budget. Timed runs: many at N ≤ 2048; at 8192 two after the untimed check run;
// at 32768 one, and only with the most threads. Each case's time a run is projected from
// the same row at the next smaller N: slow cases get fewer timed runs, and at N > 2048 a
// case whose check run plus one timed run would exceed --max-case-seconds (default 150;
// 3× that for attune's own rows) is not run, the projection printed as the reason. Peer
// cases known to fail or to need more memory than the machine has are not run either,
// with the reason printed, and no process started. On a fresh machine the reference of
// forward+backward at N = 8192 costs about 2 more minutes (then cached in the OS temp folder).
//
// Prints one table per workload (ratios vs attune on 1 thread), the peak memory at large
// N, and the issue's targets at N = 2048 (ratios from this run); writes
// bench/results/attention.json (attention-quick.json with --quick, attention-partial.json
// with a narrowed selection, attention-memory.json with --memory).

import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AttentionWorkload, CaseResult, CaseSpec, TimingOptions } from './harness.js';
import { contended, peakRssMiB, rssMiB, runCases, workloadFlops, workloadLabel } from './harness.js';
import { nativeSimdLimit, type SimdLimit, simdLimit } from './limits.js';
import { caseLabel, machineInfo, printTable, writeResults } from './report.js';

const ATTUNE = 'attune.ts';
const ORT = 'peers/ort.ts';
const TFJS = 'peers/tfjs.ts';
const MHA = 'MultiHeadAttention';
const MHA_BSNH = 'MultiHeadAttention-bsnh';
const GRAPH = 'MatMul-Softmax-MatMul';
const SDPA = 'sdpa';
const TFJS_NATURAL = 'rank-4';
const TFJS_FAST = 'per-head 2-D';

const HEADS = 8;
const HEAD_DIM = 64;
const DECODE_KEYS = 4096;
const TARGET_N = 2048;
const MIB = 1024 * 1024;

// ------------------------------------------------------------------ options

type PassName = 'forward' | 'forwardBackward' | 'decode';

interface Options {
  quick: boolean;
  sizes: number[];
  threads: number[];
  systems: string[] | null;
  passes: PassName[];
  maxCaseSeconds: number;
  memory: boolean;
  memoryRun: boolean;
  memoryN: number;
  causal: boolean;
  limitMiB: number;
  timeoutSeconds: number;
  narrowed: boolean;
}

const usage = `usage: npm run bench -- attention [--quick] [--sizes 512,2048] [--threads 1,2]
         [--systems attune,ort-node,ort-web,tfjs-wasm] [--passes forward,forwardBackward,decode]
         [--max-case-seconds 150] [--no-memory]
       npm run bench -- attention --memory [--n 32768] [--causal] [--threads 2] [--limit-mib 1024] [--timeout 1800]`;

function parseOptions(argv: string[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const withValue = ['--sizes', '--threads', '--systems', '--passes', '--max-case-seconds', '--n', '--limit-mib', '--timeout'];
  const bare = ['--quick', '--memory', '--no-memory', '--causal'];
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    if (withValue.includes(key)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`${key} needs a value\n${usage}`);
      values.set(key, value);
    } else if (bare.includes(key)) flags.add(key);
    else if (key.startsWith('-')) throw new Error(`unknown option ${key}\n${usage}`);
    // positional arguments ('attention' from bench/main.ts) are ignored
  }
  const numbers = (key: string, fallback: number[]) => {
    const raw = values.get(key);
    if (raw === undefined) return fallback;
    const list = raw.split(',').map(Number);
    if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${key}: expected positive integers, got ${raw}`);
    return list;
  };
  const quick = flags.has('--quick');
  const memory = flags.has('--memory');
  const passes = (values.get('--passes')?.split(',') ?? ['forward', 'forwardBackward', 'decode']) as PassName[];
  for (const p of passes) {
    if (!['forward', 'forwardBackward', 'decode'].includes(p)) throw new Error(`--passes: unknown pass ${p}\n${usage}`);
  }
  const cores = os.availableParallelism();
  return {
    quick,
    sizes: numbers('--sizes', quick ? [512, 2048] : [128, 512, 2048, 8192, 32768]).sort((a, b) => a - b),
    threads: numbers('--threads', memory ? [Math.min(2, cores)] : [1, 2]),
    systems: values.get('--systems')?.split(',') ?? null,
    passes,
    maxCaseSeconds: Number(values.get('--max-case-seconds') ?? (quick ? 60 : 150)),
    memory,
    memoryRun:
      !quick &&
      !flags.has('--no-memory') &&
      !values.has('--sizes') &&
      !values.has('--passes') &&
      (values
        .get('--systems')
        ?.split(',')
        .some((sys) => 'attune-wasm'.startsWith(sys)) ??
        true),
    memoryN: numbers('--n', [32768])[0],
    causal: flags.has('--causal'),
    limitMiB: Number(values.get('--limit-mib') ?? 1024),
    timeoutSeconds: Number(values.get('--timeout') ?? 1800),
    narrowed: ['--sizes', '--threads', '--systems', '--passes'].some((k) => values.has(k)),
  };
}

// ---------------------------------------------------------------- workloads

function attention(seqK: number, causal: boolean, pass: AttentionWorkload['pass'], seqQ = seqK): AttentionWorkload {
  return { kind: 'attention', batch: 1, numHeads: HEADS, headDim: HEAD_DIM, seqQ, seqK, causal, pass };
}

const decodeWorkload = attention(DECODE_KEYS, false, 'forward', 1);

function isDecode(w: AttentionWorkload): boolean {
  return w.seqQ !== w.seqK;
}

/**
 * Timed runs by size: many at small N; at 8192 two (the untimed check run before them
 * is the warmup: JIT tier-up, arenas); a single one beyond.
 */
function baseTiming(w: AttentionWorkload, quick: boolean): Partial<TimingOptions> {
  const n = isDecode(w) ? 0 : w.seqK;
  if (n <= 512) return { warmup: 3, minRuns: quick ? 5 : 9, minSeconds: quick ? 0.3 : 1, maxSeconds: quick ? 3 : 6 };
  if (n <= TARGET_N) return { warmup: 1, minRuns: quick ? 3 : 5, minSeconds: quick ? 0.5 : 1, maxSeconds: quick ? 3 : 6 };
  if (n <= 8192) return { warmup: 0, minRuns: 2, minSeconds: 0, maxSeconds: 60 };
  return { warmup: 0, minRuns: 1, minSeconds: 0, maxSeconds: 0 };
}

/**
 * Wall seconds one case may take (its check run included) before it gets fewer timed
 * runs, and at N > 2048 before it is not run at all. attune's own rows get 3× more:
 * they must run at 8192 and 32768.
 */
function caseBudget(row: Row, w: AttentionWorkload, options: Options): number {
  const n = isDecode(w) ? 0 : w.seqK;
  const budget = n <= TARGET_N ? (options.quick ? 20 : 30) : options.maxCaseSeconds;
  return row.system.startsWith('attune-') && n > TARGET_N ? 3 * budget : budget;
}

// -------------------------------------------------------------------- rows

interface Row {
  module: string;
  system: string;
  variant: string;
  threads: number;
}

function rowsFor(w: AttentionWorkload, options: Options): Row[] {
  const rows: Row[] = [];
  for (const threads of options.threads) {
    for (const system of ['attune-native', 'attune-wasm']) {
      rows.push({ module: ATTUNE, system, variant: SDPA, threads });
      if (isDecode(w)) rows.push({ module: ATTUNE, system, variant: 'KVCache', threads });
    }
  }
  if (w.pass === 'forward') {
    for (const system of ['ort-node', 'ort-web']) {
      for (const threads of options.threads) {
        for (const variant of [MHA, MHA_BSNH, GRAPH]) rows.push({ module: ORT, system, variant, threads });
      }
    }
  }
  // tfjs-backend-wasm is single-threaded in Node
  if (options.threads.includes(1)) {
    for (const variant of [TFJS_NATURAL, TFJS_FAST]) rows.push({ module: TFJS, system: 'tfjs-wasm', variant, threads: 1 });
  }
  return rows.filter((r) => !options.systems || options.systems.some((s) => r.system.startsWith(s)));
}

/**
 * Rows not worth a process: known to fail, or to need more memory than this machine has,
 * or left out of --quick. Measured on 2 cores / 23.5 GiB (2026-11-28), forward at N = 8192:
 * onnxruntime-web's MultiHeadAttention (both layouts) fails (SafeInt overflow) and its
 * causal matmul graph hits bad_alloc, its plain graph runs in 2.4 GB; onnxruntime-node's
 * MHA takes 4.5 GB (the bsnh layout 0.37 GB: a flash path, non-causal only), its causal
 * MHA 4.8 GB, its matmul graph 2.4 GB and causal 9.0 GB.
 */
function knownSkip(row: Row, w: AttentionWorkload, options: Options): string | undefined {
  if (isDecode(w)) return undefined;
  const n = w.seqK;
  const scores = w.batch * w.numHeads * n * n * 4;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(0)} GiB`;
  const machine = os.totalmem();
  if (row.system === 'tfjs-wasm' && n >= 8192) {
    return `not run at N ≥ 8192: materialises [B,H,N,N] scores (${gib(scores)} a tensor, several live) and would take minutes a run`;
  }
  if (row.system === 'ort-web' && n > 8192) {
    return `not run at N > 8192: [B,H,N,N] scores = ${gib(scores)}, over the 4 GiB of onnxruntime-web's wasm32 heap`;
  }
  if (row.system === 'ort-web' && row.variant === MHA_BSNH && n > TARGET_N) {
    return 'not run at N > 2048: fails like the bnsh layout (SafeInt overflow from N = 4096)';
  }
  if (row.system === 'ort-node' && n > 8192) {
    // the plain graph holds the scores and their softmax; MHA materialises the scores
    // except in the bsnh layout without a mask (a flash path)
    const needs = row.variant === GRAPH ? 2 * scores : w.causal || row.variant === MHA ? scores : 0;
    if (needs > 0.8 * machine) {
      const what =
        row.variant === GRAPH ? 'the matmul graph holds the [B,H,N,N] scores and their softmax' : 'it materialises the [B,H,N,N] scores';
      return `not run: ${what}, ${gib(needs)}+ here; the machine has ${gib(machine)}`;
    }
  }
  if (row.system === 'attune-native' && w.pass === 'forwardBackward' && n > 8192) {
    return 'not run at N > 8192 in the table (O(N·D) memory like attune-wasm; see the wasm memory run)';
  }
  if (row.system === 'attune-wasm' && w.pass === 'forwardBackward' && n > 8192) {
    return options.memoryRun
      ? 'timed by the memory run below (forward+backward at N = 32768 in a fresh process)'
      : 'not run at N > 8192 in the table; see `npm run bench -- attention --memory`';
  }
  const most = Math.max(...options.threads);
  if (n > 8192 && row.threads < most) return `time budget: at N > 8192 only with ${most} threads`;
  if (options.quick) {
    if (row.system === 'ort-web' && row.variant === MHA_BSNH) return '--quick: ort-web in the bnsh layout only';
    if (row.system === 'tfjs-wasm' && n >= TARGET_N && (row.variant === TFJS_NATURAL || (w.pass === 'forwardBackward' && w.causal))) {
      return '--quick: at N ≥ 2048 tfjs-wasm only in its fastest form and its target rows (seconds to tens of seconds a run)';
    }
  }
  return undefined;
}

// --------------------------------------------------------- time projection

function rowKey(r: Row, w: AttentionWorkload): string {
  return `${r.system}|${r.variant}|${r.threads}|${w.pass}|${w.causal}`;
}

/** Seconds per run projected from the same row at the largest smaller N that was timed (constant GFLOP/s). */
function projectSeconds(r: Row, w: AttentionWorkload, done: CaseResult[]): { seconds: number; from: CaseResult } | undefined {
  let best: CaseResult | undefined;
  for (const result of done) {
    const rw = result.spec.workload as AttentionWorkload;
    if (result.status !== 'ok' || isDecode(rw) || rw.seqK >= w.seqK) continue;
    if (rowKey(result.spec, rw) !== rowKey(r, w)) continue;
    if (!best || rw.seqK > (best.spec.workload as AttentionWorkload).seqK) best = result;
  }
  if (!best?.seconds) return undefined;
  return { seconds: (best.seconds * workloadFlops(w)) / best.flops, from: best };
}

function skippedResult(spec: CaseSpec, reason: string): CaseResult {
  return { spec, status: 'skipped', reason, flops: workloadFlops(spec.workload) };
}

/** The cases of one workload: timed specs, the rows skipped without a process, all in row order. */
function plan(w: AttentionWorkload, options: Options, done: CaseResult[]) {
  const specs: CaseSpec[] = [];
  const skipped: CaseResult[] = [];
  const order: CaseSpec[] = [];
  const base = baseTiming(w, options.quick);
  for (const row of rowsFor(w, options)) {
    const spec: CaseSpec = { ...row, workload: w, timing: { ...base } };
    order.push(spec);
    const known = knownSkip(row, w, options);
    if (known) {
      skipped.push(skippedResult(spec, known));
      continue;
    }
    const projected = projectSeconds(row, w, done);
    if (projected && projected.seconds > 0.5) {
      const perRun = projected.seconds;
      const budget = caseBudget(row, w, options);
      const fromN = (projected.from.spec.workload as AttentionWorkload).seqK;
      const how = `${perRun.toFixed(0)} s a run projected from N = ${fromN} (${projected.from.gflops?.toFixed(1)} GFLOP/s)`;
      // the check run plus one timed run must fit; at N ≤ 2048 they always run
      if (w.seqK > TARGET_N && 2 * perRun > budget) {
        skipped.push(skippedResult(spec, `not run: ${how}; the check run and one timed run exceed this case's ${budget} s`));
        continue;
      }
      // fewer timed runs for slow cases (the check run has warmed up)
      const timed = Math.max(1, Math.floor(budget / perRun) - 1);
      const warmup = Math.min(base.warmup ?? 0, timed >= 4 ? 1 : 0);
      spec.timing = { ...base, warmup, minRuns: Math.max(1, Math.min(base.minRuns ?? 1, timed - warmup)), minSeconds: 0 };
    }
    specs.push(spec);
  }
  return { specs, skipped, order };
}

// ------------------------------------------------------------------ memory

interface MemoryResult {
  n: number;
  causal: boolean;
  threads: number;
  status: 'ok' | 'failed';
  reason?: string;
  seconds?: number;
  gflops?: number;
  /** The whole process's peak resident set (VmHWM), runtime included. */
  peakRssMiB?: number;
  /** Resident set with attune loaded, before any tensor. */
  rssBaseMiB?: number;
  /** attune's wasm heap: most bytes live at once, and the heap's size. */
  heapPeakMiB?: number;
  heapSizeMiB?: number;
  /** Max relative error of o and dq on sampled rows (dk, dv need every row: not checked here). */
  maxRelError?: number;
  limitMiB: number;
  within?: boolean;
}

const memoryChildFlag = '--memory-child';

/** In the fresh process: forward+backward once, then the peak, then a sampled check. */
async function memoryChild(config: { n: number; causal: boolean; threads: number; limitMiB: number }) {
  const at = await import('../src/index.js');
  at.getBackend(); // loads and registers the wasm backend
  at.setBackend('wasm');
  if (at.getBackend().name !== 'wasm') throw new Error(`attune: the wasm backend did not load: ${at.wasmError()?.message}`);
  at.setThreads(config.threads);
  await at.ready();
  const { n, causal, threads, limitMiB } = config;
  const shape = [1, HEADS, n, HEAD_DIM];
  const rssBaseMiB = rssMiB();
  // filled in place in the wasm heap: no JS-side copies of the 64 MiB inputs
  const [q, k, v] = [1, 2, 3].map((seed) => at.keep(at.randn(shape, { seed })).setRequiresGrad());
  const dOut = at.keep(at.randn(shape, { seed: 4 }));
  const start = performance.now();
  const out = at.keep(at.scaledDotProductAttention(q, k, v, { causal }));
  out.backward(dOut);
  const seconds = (performance.now() - start) / 1e3;
  const peak = peakRssMiB();
  const stats = at.getHeap().stats;
  const flops = workloadFlops(attention(n, causal, 'forwardBackward'));
  const maxRelError = sampledCheck(
    n,
    causal,
    [q, k, v, dOut, out].map((t) => t.view() as Float32Array),
    (q.grad?.view() as Float32Array) ?? new Float32Array(0),
  );
  const result: MemoryResult = {
    n,
    causal,
    threads,
    status: 'ok',
    seconds,
    gflops: flops / seconds / 1e9,
    peakRssMiB: peak,
    rssBaseMiB,
    heapPeakMiB: stats.peakBytes / MIB,
    heapSizeMiB: stats.heapBytes / MIB,
    maxRelError,
    limitMiB,
    within: peak <= limitMiB,
  };
  process.stdout.write(`@@memory ${JSON.stringify(result)}\n`, () => process.exit(0));
}

/**
 * o and dq of a few rows of the first and last head, in float64: o_i = softmax(s_i)·V,
 * dq_i = scale · Σⱼ p_ij (dO_i·v_j − dO_i·o_i) k_j. Cheap: one row costs O(N·D).
 */
function sampledCheck(n: number, causal: boolean, [q, k, v, dOut, out]: Float32Array[], dq: Float32Array): number {
  const d = HEAD_DIM;
  const scale = 1 / Math.sqrt(d);
  const p = new Float64Array(n);
  let worst = 0;
  for (const head of [0, HEADS - 1]) {
    const base = head * n * d;
    for (const i of [0, 1, 63, 64, n >> 1, n - 65, n - 1].filter((r) => r >= 0 && r < n)) {
      const row = base + i * d;
      const visible = causal ? i + 1 : n;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < visible; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[row + c] * k[base + j * d + c];
        p[j] = s * scale;
        if (p[j] > max) max = p[j];
      }
      let sum = 0;
      for (let j = 0; j < visible; j++) sum += p[j] = Math.exp(p[j] - max);
      const o = new Float64Array(d);
      for (let j = 0; j < visible; j++) {
        p[j] /= sum;
        for (let c = 0; c < d; c++) o[c] += p[j] * v[base + j * d + c];
      }
      let rowDot = 0;
      for (let c = 0; c < d; c++) rowDot += dOut[row + c] * o[c];
      const g = new Float64Array(d);
      for (let j = 0; j < visible; j++) {
        let dp = 0;
        for (let c = 0; c < d; c++) dp += dOut[row + c] * v[base + j * d + c];
        const ds = p[j] * (dp - rowDot) * scale;
        for (let c = 0; c < d; c++) g[c] += ds * k[base + j * d + c];
      }
      const rel = (got: Float32Array, want: Float64Array) => {
        let diff = 0;
        let ref = 0;
        for (let c = 0; c < d; c++) {
          const e = Math.abs(got[row + c] - want[c]);
          diff = e <= diff ? diff : Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
          ref = Math.max(ref, Math.abs(want[c]));
        }
        return diff / (ref || 1);
      };
      worst = Math.max(worst, rel(out, o), dq.length ? rel(dq, g) : Number.POSITIVE_INFINITY);
    }
  }
  return worst;
}

/** Runs memoryChild in a fresh process and returns what it reports. */
function runMemory(config: {
  n: number;
  causal: boolean;
  threads: number;
  limitMiB: number;
  timeoutSeconds: number;
}): Promise<MemoryResult> {
  const file = fileURLToPath(import.meta.url);
  const args = ['--expose-gc', '--import', 'tsx', file, memoryChildFlag, JSON.stringify(config)];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), config.timeoutSeconds * 1e3);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@memory '));
      if (line) return resolve(JSON.parse(line.slice('@@memory '.length)) as MemoryResult);
      const how = signal
        ? `killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${config.timeoutSeconds} s or out of memory)` : ''}`
        : `exit code ${code}`;
      const lines = stderr.trim().split('\n');
      const tail = (lines.find((l) => /Error/.test(l)) ?? lines.slice(-3).join(' | ')).trim();
      resolve({
        n: config.n,
        causal: config.causal,
        threads: config.threads,
        status: 'failed',
        reason: `${how}: ${tail}`,
        limitMiB: config.limitMiB,
      });
    });
  });
}

function describeMemory(m: MemoryResult): string {
  const what = `attune forward+backward B=1 H=${HEADS} D=${HEAD_DIM} N=${m.n}${m.causal ? ' causal' : ''}, ${m.threads} thread(s)`;
  if (m.status !== 'ok') return `${what}: failed: ${m.reason}`;
  const scores = (HEADS * m.n * m.n * 4) / 2 ** 30;
  return [
    `${what}:`,
    `  peak resident memory ${m.peakRssMiB?.toFixed(0)} MiB (limit ${m.limitMiB} MiB: ${m.within ? 'within' : 'OVER'}); the N² scores alone would be ${scores.toFixed(0)} GiB`,
    `  runtime before tensors ${m.rssBaseMiB?.toFixed(0)} MiB; wasm heap peak live ${m.heapPeakMiB?.toFixed(0)} MiB of ${m.heapSizeMiB?.toFixed(0)} MiB`,
    `  one run ${m.seconds?.toFixed(1)} s = ${m.gflops?.toFixed(1)} GFLOP/s; o and dq on sampled rows: max rel err ${m.maxRelError?.toExponential(1)}`,
  ].join('\n');
}

// ------------------------------------------------------------------ targets

interface Target {
  label: string;
  value: number;
  goal: number | null;
}

function targets(results: CaseResult[], limit: SimdLimit | null): Target[] {
  const at2048 = (pass: AttentionWorkload['pass'], causal: boolean) => attention(TARGET_N, causal, pass);
  const gf = (w: AttentionWorkload, system: string, variants: string[], threads: number) => {
    const values = results
      .filter(
        (r) =>
          r.status === 'ok' &&
          r.spec.system === system &&
          variants.includes(r.spec.variant) &&
          r.spec.threads === threads &&
          workloadLabel(r.spec.workload) === workloadLabel(w),
      )
      .map((r) => r.gflops ?? Number.NaN);
    return values.length ? Math.max(...values) : Number.NaN;
  };
  const ours = (w: AttentionWorkload, t: number) => gf(w, 'attune-wasm', [SDPA], t);
  const list: Target[] = [];
  const add = (label: string, value: number, goal: number | null) => list.push({ label, value, goal });
  const fwd = at2048('forward', false);
  const causal = at2048('forward', true);
  const fb = at2048('forwardBackward', false);
  for (const t of [1, 2]) {
    add(`N=${TARGET_N} fwd, ${t}T: attune / ort-web MultiHeadAttention`, ours(fwd, t) / gf(fwd, 'ort-web', [MHA, MHA_BSNH], t), 1.5);
    add(`N=${TARGET_N} fwd, ${t}T: attune / ort-web MatMul-Softmax-MatMul`, ours(fwd, t) / gf(fwd, 'ort-web', [GRAPH], t), 1.5);
  }
  for (const t of [1, 2]) {
    add(
      `N=${TARGET_N} causal fwd, ${t}T: attune / ort-web (best graph)`,
      ours(causal, t) / gf(causal, 'ort-web', [MHA, MHA_BSNH, GRAPH], t),
      2.5,
    );
  }
  add(`N=${TARGET_N} fwd, 1T: attune / tfjs-wasm fastest`, ours(fwd, 1) / gf(fwd, 'tfjs-wasm', [TFJS_NATURAL, TFJS_FAST], 1), 1.5);
  add(`N=${TARGET_N} fwd+bwd, 1T: attune / tfjs-wasm fastest`, ours(fb, 1) / gf(fb, 'tfjs-wasm', [TFJS_NATURAL, TFJS_FAST], 1), 10);
  for (const t of [1, 2]) {
    add(
      `decode 1×${DECODE_KEYS}, ${t}T: attune / ort-web (best graph)`,
      ours(decodeWorkload, t) / gf(decodeWorkload, 'ort-web', [MHA, MHA_BSNH, GRAPH], t),
      2,
    );
    add(
      `decode 1×${DECODE_KEYS}, ${t}T: attune / ort-node (best graph)`,
      ours(decodeWorkload, t) / gf(decodeWorkload, 'ort-node', [MHA, MHA_BSNH, GRAPH], t),
      0.7,
    );
  }
  for (const t of [1, 2]) {
    add(`N=${TARGET_N} fwd, ${t}T: attune / ort-node (best graph)`, ours(fwd, t) / gf(fwd, 'ort-node', [MHA, MHA_BSNH, GRAPH], t), null);
    add(
      `N=${TARGET_N} causal fwd, ${t}T: attune / ort-node (best graph)`,
      ours(causal, t) / gf(causal, 'ort-node', [MHA, MHA_BSNH, GRAPH], t),
      null,
    );
  }
  if (limit)
    add(`N=${TARGET_N} fwd, 1T: attune / the SIMD limit (${limit.gflopsPerCore} GFLOP/s)`, ours(fwd, 1) / limit.gflopsPerCore, 0.7);
  // the native tier against onnxruntime-node (issue 18)
  const native = (w: AttentionWorkload, t: number) => gf(w, 'attune-native', [SDPA], t);
  const ortNode = (w: AttentionWorkload, t: number) => gf(w, 'ort-node', [MHA, MHA_BSNH, GRAPH], t);
  for (const t of [1, 2]) {
    add(`N=${TARGET_N} fwd, ${t}T: attune-native / ort-node (best graph)`, native(fwd, t) / ortNode(fwd, t), 1.0);
    add(`N=${TARGET_N} causal fwd, ${t}T: attune-native / ort-node (best graph)`, native(causal, t) / ortNode(causal, t), 2.0);
    add(
      `decode 1×${DECODE_KEYS}, ${t}T: attune-native / ort-node (best graph)`,
      Math.max(native(decodeWorkload, t), gf(decodeWorkload, 'attune-native', ['KVCache'], t)) / ortNode(decodeWorkload, t),
      1.2,
    );
    add(`N=${TARGET_N} fwd+bwd, ${t}T: attune-native / attune-wasm`, native(fb, t) / ours(fb, t), 2.5);
  }
  const peak = nativeSimdLimit();
  if (peak) {
    for (const [label, w] of [
      ['fwd', fwd],
      ['causal fwd', causal],
      ['fwd+bwd', fb],
    ] as const)
      add(
        `N=${TARGET_N} ${label}, 1T: attune-native / the 512-bit FMA limit (${peak.gflopsPerCore} GFLOP/s)`,
        native(w, 1) / peak.gflopsPerCore,
        null,
      );
  }
  return list;
}

function printTargets(list: Target[], limit: SimdLimit | null) {
  console.log('\nTargets (ratios of GFLOP/s from this run; "best graph" = the fastest of the peer\'s formulations)');
  for (const { label, value, goal } of list) {
    const shown = Number.isNaN(value) ? '  n/a' : `${value.toFixed(2)}×`;
    const verdict =
      goal === null
        ? ''
        : Number.isNaN(value)
          ? `  (target ≥ ${goal}: no data)`
          : `  (target ≥ ${goal}: ${value >= goal ? 'met' : 'NOT met'})`;
    console.log(`  ${label.padEnd(62)} ${shown.padStart(7)}${verdict}`);
  }
  console.log(`  SIMD limit: ${limit ? limit.source : 'unknown (no ../shared/tools/simd-peak, no ATTUNE_SIMD_PEAK)'}`);
}

/** Peak RSS of every row at N > 2048, or why there is none. */
function printLargeMemory(results: CaseResult[]) {
  const large = results.filter((r) => {
    const w = r.spec.workload as AttentionWorkload;
    return !isDecode(w) && w.seqK > TARGET_N;
  });
  if (large.length === 0) return;
  console.log('\nPeak resident memory at large N (MiB, the whole process; inputs and runtime included)');
  let last = '';
  for (const r of large) {
    const label = workloadLabel(r.spec.workload);
    if (label !== last) console.log(`  ${label}`);
    last = label;
    const peak = r.peakRssMiB !== undefined ? `${r.peakRssMiB.toFixed(0)} MiB` : r.status;
    const before = r.rssBeforeSetupMiB !== undefined ? `  (${r.rssBeforeSetupMiB.toFixed(0)} MiB before setup: runtime, JS inputs)` : '';
    const why = r.status === 'ok' ? before : `  ${(r.reason ?? '').replace(/\s+/g, ' ').slice(0, 110)}`;
    console.log(`    ${caseLabel(r.spec).padEnd(44)} ${peak.padStart(9)}${why}`);
  }
}

// -------------------------------------------------------------------- main

function progress(r: CaseResult) {
  const what =
    r.status === 'ok'
      ? `${r.gflops?.toFixed(1)} GFLOP/s, ${r.peakRssMiB?.toFixed(0)} MiB`
      : `${r.status}: ${(r.reason ?? '').replace(/\s+/g, ' ').slice(0, 160)}`;
  console.log(`  ${caseLabel(r.spec)} — ${workloadLabel(r.spec.workload)}: ${what}`);
}

async function main(options: Options) {
  const started = performance.now();
  const machine = machineInfo();
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);

  if (options.memory) {
    const config = {
      n: options.memoryN,
      causal: options.causal,
      threads: options.threads[0],
      limitMiB: options.limitMiB,
      timeoutSeconds: options.timeoutSeconds,
    };
    const m = await runMemory(config);
    console.log(describeMemory(m));
    const file = writeResults('attention-memory', [], { memory: m });
    console.log(`results in ${file}`);
    process.exitCode = m.status === 'ok' && m.within ? 0 : 1;
    return;
  }

  let limit = simdLimit();
  const workloads: AttentionWorkload[] = [];
  if (options.passes.includes('decode')) workloads.push(decodeWorkload);
  for (const n of options.sizes) {
    for (const pass of ['forward', 'forwardBackward'] as const) {
      if (!options.passes.includes(pass)) continue;
      for (const causal of [false, true]) workloads.push(attention(n, causal, pass));
    }
  }
  // one batch of processes per N (decode first), so larger N can be projected from smaller
  const batches = new Map<string, AttentionWorkload[]>();
  for (const w of workloads) {
    const key = isDecode(w) ? 'decode' : String(w.seqK);
    batches.set(key, [...(batches.get(key) ?? []), w]);
  }
  const results: CaseResult[] = [];
  for (const [key, batch] of batches) {
    const large = key !== 'decode' && Number(key) > TARGET_N;
    const specs: CaseSpec[] = [];
    const skipped: CaseResult[] = [];
    const order: CaseSpec[] = [];
    for (const w of batch) {
      const p = plan(w, options, results);
      specs.push(...p.specs);
      skipped.push(...p.skipped);
      order.push(...p.order);
    }
    console.log(`\n${key === 'decode' ? `decode 1×${DECODE_KEYS}` : `N = ${key}`}: ${specs.length} cases, ${skipped.length} not run`);
    for (const r of skipped) progress(r);
    const runOptions = {
      onResult: progress,
      // at large N one process per case: each peak is the case's own, a crash costs one case
      processPerCase: large,
      // the reference of a forward+backward at N = 8192 alone takes about 2 minutes (cached after)
      caseTimeoutSeconds: Math.max(300, 4 * options.maxCaseSeconds),
    };
    const timed = await runCases(specs, runOptions);
    for (const r of timed) {
      if (r.status === 'failed' && r.reason?.startsWith('process killed by SIGKILL')) {
        r.reason = `${r.reason.replace(/:\s*$/, '')} (over the case timeout of ${runOptions.caseTimeoutSeconds} s, reference included, or out of memory)`;
      }
    }
    // rows timed while another process had the cores: once more, the quick ones only
    // (on a shared machine most rows can be contended; rerunning slow ones costs minutes)
    const again = options.quick ? [] : timed.filter((r) => contended(r) && (r.seconds ?? 0) < 0.5).map((r) => r.spec);
    if (again.length > 0) {
      console.log(`  again, ${again.length} contended rows:`);
      for (const r of await runCases(again, runOptions)) {
        const i = timed.findIndex((t) => t.spec === r.spec);
        if ((r.cpuPerWall ?? 0) > (timed[i].cpuPerWall ?? 0)) timed[i] = r;
      }
    }
    // the table order: workload by workload, rows as planned
    const bySpec = new Map([...timed, ...skipped].map((r) => [r.spec, r]));
    for (const spec of order) results.push(bySpec.get(spec) as CaseResult);
  }

  let memory: MemoryResult | undefined;
  if (options.memoryRun) {
    const n = 32768;
    const threads = Math.max(...options.threads.filter((t) => t <= os.availableParallelism()));
    const projected = projectSeconds(
      { module: ATTUNE, system: 'attune-wasm', variant: SDPA, threads },
      attention(n, false, 'forwardBackward'),
      results,
    );
    const budget = 4 * options.maxCaseSeconds;
    console.log(`\nmemory run: attune forward+backward at N = ${n}, ${threads} thread(s), in a fresh process`);
    if (projected && projected.seconds > budget) {
      memory = {
        n,
        causal: false,
        threads,
        status: 'failed',
        reason: `not run: ${projected.seconds.toFixed(0)} s projected from N = ${(projected.from.spec.workload as AttentionWorkload).seqK} > ${budget} s`,
        limitMiB: options.limitMiB,
      };
    } else {
      memory = await runMemory({ n, causal: false, threads, limitMiB: options.limitMiB, timeoutSeconds: Math.max(600, 2 * budget) });
    }
  }

  printTable(results, {
    title: `Attention fp32, B=1 H=${HEADS} D=${HEAD_DIM}: GFLOP/s = FlashAttention FLOPs / median time (cpu = CPU s per wall s)`,
    baseline: 'attune-wasm sdpa ×1',
  });
  printLargeMemory(results);
  if (memory) console.log(`\nMemory run: ${describeMemory(memory)}`);
  // the limit is measured before and after: on a busy machine one of them can be low
  const limitAfter = simdLimit();
  if (limitAfter && (!limit || limitAfter.gflopsPerCore > limit.gflopsPerCore)) limit = limitAfter;
  const list = targets(results, limit);
  printTargets(list, limit);
  const seconds = (performance.now() - started) / 1e3;
  const name = options.quick ? 'attention-quick' : options.narrowed ? 'attention-partial' : 'attention';
  const file = writeResults(name, results, { limit, targets: list, memory, seconds, options });
  console.log(`\n${seconds.toFixed(0)} s; results in ${file}`);
}

const childAt = process.argv.indexOf(memoryChildFlag);
if (childAt >= 0) {
  await memoryChild(JSON.parse(process.argv[childAt + 1]));
} else {
  await main(parseOptions(process.argv.slice(2)));
}
