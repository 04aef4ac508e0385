import { runCases, printTable, type CaseSpec, type Workload } from './harness.js';
const mm: Workload = { kind: 'matmul', shapeA: [1024, 1024], shapeB: [1024, 1024] };
const specs: CaseSpec[] = [];
for (const system of process.argv[2].split(',')) for (const threads of [1, 2, 1, 2]) specs.push({ module: 'peers/ort.ts', system, variant: 'MatMul', threads, workload: mm });
const results = await runCases(specs);
printTable(results);
