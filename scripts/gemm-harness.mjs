#!/usr/bin/env node
// Dev harness for the wasm GEMM kernel (assembly/gemm.ts): checks it against a
// plain JS triple loop over many shapes, layouts and thread splits, then times
// it single-threaded. Build first: node scripts/build-wasm.mjs
//
//   node scripts/gemm-harness.mjs                 check + bench, relaxed and simd builds
//   node scripts/gemm-harness.mjs --check         correctness only
//   node scripts/gemm-harness.mjs --bench         timing only
//   options: --mc 128 --kc 256 --nc 2048   cache blocks (default: the kernel's defaults)
//            --builds relaxed,simd  --runs 7  --sizes 128,256,512,1024,batched
//            --wasm-dir wasm   where attune-{relaxed,simd}-mt.wasm live
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // default from Node 22
v8.setFlagsFromString('--no-liftoff'); // optimized code from the first call

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const doCheck = !args.includes('--bench') || args.includes('--check');
const doBench = !args.includes('--check') || args.includes('--bench');
const blocks = { mc: Number(opt('mc', 0)), kc: Number(opt('kc', 0)), nc: Number(opt('nc', 0)) };
const builds = opt('builds', 'relaxed,simd').split(',');
const runs = Number(opt('runs', 7));
const sizes = opt('sizes', '128,256,512,1024,batched').split(',');
const wasmDir = opt('wasm-dir', new URL('../wasm', import.meta.url).pathname);

const PAGE = 65536;
const MAX_THREADS = 8;

function load(build) {
  const memory = new WebAssembly.Memory({ initial: 2048, maximum: 65536, shared: true }); // 128 MiB
  const bytes = readFileSync(`${wasmDir}/attune-${build}-mt.wasm`);
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  });
  return { memory, exports: instance.exports };
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

/** A bump allocator over the wasm memory (byte offsets), reset per case. */
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
 * One GEMM case: fills A, B (and C), runs the kernel as `nthreads` threads
 * (called one after another: their parts of C are disjoint), and compares with
 * the JS reference. Returns a message on failure, '' on success.
 */
function checkCase(wasm, c, seed) {
  const { batch, M, N, K, transA, transB, accumulate, nthreads } = c;
  const strideA = c.broadcastA ? 0 : M * K + (c.gapA ?? 0);
  const strideB = c.broadcastB ? 0 : K * N + (c.gapB ?? 0);
  const strideC = M * N + (c.gapC ?? 0);
  const lenA = Math.max(1, (batch - 1) * strideA + M * K);
  const lenB = Math.max(1, (batch - 1) * strideB + K * N);
  const lenC = (batch - 1) * strideC + M * N;
  const guard = 16; // canary floats after C
  const mem = arena(wasm.memory);
  const mis = c.misalign ?? 0;
  const pa = mem.alloc(lenA * 4, mis);
  const pb = mem.alloc(lenB * 4, mis);
  const pc = mem.alloc((lenC + 2 * guard) * 4, mis) + guard * 4;
  const scratchBytes = wasm.exports.gemmScratchBytes(c.mc, c.kc, c.nc);
  const ps = mem.alloc(scratchBytes * nthreads);
  const f32 = new Float32Array(wasm.memory.buffer);
  const A = f32.subarray(pa / 4, pa / 4 + lenA);
  const B = f32.subarray(pb / 4, pb / 4 + lenB);
  const Cwide = f32.subarray(pc / 4 - guard, pc / 4 + lenC + guard);
  const rand = rng(seed);
  for (let i = 0; i < lenA; i++) A[i] = rand();
  for (let i = 0; i < lenB; i++) B[i] = rand();
  const CANARY = 12345.5;
  Cwide.fill(CANARY);
  const C0 = new Float32Array(lenC);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < M * N; i++) {
      // Without accumulate C must never be read: start it as NaN.
      C0[t * strideC + i] = accumulate ? rand() : Number.NaN;
    }
  }
  Cwide.set(
    C0.map((v, i) => (isInGap(i, strideC, M * N) ? CANARY : v)),
    guard,
  );

  for (let tid = 0; tid < nthreads; tid++) {
    wasm.exports.gemm(
      pa,
      pb,
      pc,
      batch,
      M,
      N,
      K,
      strideA,
      strideB,
      strideC,
      transA,
      transB,
      accumulate,
      c.mc,
      c.kc,
      c.nc,
      ps,
      tid,
      nthreads,
    );
  }

  const got = new Float32Array(wasm.memory.buffer, pc - guard * 4, lenC + 2 * guard);
  for (let i = 0; i < guard; i++) {
    if (got[i] !== CANARY || got[guard + lenC + i] !== CANARY) return 'wrote outside C';
  }
  let worst = 0;
  for (let t = 0; t < batch; t++) {
    const oa = t * strideA,
      ob = t * strideB,
      oc = t * strideC;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0,
          abs = 0;
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
        const v = got[guard + oc + i * N + j];
        // Forward error bound of a length-K f32 dot product: ~K·2^-24·Σ|a·b|.
        const err = Math.abs(v - sum);
        const tol = 1e-7 * Math.max(K, 1) * abs + 1e-30;
        if (!(err <= tol)) return `C[${t}][${i}][${j}] = ${v}, expected ${sum} (tolerance ${tol.toExponential(2)})`;
        if (abs > 0) worst = Math.max(worst, err / abs);
      }
    }
    if (t + 1 < batch) {
      for (let g = M * N; g < strideC; g++) if (got[guard + oc + g] !== CANARY) return `wrote into the gap after batch ${t}`;
    }
  }
  return '';
}

