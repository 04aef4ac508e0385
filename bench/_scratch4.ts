import { runCases, printTable, type CaseSpec, type Workload } from './harness.js';
const mm: Workload = { kind: 'matmul', shapeA: [1024, 1024], shapeB: [1024, 1024] };
const att: Workload = { kind: 'attention', batch: 1, numHeads: 8, headDim: 64, seqQ: 512, seqK: 512, causal: true, pass: 'forward' };
const specs: CaseSpec[] = [];
for (const system of ['ort-node', 'ort-web']) for (const threads of [1, 2]) {
  specs.push({ module: 'peers/ort.ts', system, variant: 'MatMul', threads, workload: mm });
  for (const variant of ['MultiHeadAttention', 'MultiHeadAttention-bsnh', 'MatMul-Softmax-MatMul']) specs.push({ module: 'peers/ort.ts', system, variant, threads, workload: att });
}
const t0 = performance.now();
const results = await runCases(specs, { onResult: (r) => process.stderr.write('.') });
printTable(results, { baseline: 'ort-node MultiHeadAttention ×1' });
console.log((performance.now() - t0) / 1e3, 's');
