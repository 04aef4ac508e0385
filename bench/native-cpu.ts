// attune-native against onnxruntime-node at one thread, timed by the process's
// CPU time (process.cpuUsage) with the systems interleaved run by run, in one
// process: on a shared machine, where other jobs take the cores for
// milliseconds at a time, wall-clock ratios between child processes mean
// little, but CPU time still counts each system's own work. Both run on the
// calling thread at one thread (onnxruntime-node: intraOpNumThreads 1), so
// CPU time is their time. Also attune-native against attune-wasm forward +
// backward. Best of the runs after two warm-ups. `npm run bench -- native-cpu`
// Writes bench/results/native-cpu.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as at from '../src/index.js';
import { systems as attuneSystems } from './attune.js';
import { type Case, type CaseSpec, makeInputs, type System, type Workload, workloadFlops } from './harness.js';
import { nativeSimdLimit } from './limits.js';
import { ortNode } from './peers/ort.js';
import { machineInfo } from './report.js';

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function attention(n: number, causal: boolean, seqQ = n): Workload {
  return { kind: 'attention', batch: 1, numHeads: 8, headDim: 64, seqQ, seqK: n, causal, pass: 'forward' };
}

const native = attuneSystems.find((s) => s.name === 'attune-native') as System;
const machine = machineInfo();
console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);
await native.init?.(1);
await ortNode.init?.(1);
// simd-peak times by the wall clock: on a busy machine its figure is low. ATTUNE_NATIVE_PEAK
// (GFLOP/s per core, from a simd-peak run on a quiet machine) takes precedence here.
const envPeak = Number(process.env.ATTUNE_NATIVE_PEAK);
const peak = Number.isFinite(envPeak) && envPeak > 0 ? { gflopsPerCore: envPeak, source: 'ATTUNE_NATIVE_PEAK' } : nativeSimdLimit();

const rows: { label: string; native: number; ortNode: number; ratio: number; variants: Record<string, number> }[] = [];
const cases: [string, Workload, string[], number][] = [
  ['GEMM 1024³', { kind: 'matmul', shapeA: [1024, 1024], shapeB: [1024, 1024] }, ['MatMul'], 12],
  ['attention fwd N=2048', attention(2048, false), ['MultiHeadAttention', 'MultiHeadAttention-bsnh', 'MatMul-Softmax-MatMul'], 8],
  ['attention fwd N=2048 causal', attention(2048, true), ['MultiHeadAttention', 'MultiHeadAttention-bsnh', 'MatMul-Softmax-MatMul'], 8],
  ['decode 1×4096', attention(4096, false, 1), ['MultiHeadAttention', 'MatMul-Softmax-MatMul'], 200],
];
for (const [label, w, variants, runs] of cases) {
  const inputs = makeInputs(w);
  const setup = (system: System, variant: string): Promise<Case> =>
    system.setup({ module: '', system: system.name, variant, threads: 1, workload: w } as CaseSpec, inputs);
  const list: [string, Case][] = [['native', await setup(native, w.kind === 'matmul' ? 'matmul' : 'sdpa')]];
  for (const v of variants) list.push([v, await setup(ortNode, v)]);
  const best = new Map<string, number>();
  for (let r = 0; r < runs + 2; r++) {
    for (const [name, c] of list) {
      const t0 = cpuSeconds();
      await c.run();
      const dt = cpuSeconds() - t0;
      if (r >= 2 && dt > 0) best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, dt));
    }
  }
  for (const [, c] of list) c.dispose();
  const gflops = (name: string) => workloadFlops(w) / (best.get(name) as number) / 1e9;
  const ort = Object.fromEntries(variants.map((v) => [v, gflops(v)]));
  const ortBest = Math.max(...Object.values(ort));
  const row = { label, native: gflops('native'), ortNode: ortBest, ratio: gflops('native') / ortBest, variants: ort };
  rows.push(row);
  const pct = peak ? `, ${((100 * row.native) / peak.gflopsPerCore).toFixed(0)}% of the 512-bit FMA limit` : '';
  console.log(
    `${label.padEnd(30)} native ${row.native.toFixed(1).padStart(6)} GFLOP/s${pct}; ort-node best ${ortBest.toFixed(1).padStart(6)} ` +
      `(${variants.map((v) => `${v} ${ort[v]?.toFixed(1)}`).join(', ')}): ${row.ratio.toFixed(2)}×`,
  );
}

// forward + backward: native against wasm (onnxruntime has no backward for these graphs)
const N = 2048;
const q = at.keep(at.randn([1, 8, N, 64], { seed: 1 }));
const k = at.keep(at.randn([1, 8, N, 64], { seed: 2 }));
const v = at.keep(at.randn([1, 8, N, 64], { seed: 3 }));
const dOut = at.keep(at.randn([1, 8, N, 64], { seed: 4 }));
for (const t of [q, k, v]) t.setRequiresGrad();
const fb: Record<string, number> = {};
for (let r = 0; r < 4; r++) {
  for (const backend of ['native', 'wasm']) {
    at.setBackend(backend);
    at.setThreads(1);
    for (const t of [q, k, v]) {
      t.grad?.dispose();
      t.grad = null;
    }
    const t0 = cpuSeconds();
    at.tidy(() => {
      at.scaledDotProductAttention(q, k, v).backward(dOut);
    });
    const dt = cpuSeconds() - t0;
    if (r >= 1) fb[backend] = Math.min(fb[backend] ?? Number.POSITIVE_INFINITY, dt);
  }
}
const fbFlops = 3.5 * 4 * 8 * N * N * 64;
const fbRow = { native: fbFlops / (fb.native as number) / 1e9, wasm: fbFlops / (fb.wasm as number) / 1e9 };
console.log(
  `${'attention fwd+bwd N=2048'.padEnd(30)} native ${fbRow.native.toFixed(1).padStart(6)} GFLOP/s; wasm ${fbRow.wasm.toFixed(1)}: ${(fbRow.native / fbRow.wasm).toFixed(2)}×`,
);
console.log(peak ? `512-bit FMA limit: ${peak.source}` : '512-bit FMA limit: unknown (no ../shared/tools/simd-peak)');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL('./results/native-cpu.json', import.meta.url);
writeFileSync(file, `${JSON.stringify({ name: 'native-cpu', machine, peak, rows, forwardBackward: fbRow }, null, 2)}\n`);
console.log(`results in ${file.pathname}`);