function isInGap(i, strideC, size) {
  return i % strideC >= size;
}

function checkCases() {
  const cases = [];
  const base = { batch: 1, transA: 0, transB: 0, accumulate: 0, nthreads: 1, ...blocks };
  const dims = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33];
  let seed = 1;
  // Small shapes over every layout, accumulate flag and thread count.
  for (const M of [1, 3, 4, 5, 9, 17]) {
    for (const N of [1, 7, 8, 9, 16, 23]) {
      for (const K of [0, 1, 3, 4, 5, 17]) {
        for (let variant = 0; variant < 8; variant++) {
          cases.push({
            ...base,
            M,
            N,
            K,
            transA: variant & 1,
            transB: (variant >> 1) & 1,
            accumulate: (variant >> 2) & 1,
            nthreads: 1 + ((M + N + K + variant) % 3),
            seed: seed++,
          });
        }
      }
    }
  }
  // Random mid-size shapes, batches, broadcast, gaps, tiny cache blocks (many blocks and edges).
  const rand = rng(99);
  const pick = (xs) => xs[Math.floor(((rand() + 1) / 2) * xs.length)];
  for (let n = 0; n < 160; n++) {
    const tiny = n % 3 === 0;
    cases.push({
      ...base,
      batch: pick([1, 2, 3, 5]),
      M: pick([...dims, 40, 63, 70]),
      N: pick([...dims, 40, 63, 70]),
      K: pick([0, ...dims, 40, 63, 70, 300]),
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
      ...(tiny ? { mc: pick([4, 5, 8, 12]), kc: pick([1, 3, 4, 16]), nc: pick([8, 9, 16, 24]) } : {}),
      seed: seed++,
    });
  }
  // More threads than work, and a few larger squares.
  for (const nthreads of [2, 3, 5, MAX_THREADS]) cases.push({ ...base, M: 1, N: 1, K: 3, nthreads, seed: seed++ });
  cases.push({ ...base, M: 2, N: 70, K: 5, nthreads: 7, seed: seed++ });
  cases.push({ ...base, M: 1, N: 33, K: 9, batch: 2, nthreads: 5, broadcastB: true, seed: seed++ });
  for (const S of [64, 100, 129]) {
    for (const transB of [0, 1]) {
      for (const nthreads of [1, 2, 3])
        cases.push({ ...base, M: S, N: S + 1, K: S + 2, transB, accumulate: transB, nthreads, seed: seed++ });
    }
  }
  cases.push({ ...base, batch: 3, M: 40, N: 72, K: 300, transA: 1, transB: 1, broadcastB: true, nthreads: 2, seed: seed++ });
  cases.push({ ...base, batch: 2, M: 64, N: 96, K: 520, nthreads: 3, seed: seed++ });
  return cases;
}

