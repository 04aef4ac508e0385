#!/usr/bin/env node
// Dev harness for the wasm GEMM kernel (assembly/gemm.ts): checks it against a
// plain JS triple loop over many shapes, layouts and thread splits, then times
// it. Build first: node scripts/build-wasm.mjs
//
//   node scripts/gemm-harness.mjs            check + single-thread bench, relaxed and simd builds
//   node scripts/gemm-harness.mjs --check    correctness only
//   node scripts/gemm-harness.mjs --bench    timing only
//   options: --mc 128 --kc 256 --nc 2048     cache blocks (default: the kernel's defaults)
//            --threads 2                     also check and time with real worker threads
//            --builds relaxed,simd  --runs 7  --sizes 128,256,512,1024,batched (or MxNxK, BxMxNxK)
//            --wasm-dir wasm                 where attune-{relaxed,simd}-mt.wasm live
//
// Thread splits are checked by calling tid = 0..n-1 one after another on one
// instance (the parts of C are disjoint, so the result must not change), and
// with --threads by running them at once in worker threads on shared memory.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // default from Node 22
v8.setFlagsFromString('--no-liftoff'); // optimized code from the first call

const PAGE = 65536;

function instantiate(memory, path) {
  const module = new WebAssembly.Module(readFileSync(path));
  const abort = () => {
    throw new Error('wasm abort');
  };
  return new WebAssembly.Instance(module, { env: { memory, abort } }).exports;
}

if (!isMainThread) {
  // Worker: run gemm(...args) for each message, answer when done.
  const exports = instantiate(workerData.memory, workerData.path);
  parentPort.on('message', (args) => {
    exports.gemm(...args);
    parentPort.postMessage(0);
  });
} else {
  await main();
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const settings = {
    doCheck: !args.includes('--bench') || args.includes('--check'),
    doBench: !args.includes('--check') || args.includes('--bench'),
    blocks: { mc: Number(opt('mc', 0)), kc: Number(opt('kc', 0)), nc: Number(opt('nc', 0)) },
    builds: opt('builds', 'relaxed,simd').split(','),
    runs: Number(opt('runs', 7)),
    sizes: opt('sizes', '128,256,512,1024,batched').split(','),
    threads: Number(opt('threads', 1)),
    wasmDir: opt('wasm-dir', new URL('../wasm', import.meta.url).pathname),
  };
  let ok = true;
  for (const build of settings.builds) {
    const kernel = await load(build, settings);
    try {
      if (settings.doCheck) ok = (await runChecks(kernel, settings)) && ok;
      if (settings.doBench) await runBench(kernel, settings);
    } finally {
      await kernel.close();
    }
  }
  if (!ok) process.exit(1);
}

/**
 * One build on one shared memory: `call(args, nthreads)` runs every thread's
 * share one after another here; `callThreads(args)` runs them at once on the
 * workers (args without tid and nthreads).
 */
async function load(build, settings) {
  const memory = new WebAssembly.Memory({ initial: 2048, maximum: 65536, shared: true }); // 128 MiB to start
  const path = `${settings.wasmDir}/attune-${build}-mt.wasm`;
  const exports = instantiate(memory, path);
  const workers = [];
  if (settings.threads > 1) {
    for (let t = 0; t < settings.threads; t++) workers.push(new Worker(new URL(import.meta.url), { workerData: { memory, path } }));
  }
  const call = (args, nthreads) => {
    for (let tid = 0; tid < nthreads; tid++) exports.gemm(...args, tid, nthreads);
  };
  const callThreads = (args) =>
    Promise.all(
      workers.map(
        (w, tid) =>
          new Promise((resolve) => {
            w.once('message', resolve);
            w.postMessage([...args, tid, workers.length]);
          }),
      ),
    );
  const close = () => Promise.all(workers.map((w) => w.terminate()));
  return { build, memory, exports, call, callThreads, threads: workers.length, close };
}

// Seeded uniform [-1, 1) (mulberry32).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

