// GEMM: attune's wasm kernel against onnxruntime-node (native), onnxruntime-web
// (wasm) and tfjs-wasm (natural call and fastest formulation), 1 and 2 threads,
// one child process per (system, threads). `npm run bench -- matmul [--quick]`
// Prints GFLOP/s, ratios and the issue's targets; writes bench/results/matmul.json.

import type { CaseResult, CaseSpec, TimingOptions, Workload } from './harness.js';
import { runCases, workloadLabel } from './harness.js';
import { nativeSimdLimit, simdLimit } from './limits.js';
import { machineInfo, printTable, writeResults } from './report.js';

const quick = process.argv.includes('--quick');
const timing: Partial<TimingOptions> = { warmup: 3, minRuns: quick ? 5 : 9, minSeconds: quick ? 0.3 : 1, maxSeconds: 8 };
const square = (n: number): Workload => ({ kind: 'matmul', shapeA: [n, n], shapeB: [n, n] });
const batched: Workload = { kind: 'matmul', shapeA: [8, 512, 64], shapeB: [8, 64, 512] };
const workloads = [...(quick ? [256, 1024] : [128, 256, 512, 1024]).map(square), batched];

const specs: CaseSpec[] = [];
const add = (module: string, system: string, variant: string, threads: number, workload: Workload) =>
  specs.push({ module, system, variant, threads, workload, timing });
for (const w of workloads) {
  for (const threads of [1, 2]) {
    add('attune.ts', 'attune-native', 'matmul', threads, w);
    add('attune.ts', 'attune-wasm', 'matmul', threads, w);
    add('peers/ort.ts', 'ort-node', 'MatMul', threads, w);
    add('peers/ort.ts', 'ort-web', 'MatMul', threads, w);
  }
  add('peers/tfjs.ts', 'tfjs-wasm', 'matMul(a,b)', 1, w);
  add('peers/tfjs.ts', 'tfjs-wasm', 'matMul(a,bT,false,true)', 1, w);
  if (w.kind === 'matmul' && w.shapeA.length === 3) add('peers/tfjs.ts', 'tfjs-wasm', 'per-batch 2-D matMul', 1, w);
}

const machine = machineInfo();
console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);
const limit = simdLimit();
const nativeLimit = nativeSimdLimit();
const results = await runCases(specs, { retryContended: 1 });
printTable(results, { title: 'GEMM fp32 (2·M·N·K / median time)', baseline: 'attune-wasm matmul ×1' });

const find = (w: Workload, system: string, variant: string, threads: number): CaseResult | undefined =>
  results.find(
    (r) =>
      r.spec.system === system &&
      r.spec.variant === variant &&
      r.spec.threads === threads &&
      workloadLabel(r.spec.workload) === workloadLabel(w),
  );
const gf = (r: CaseResult | undefined) => r?.gflops ?? Number.NaN;
const big = square(1024);
const ours1 = gf(find(big, 'attune-wasm', 'matmul', 1));
const ours2 = gf(find(big, 'attune-wasm', 'matmul', 2));
const tfjsBest = Math.max(gf(find(big, 'tfjs-wasm', 'matMul(a,b)', 1)), gf(find(big, 'tfjs-wasm', 'matMul(a,bT,false,true)', 1)));
const batchedOurs = (t: number) => gf(find(batched, 'attune-wasm', 'matmul', t));
const batchedWeb = (t: number) => gf(find(batched, 'ort-web', 'MatMul', t));
const targets = [
  ['1024³, 2 threads: attune / onnxruntime-web', ours2 / gf(find(big, 'ort-web', 'MatMul', 2)), 1.25],
  ['1024³, 1 thread: attune / tfjs-wasm fastest', ours1 / tfjsBest, 1.05],
  ['[8,512,64]×[8,64,512], 1 thread: attune / onnxruntime-web', batchedOurs(1) / batchedWeb(1), 1.5],
  ['[8,512,64]×[8,64,512], 2 threads: attune / onnxruntime-web', batchedOurs(2) / batchedWeb(2), 1.5],
  ['1024³, 1 thread: attune / onnxruntime-node', ours1 / gf(find(big, 'ort-node', 'MatMul', 1)), null],
  ['1024³, 2 threads: attune / onnxruntime-node', ours2 / gf(find(big, 'ort-node', 'MatMul', 2)), null],
] as const;
console.log('\nTargets (ratios from this run)');
for (const [label, value, goal] of targets) {
  console.log(`  ${label.padEnd(58)} ${value.toFixed(2)}×${goal ? `  (target ≥ ${goal}: ${value >= goal ? 'met' : 'NOT met'})` : ''}`);
}
if (limit) {
  const pct = (100 * ours1) / limit.gflopsPerCore;
  console.log(
    `  1024³, 1 thread: ${ours1.toFixed(1)} GFLOP/s = ${pct.toFixed(1)}% of the limit (target ≥ 75%: ${pct >= 75 ? 'met' : 'NOT met'}); ${limit.source}`,
  );
}
const native = (t: number) => gf(find(big, 'attune-native', 'matmul', t));
const nativeTargets = [
  ['1024³, 1 thread: attune-native / onnxruntime-node', native(1) / gf(find(big, 'ort-node', 'MatMul', 1)), 0.9],
  ['1024³, 2 threads: attune-native / onnxruntime-node', native(2) / gf(find(big, 'ort-node', 'MatMul', 2)), 0.9],
  [
    '[8,512,64]×[8,64,512], 1 thread: attune-native / onnxruntime-node',
    gf(find(batched, 'attune-native', 'matmul', 1)) / gf(find(batched, 'ort-node', 'MatMul', 1)),
    null,
  ],
] as const;
for (const [label, value, goal] of nativeTargets) {
  console.log(`  ${label.padEnd(58)} ${value.toFixed(2)}×${goal ? `  (target ≥ ${goal}: ${value >= goal ? 'met' : 'NOT met'})` : ''}`);
}
if (nativeLimit) {
  const pct = (100 * native(1)) / nativeLimit.gflopsPerCore;
  console.log(
    `  1024³, 1 thread: attune-native ${native(1).toFixed(1)} GFLOP/s = ${pct.toFixed(1)}% of the 512-bit limit; ${nativeLimit.source}`,
  );
}
const file = writeResults('matmul', results, {
  limit,
  nativeLimit,
  targets: [...targets, ...nativeTargets].map(([label, value, goal]) => ({ label, value, goal })),
});
console.log(`results in ${file}`);
