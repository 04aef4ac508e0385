// onnxruntime peers: onnxruntime-node (native CPU execution provider) and
// onnxruntime-web (its wasm build, SIMD + threads, run in Node).
//
// B batch · H heads · Nq query rows · Nk key rows · D head dim
//
// Each is called the way a tuned user would: one session per case with
// graphOptimizationLevel 'all' and sequential execution, input tensors made once.
// ort-node also gets its output tensor allocated once (passed as `fetches`; it is
// written in place). ort-web does not: in 1.30 a preallocated CPU output comes back
// as the same tensor but is never written (silently stale data), so it allocates.
//
// Threads. ort-node: `intraOpNumThreads` per session (1 = the calling thread alone).
// ort-web: `env.wasm.numThreads` must be set before the first session is created; it
// starts numThreads − 1 worker_threads running the same .wasm on a shared memory, and
// the count is fixed for the life of the process — hence one process per (system,
// threads). `env.wasm.proxy` stays off (the proxy worker only moves the work off the
// main thread, one more hop per run), and `env.wasm.simd` only selects a feature check
// in 1.30: one SIMD build ships, no relaxed-SIMD one.
//
// Variants
//   matmul:    'MatMul'                   one MatMul node
//   attention: 'MultiHeadAttention'       com.microsoft op, query [B, Nq, H·D], K/V [B, H, Nk, D]
//              'MultiHeadAttention-bsnh'  the same with K/V [B, Nk, H·D]: the op transposes them per
//                                         run (slow for decode), but ort-node then takes a
//                                         lower-memory path for long non-causal sequences
//              'MatMul-Softmax-MatMul'    standard ops on [B, H, N, D], Kᵀ handed over made
// Causal uses the op's `unidirectional` attribute, which is right when Nq = Nk or Nq = 1;
// otherwise it aligns the mask top-left, so an additive mask input is used instead.
// Forward only: neither package has a backward for these graphs.

import type * as OrtCommon from 'onnxruntime-node';
import type { AttentionWorkload, Case, CaseSpec, Inputs, Outputs, System, Workload } from '../harness.js';
import { SkipCase } from '../harness.js';
import type { OnnxModel } from '../onnx-graph.js';
import { matmulGraph, matmulSoftmaxMatmulGraph, multiHeadAttentionGraph } from '../onnx-graph.js';

type Ort = Pick<typeof OrtCommon, 'InferenceSession' | 'Tensor'>;

/** [B, H, N, D] → [B, N, H, D] (= [B, N, H·D]), the layout MultiHeadAttention's query and output use. */
export function bnshToBsnh(x: Float32Array, b: number, h: number, n: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let z = 0; z < b; z++)
    for (let head = 0; head < h; head++)
      for (let i = 0; i < n; i++) {
        const from = ((z * h + head) * n + i) * d;
        out.set(x.subarray(from, from + d), ((z * n + i) * h + head) * d);
      }
  return out;
}

export function bsnhToBnsh(x: Float32Array, b: number, h: number, n: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let z = 0; z < b; z++)
    for (let i = 0; i < n; i++)
      for (let head = 0; head < h; head++) {
        const from = ((z * n + i) * h + head) * d;
        out.set(x.subarray(from, from + d), ((z * h + head) * n + i) * d);
      }
  return out;
}

/** Kᵀ per (batch, head): [B, H, Nk, D] → [B, H, D, Nk]. */
export function transposeLastTwo(x: Float32Array, slices: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let s = 0; s < slices; s++) {
    const base = s * rows * cols;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[base + c * rows + r] = x[base + r * cols + c];
  }
  return out;
}

/** What one variant feeds the session and how its output maps back to the canonical layout. */
interface Plan {
  model: OnnxModel;
  feeds: Record<string, Float32Array>;
  toCanonical: (output: Float32Array) => Outputs;
}

const attentionVariants = ['MultiHeadAttention', 'MultiHeadAttention-bsnh', 'MatMul-Softmax-MatMul'] as const;