/** A bump allocator over the wasm memory (byte offsets), one per case. */
function arena(memory, start = PAGE) {
  let top = start;
  return {
    alloc(bytes, misalign = 0) {
      top = ((top + 63) & ~63) + misalign;
      const at = top;
      top += bytes;
      if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / PAGE));
      return at;
    },
  };
}

/**
 * One GEMM case: fills A, B (and C), runs the kernel split over c.nthreads
 * threads (one after another, or on the workers when c.workers), and compares
 * with the JS reference. Returns a message on failure, '' on success.
 */
async function checkCase(kernel, c) {
  const { batch, M, N, K, transA, transB, accumulate } = c;
  const nthreads = c.workers ? kernel.threads : c.nthreads;
  const strideA = c.broadcastA ? 0 : M * K + (c.gapA ?? 0);
  const strideB = c.broadcastB ? 0 : K * N + (c.gapB ?? 0);
  const strideC = M * N + (c.gapC ?? 0);
  const lenA = Math.max(1, (batch - 1) * strideA + M * K);
  const lenB = Math.max(1, (batch - 1) * strideB + K * N);
  const lenC = (batch - 1) * strideC + M * N;
  const guard = 16; // canary floats on both sides of C
  const mem = arena(kernel.memory);
  const misalign = c.misalign ?? 0;
  const pa = mem.alloc(lenA * 4, misalign);
  const pb = mem.alloc(lenB * 4, misalign);
  const pc = mem.alloc((lenC + 2 * guard) * 4, misalign) + guard * 4;
  const ps = mem.alloc(kernel.exports.gemmScratchBytes(c.mc, c.kc, c.nc) * nthreads);
  const f32 = new Float32Array(kernel.memory.buffer);
  const A = f32.subarray(pa / 4, pa / 4 + lenA);
  const B = f32.subarray(pb / 4, pb / 4 + lenB);
  const rand = rng(c.seed);
  for (let i = 0; i < lenA; i++) A[i] = rand();
  for (let i = 0; i < lenB; i++) B[i] = rand();
  // C starts random when accumulating and NaN otherwise (it must not be read);
  // the gaps between batches and the guards hold a canary that must survive.
  const CANARY = 12345.5;
  const C0 = new Float32Array(lenC + 2 * guard).fill(CANARY);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < M * N; i++) C0[guard + t * strideC + i] = accumulate ? rand() : Number.NaN;
  }
  f32.set(C0, pc / 4 - guard);

  const gemmArgs = [pa, pb, pc, batch, M, N, K, strideA, strideB, strideC, transA, transB, accumulate, c.mc, c.kc, c.nc, ps];
  if (c.workers) await kernel.callThreads(gemmArgs);
  else kernel.call(gemmArgs, nthreads);

  const got = new Float32Array(kernel.memory.buffer, pc - guard * 4, lenC + 2 * guard);
  for (let i = 0; i < lenC + 2 * guard; i++) {
    if (C0[i] === CANARY && got[i] !== CANARY) return `wrote outside C (float ${i - guard} from C's start)`;
  }
  for (let t = 0; t < batch; t++) {
    const oa = t * strideA;
    const ob = t * strideB;
    const oc = guard + t * strideC;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        let abs = 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? A[oa + k * M + i] : A[oa + i * K + k];
          const bv = transB ? B[ob + j * K + k] : B[ob + k * N + j];
          sum += av * bv;
          abs += Math.abs(av * bv);
        }
        if (accumulate) {
          sum += C0[oc + i * N + j];
          abs += Math.abs(C0[oc + i * N + j]);
        }
        // 1e-7·K relative to Σ|a·b|: the forward error bound of a length-K f32
        // sum (K·2^-24) with room to spare; a missing or doubled term fails it.
        const v = got[oc + i * N + j];
        const tol = 1e-7 * Math.max(K, 1) * abs;
        if (!(Math.abs(v - sum) <= tol)) return `C[${t}][${i}][${j}] = ${v}, expected ${sum} (tolerance ${tol.toExponential(2)})`;
      }
    }
  }
  return '';
}

