import * as ort from 'onnxruntime-web';
import { matmulGraph } from './onnx-graph.ts';
const threads = Number(process.argv[2]);
ort.env.wasm.numThreads = threads;
ort.env.wasm.proxy = false;
console.log('env', JSON.stringify(ort.env.wasm), ort.env.versions);
const N = 1024;
const m = matmulGraph([N, N], [N, N]);
const t0 = performance.now();
const s = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
console.log('create ms', performance.now() - t0);
const a = new ort.Tensor('float32', new Float32Array(N*N).fill(1), [N, N]);
const b = new ort.Tensor('float32', new Float32Array(N*N).fill(1), [N, N]);
for (let it = 0; it < 8; it++) { const t = performance.now(); const r = await s.run({ a, b }); const dt = performance.now() - t; console.log(it, dt.toFixed(1), 'ms', (2*N*N*N/dt/1e6).toFixed(1), 'GFLOP/s', (r.c.data as Float32Array)[0]); }
process.exit(0);
