import { runCases, printTable, type CaseSpec, type Workload } from './harness.js';
const mm: Workload = { kind: 'matmul', shapeA: [1024, 1024], shapeB: [1024, 1024] };
const bm: Workload = { kind: 'matmul', shapeA: [8, 512, 64], shapeB: [8, 64, 512] };
const att = (n: number, causal: boolean): Workload => ({ kind: 'attention', batch: 1, numHeads: 8, headDim: 64, seqQ: n, seqK: n, causal, pass: 'forward' });
const specs: CaseSpec[] = [];
const sys = process.argv[2].split(',');
const ns = (process.argv[3] ?? '512').split(',').map(Number);
for (const system of sys) for (const threads of [1, 2]) {
  for (const w of [mm, bm]) specs.push({ module: 'peers/ort.ts', system, variant: 'MatMul', threads, workload: w });
  for (const n of ns) for (const c of [false, true]) for (const variant of ['MultiHeadAttention', 'MultiHeadAttention-bsnh', 'MatMul-Softmax-MatMul']) specs.push({ module: 'peers/ort.ts', system, variant, threads, workload: att(n, c), timing: {maxSeconds: 3} });
}
const results = await runCases(specs);
printTable(results, { baseline: (w) => w.kind === 'matmul' ? 'ort-node MatMul ×1' : 'ort-node MultiHeadAttention ×1' });
