// The peers alone, quickly: `node --import tsx bench/peers-demo.ts`
//
// GEMM 256³, 1024³ and batched [8,512,64]×[8,64,512]; attention forward B=1 H=8 D=64
// N=512 with and without the causal mask; the tfjs forward+backward at N=512 causal;
// decode (1 query row × 4,096 keys). onnxruntime with 1 and 2 threads, tfjs on one.
// Prints one table per workload (ratios vs onnxruntime-node on 1 thread) and writes
// bench/results/peers-demo.json. Takes 1–2 minutes on 2 cores.

import type { CaseSpec, TimingOptions, Workload } from './harness.js';
import { runCases, workloadLabel } from './harness.js';
import { machineInfo, printTable, writeResults } from './report.js';

const ort = 'peers/ort.ts';
const tfjs = 'peers/tfjs.ts';
const timing: Partial<TimingOptions> = { warmup: 2, minRuns: 5, minSeconds: 0.3, maxSeconds: 4 };
const slowTiming: Partial<TimingOptions> = { warmup: 1, minRuns: 3, minSeconds: 0.3, maxSeconds: 4 };

const matmuls: Workload[] = [
  { kind: 'matmul', shapeA: [256, 256], shapeB: [256, 256] },
  { kind: 'matmul', shapeA: [1024, 1024], shapeB: [1024, 1024] },
  { kind: 'matmul', shapeA: [8, 512, 64], shapeB: [8, 64, 512] },
];
const attention = (seqQ: number, seqK: number, causal: boolean, pass: 'forward' | 'forwardBackward'): Workload => ({
  kind: 'attention',
  batch: 1,
  numHeads: 8,
  headDim: 64,
  seqQ,
  seqK,
  causal,
  pass,
});
const forwards = [attention(512, 512, false, 'forward'), attention(512, 512, true, 'forward')];
const backward = attention(512, 512, true, 'forwardBackward');
const decode = attention(1, 4096, false, 'forward');

const specs: CaseSpec[] = [];
const add = (module: string, system: string, variant: string, threads: number, workload: Workload, t = timing) =>
  specs.push({ module, system, variant, threads, workload, timing: t });

for (const system of ['ort-node', 'ort-web']) {
  for (const threads of [1, 2]) {
    for (const w of matmuls) add(ort, system, 'MatMul', threads, w);
    for (const w of [...forwards, decode]) {
      add(ort, system, 'MultiHeadAttention', threads, w);
      add(ort, system, 'MultiHeadAttention-bsnh', threads, w);
      add(ort, system, 'MatMul-Softmax-MatMul', threads, w);
    }
  }
}
for (const w of matmuls) {
  add(tfjs, 'tfjs-wasm', 'matMul(a,b)', 1, w);
  add(tfjs, 'tfjs-wasm', 'matMul(a,bT,false,true)', 1, w);
  if (w.kind === 'matmul' && w.shapeA.length === 3) add(tfjs, 'tfjs-wasm', 'per-batch 2-D matMul', 1, w);
}
for (const w of [...forwards, decode]) {
  add(tfjs, 'tfjs-wasm', 'rank-4', 1, w, slowTiming);
  add(tfjs, 'tfjs-wasm', 'per-head 2-D', 1, w);
}
add(tfjs, 'tfjs-wasm', 'rank-4', 1, backward, slowTiming);
add(tfjs, 'tfjs-wasm', 'per-head 2-D', 1, backward, slowTiming);
// tfjs-wasm is single-threaded in Node: this row shows the skip
add(tfjs, 'tfjs-wasm', 'matMul(a,b)', 2, matmuls[1]);
add(tfjs, 'tfjs-cpu', 'matMul(a,b)', 1, matmuls[0], slowTiming);
add(tfjs, 'tfjs-cpu', 'rank-4', 1, forwards[0], slowTiming);

const machine = machineInfo();
console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);
console.log(`${specs.length} cases in ${new Set(specs.map((s) => `${s.system}×${s.threads}`)).size} processes`);
const started = performance.now();
const results = await runCases(specs, {
  retryContended: 1,
  onResult: (r) => {
    const what = r.status === 'ok' ? `${r.gflops?.toFixed(1)} GFLOP/s` : `${r.status}: ${r.reason}`;
    console.log(`  ${r.spec.system} ${r.spec.variant} ×${r.spec.threads} — ${workloadLabel(r.spec.workload)}: ${what}`);
  },
});
printTable(results, {
  title: `Peers, fp32, median of ≥${timing.minRuns} runs (cpu = CPU s per wall s while timing)`,
  baseline: (w) =>
    w.kind === 'matmul' ? 'ort-node MatMul ×1' : w.pass === 'forward' ? 'ort-node MultiHeadAttention ×1' : 'tfjs-wasm rank-4 ×1',
});
const file = writeResults('peers-demo', results, { seconds: (performance.now() - started) / 1e3 });
console.log(`\n${((performance.now() - started) / 1e3).toFixed(0)} s; results in ${file}`);
