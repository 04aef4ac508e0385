import { runCases, printTable, type CaseSpec, type Workload } from './harness.js';
const mm: Workload = { kind: 'matmul', shapeA: [256, 256], shapeB: [256, 256] };
const bm: Workload = { kind: 'matmul', shapeA: [8, 512, 64], shapeB: [8, 64, 512] };
const att = (pass: 'forward'|'forwardBackward', causal: boolean): Workload => ({ kind: 'attention', batch: 1, numHeads: 2, headDim: 64, seqQ: 256, seqK: 256, causal, pass });
const specs: CaseSpec[] = [];
for (const system of ['tfjs-wasm', 'tfjs-cpu']) {
  for (const w of [mm, bm]) for (const variant of ['matMul(a,b)', 'matMul(a,bT,false,true)', 'per-batch 2-D matMul']) specs.push({ module: 'peers/tfjs.ts', system, variant, threads: 1, workload: w, timing: { minSeconds: 0.2 } });
  for (const pass of ['forward', 'forwardBackward'] as const) for (const causal of [false, true]) for (const variant of ['rank-4', 'per-head 2-D']) specs.push({ module: 'peers/tfjs.ts', system, variant, threads: 1, workload: att(pass, causal), timing: { minSeconds: 0.2 } });
}
specs.push({ module: 'peers/tfjs.ts', system: 'tfjs-wasm', variant: 'rank-4', threads: 2, workload: att('forward', false) });
const t0 = performance.now();
const results = await runCases(specs);
printTable(results, { baseline: 'tfjs-wasm rank-4 ×1' });
console.log((performance.now() - t0) / 1e3, 's');