function checkCases(settings) {
  const base = { batch: 1, transA: 0, transB: 0, accumulate: 0, nthreads: 1, ...settings.blocks };
  const cases = [];
  let seed = 1;
  // Small shapes over every layout and accumulate flag, 1-3 threads.
  for (const M of [1, 3, 4, 5, 9, 17]) {
    for (const N of [1, 7, 8, 9, 16, 23]) {
      for (const K of [0, 1, 3, 4, 5, 17]) {
        for (let variant = 0; variant < 8; variant++) {
          const layout = { transA: variant & 1, transB: (variant >> 1) & 1, accumulate: (variant >> 2) & 1 };
          cases.push({ ...base, M, N, K, ...layout, nthreads: 1 + ((M + N + K + variant) % 3), seed: seed++ });
        }
      }
    }
  }
  // Random shapes: batches, broadcast, gaps between batches, misaligned
  // pointers, and tiny cache blocks (many blocks, many edges).
  const rand = rng(99);
  const pick = (xs) => xs[Math.floor(((rand() + 1) / 2) * xs.length)];
  const dims = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33, 40, 63, 70];
  for (let n = 0; n < 160; n++) {
    const tinyBlocks = n % 3 === 0 ? { mc: pick([4, 5, 8, 12]), kc: pick([1, 3, 4, 16]), nc: pick([8, 9, 16, 24]) } : {};
    cases.push({
      ...base,
      batch: pick([1, 2, 3, 5]),
      M: pick(dims),
      N: pick(dims),
      K: pick([0, ...dims, 300]),
      transA: pick([0, 1]),
      transB: pick([0, 1]),
      accumulate: pick([0, 1]),
      broadcastA: pick([false, false, true]),
      broadcastB: pick([false, true]),
      gapA: pick([0, 5]),
      gapB: pick([0, 3]),
      gapC: pick([0, 0, 7]),
      misalign: pick([0, 0, 4, 8]),
      nthreads: pick([1, 2, 3, 4, 7]),
      ...tinyBlocks,
      seed: seed++,
    });
  }
  // More threads than work.
  for (const nthreads of [2, 3, 5, 8]) cases.push({ ...base, M: 1, N: 1, K: 3, nthreads, seed: seed++ });
  cases.push({ ...base, M: 2, N: 70, K: 5, nthreads: 7, seed: seed++ });
  cases.push({ ...base, M: 1, N: 33, K: 9, batch: 2, nthreads: 5, broadcastB: true, seed: seed++ });
  // Larger: several kc blocks, several column blocks with small nc.
  for (const S of [64, 100, 129]) {
    for (const transB of [0, 1]) {
      for (const nthreads of [1, 2, 3])
        cases.push({ ...base, M: S, N: S + 1, K: S + 2, transB, accumulate: transB, nthreads, seed: seed++ });
    }
  }
  cases.push({ ...base, batch: 3, M: 40, N: 72, K: 300, transA: 1, transB: 1, broadcastB: true, nthreads: 2, seed: seed++ });
  cases.push({ ...base, batch: 2, M: 64, N: 96, K: 520, nthreads: 3, seed: seed++ });
  cases.push({ ...base, M: 37, N: 300, K: 70, nc: 64, nthreads: 2, seed: seed++ });
  return cases;
}

/** Cases for real concurrent threads: enough work that every worker runs at once. */
function workerCases(settings) {
  const base = { batch: 1, transA: 0, transB: 0, accumulate: 0, workers: true, ...settings.blocks };
  return [
    { ...base, M: 200, N: 190, K: 300, seed: 1001 },
    { ...base, M: 3, N: 500, K: 64, transB: 1, seed: 1002 },
    { ...base, batch: 5, M: 33, N: 64, K: 48, transA: 1, accumulate: 1, broadcastB: true, seed: 1003 },
    { ...base, M: 130, N: 130, K: 600, mc: 16, kc: 64, nc: 32, seed: 1004 },
  ];
}