function runChecks(build) {
  const wasm = load(build);
  const cases = checkCases();
  let failed = 0;
  for (const c of cases) {
    const msg = checkCase(wasm, c, c.seed);
    if (msg) {
      failed++;
      if (failed <= 10) console.log(`  FAIL ${build} ${JSON.stringify(c)}: ${msg}`);
    }
  }
  console.log(`check ${build}: ${cases.length - failed}/${cases.length} cases pass`);
  return failed === 0;
}

// ---------------------------------------------------------------- timing

function benchShape(wasm, shape, transB) {
  const { batch, M, N, K } = shape;
  const mem = arena(wasm.memory);
  const pa = mem.alloc(batch * M * K * 4);
  const pb = mem.alloc(batch * K * N * 4);
  const pc = mem.alloc(batch * M * N * 4);
  const ps = mem.alloc(wasm.exports.gemmScratchBytes(blocks.mc, blocks.kc, blocks.nc));
  const f32 = new Float32Array(wasm.memory.buffer);
  const rand = rng(7);
  for (let i = 0; i < batch * M * K; i++) f32[pa / 4 + i] = rand();
  for (let i = 0; i < batch * K * N; i++) f32[pb / 4 + i] = rand();
  const call = () =>
    wasm.exports.gemm(pa, pb, pc, batch, M, N, K, M * K, K * N, M * N, 0, transB, 0, blocks.mc, blocks.kc, blocks.nc, ps, 0, 1);
  const flop = 2 * batch * M * N * K;
  // Repeat each sample to last >= ~30 ms.
  let t0 = performance.now();
  call();
  call();
  const once = (performance.now() - t0) / 2;
  const reps = Math.max(1, Math.ceil(30 / Math.max(once, 1e-3)));
  const samples = [];
  for (let r = 0; r < runs; r++) {
    t0 = performance.now();
    for (let i = 0; i < reps; i++) call();
    samples.push((performance.now() - t0) / reps);
  }
  samples.sort((x, y) => x - y);
  const median = samples[Math.floor(samples.length / 2)];
  return { gflops: flop / (median / 1e3) / 1e9, best: flop / (samples[0] / 1e3) / 1e9 };
}

function runBench() {
  const shapes = sizes.map((s) =>
    s === 'batched'
      ? { name: '[8,512,64]x[8,64,512]', batch: 8, M: 512, N: 512, K: 64 }
      : { name: `${s}^3`, batch: 1, M: +s, N: +s, K: +s },
  );
  const label = (b) => `${b} transB=0`.padStart(18) + `${b} transB=1`.padStart(18);
  console.log(
    `\nsingle-thread GFLOP/s, median of ${runs} (best in parentheses); blocks mc/kc/nc = ${blocks.mc || 'default'}/${blocks.kc || 'default'}/${blocks.nc || 'default'}`,
  );
  console.log(`${'shape'.padEnd(24)}${builds.map(label).join('')}`);
  const instances = Object.fromEntries(builds.map((b) => [b, load(b)]));
  for (const shape of shapes) {
    let line = shape.name.padEnd(24);
    for (const b of builds) {
      for (const transB of [0, 1]) {
        const r = benchShape(instances[b], shape, transB);
        line += `${r.gflops.toFixed(1)} (${r.best.toFixed(1)})`.padStart(18);
      }
    }
    console.log(line);
  }
}

let ok = true;
if (doCheck) for (const b of builds) ok = runChecks(b) && ok;
if (doBench) runBench();
if (!ok) process.exit(1);
