const which = process.argv[2];
const ort: any = which === 'web' ? await import('onnxruntime-web') : await import('onnxruntime-node');
if (which === 'web') { ort.env.wasm.numThreads = 1; }
import { matmulGraph } from './onnx-graph.js';
const N = 512;
const m = matmulGraph([N, N], [N, N]);
const s = await ort.InferenceSession.create(m.bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
const a = new ort.Tensor('float32', new Float32Array(N*N).fill(1), [N, N]);
const b = new ort.Tensor('float32', new Float32Array(N*N).fill(1), [N, N]);
const out = new ort.Tensor('float32', new Float32Array(N*N), [N, N]);
for (const pre of [false, true, false, true]) {
  const t = performance.now(); let r: any;
  for (let i = 0; i < 50; i++) r = pre ? await s.run({ a, b }, { c: out }) : await s.run({ a, b });
  console.log(which, 'prealloc', pre, ((performance.now() - t) / 50).toFixed(2), 'ms', r.c === out, r.c.data === out.data, out.data[5]);
}
process.exit(0);