async function runChecks(kernel, settings) {
  const cases = checkCases(settings);
  if (kernel.threads > 1) cases.push(...workerCases(settings));
  let failed = 0;
  for (const c of cases) {
    const msg = await checkCase(kernel, c);
    if (msg && ++failed <= 10) console.log(`  FAIL ${kernel.build} ${JSON.stringify(c)}: ${msg}`);
  }
  console.log(`check ${kernel.build}: ${cases.length - failed}/${cases.length} cases pass`);
  return failed === 0;
}

// ---------------------------------------------------------------- timing

/** GFLOP/s of one shape: median (and best) of settings.runs samples after a warm-up. */
async function benchShape(kernel, shape, transB, threads, settings) {
  const { batch, M, N, K } = shape;
  const { mc, kc, nc } = settings.blocks;
  const mem = arena(kernel.memory);
  const pa = mem.alloc(batch * M * K * 4);
  const pb = mem.alloc(batch * K * N * 4);
  const pc = mem.alloc(batch * M * N * 4);
  const ps = mem.alloc(kernel.exports.gemmScratchBytes(mc, kc, nc) * threads);
  const f32 = new Float32Array(kernel.memory.buffer);
  const rand = rng(7);
  for (let i = 0; i < batch * M * K; i++) f32[pa / 4 + i] = rand();
  for (let i = 0; i < batch * K * N; i++) f32[pb / 4 + i] = rand();
  const gemmArgs = [pa, pb, pc, batch, M, N, K, M * K, K * N, M * N, 0, transB, 0, mc, kc, nc, ps];
  const call = threads > 1 ? () => kernel.callThreads(gemmArgs) : () => kernel.call(gemmArgs, 1);
  // Warm up for >= 50 ms, then repeat each sample to last >= ~30 ms.
  let calls = 0;
  let t0 = performance.now();
  while (calls < 2 || performance.now() - t0 < 50) {
    await call();
    calls++;
  }
  const once = (performance.now() - t0) / calls;
  const reps = Math.max(1, Math.ceil(30 / once));
  const samples = [];
  for (let r = 0; r < settings.runs; r++) {
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await call();
    samples.push((performance.now() - t0) / reps);
  }
  samples.sort((x, y) => x - y);
  const flop = 2 * batch * M * N * K;
  const gflops = (ms) => flop / (ms / 1e3) / 1e9;
  return { median: gflops(samples[Math.floor(samples.length / 2)]), best: gflops(samples[0]) };
}

async function runBench(kernel, settings) {
  const shapes = settings.sizes.map((s) => {
    if (s === 'batched') return { name: '[8,512,64]x[8,64,512]', batch: 8, M: 512, N: 512, K: 64 };
    const d = s.split('x').map(Number); // S, MxNxK or BxMxNxK
    if (d.length === 1) return { name: `${s}^3`, batch: 1, M: d[0], N: d[0], K: d[0] };
    const [batch, M, N, K] = d.length === 3 ? [1, ...d] : d;
    return { name: `${batch}x${M}x${N}x${K}`, batch, M, N, K };
  });
  const { mc, kc, nc } = settings.blocks;
  const threadCounts = kernel.threads > 1 ? [1, kernel.threads] : [1];
  console.log(
    `\n${kernel.build}: GFLOP/s, median of ${settings.runs} (best); mc/kc/nc = ${mc || 'default'}/${kc || 'default'}/${nc || 'default'}`,
  );
  const columns = threadCounts.flatMap((t) => [0, 1].map((transB) => `${t}T transB=${transB}`));
  console.log(`${'shape'.padEnd(24)}${columns.map((s) => s.padStart(16)).join('')}`);
  for (const shape of shapes) {
    let line = shape.name.padEnd(24);
    for (const threads of threadCounts) {
      for (const transB of [0, 1]) {
        const r = await benchShape(kernel, shape, transB, threads, settings);
        line += `${r.median.toFixed(1)} (${r.best.toFixed(1)})`.padStart(16);
      }
    }
    console.log(line);
  }
}