function attentionPlan(variant: string, w: AttentionWorkload, inputs: Inputs): Plan {
  const { batch: b, numHeads: h, seqQ: nq, seqK: nk, headDim: d } = w;
  const options = { batch: b, numHeads: h, headDim: d, seqQ: nq, seqK: nk, causal: w.causal };
  if (variant === 'MatMul-Softmax-MatMul') {
    return {
      model: matmulSoftmaxMatmulGraph({ ...options, keyInput: 'transposed' }),
      feeds: { query: inputs.q, key: transposeLastTwo(inputs.k, b * h, nk, d), value: inputs.v },
      toCanonical: (o) => ({ o }),
    };
  }
  const kvLayout = variant === 'MultiHeadAttention-bsnh' ? 'bsnh' : 'bnsh';
  const kv = (x: Float32Array) => (kvLayout === 'bsnh' ? bnshToBsnh(x, b, h, nk, d) : x);
  const causalVia = nq === nk || nq === 1 ? 'unidirectional' : 'bias';
  return {
    model: multiHeadAttentionGraph({ ...options, kvLayout, causalVia }),
    feeds: { query: bnshToBsnh(inputs.q, b, h, nq, d), key: kv(inputs.k), value: kv(inputs.v) },
    toCanonical: (o) => ({ o: bsnhToBnsh(o, b, h, nq, d) }),
  };
}

function plan(spec: CaseSpec, inputs: Inputs): Plan {
  const w = spec.workload;
  if (w.kind === 'matmul') {
    return { model: matmulGraph(w.shapeA, w.shapeB), feeds: { a: inputs.a, b: inputs.b }, toCanonical: (c) => ({ c }) };
  }
  return attentionPlan(spec.variant, w, inputs);
}

interface OrtFlavor {
  name: string;
  load(threads: number): Promise<Ort>;
  sessionOptions(threads: number): OrtCommon.InferenceSession.SessionOptions;
  /** Pass output tensors allocated once (fetches) instead of letting run() allocate. */
  preallocate: boolean;
}

function ortSystem(flavor: OrtFlavor): System {
  let ort: Ort | undefined;
  let threads = 1;
  return {
    name: flavor.name,
    variants(w: Workload) {
      if (w.kind === 'matmul') return ['MatMul'];
      return w.pass === 'forward' ? [...attentionVariants] : [];
    },
    async init(requestedThreads: number) {
      threads = requestedThreads;
      ort = await flavor.load(threads);
    },
    async setup(spec: CaseSpec, inputs: Inputs): Promise<Case> {
      if (!ort) throw new Error(`${flavor.name}: init() was not called`);
      if (spec.threads !== threads) throw new SkipCase(`process started with ${threads} threads`);
      const runtime = ort;
      const { model, feeds, toCanonical } = plan(spec, inputs);
      const session = await runtime.InferenceSession.create(model.bytes, flavor.sessionOptions(threads));
      const feedTensors: Record<string, OrtCommon.Tensor> = {};
      for (const input of model.inputs) {
        feedTensors[input.name] = new runtime.Tensor('float32', feeds[input.name], input.shape);
      }
      const output = model.outputs[0];
      const fetches = flavor.preallocate
        ? {
            [output.name]: new runtime.Tensor('float32', new Float32Array(output.shape.reduce((a, b) => a * b, 1)), output.shape),
          }
        : undefined;
      let last: OrtCommon.Tensor | undefined;
      return {
        async run() {
          const result = fetches ? await session.run(feedTensors, fetches) : await session.run(feedTensors);
          last = result[output.name];
        },
        outputs() {
          if (!last) throw new Error(`${flavor.name}: outputs() before run()`);
          return toCanonical(last.data as Float32Array);
        },
        async dispose() {
          await session.release();
        },
      };
    },
  };
}

export const ortNode = ortSystem({
  name: 'ort-node',
  preallocate: true,
  async load() {
    return await import('onnxruntime-node');
  },
  sessionOptions: (threads) => ({
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  }),
});

export const ortWeb = ortSystem({
  name: 'ort-web',
  preallocate: false,
  async load(threads) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    return ort;
  },
  sessionOptions: () => ({
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  }),
});

export const systems: System[] = [ortNode, ortWeb];
