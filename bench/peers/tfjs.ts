// TensorFlow.js peers: the wasm backend (XNNPACK inside) and, at small sizes only,
// the plain-JS cpu backend.
//
// B batch · H heads · Nq query rows · Nk key rows · D head dim
//
// Threads: tfjs-backend-wasm 4.22 loads its threaded build only where the
// environment reports multithread support, which Node never does (its flag check is
// browser-only): every case runs on one thread, so maxThreads is 1.
//
// What is fast in 4.22's wasm BatchMatMul (src/cc/batch_mat_mul_impl.cc): only a
// 2-D product with no transpose flags, matMul(a [M,K], b [K,N]), goes to XNNPACK's
// fully-connected operator, whose packed copy of b is cached by b's tensor id.
// Any batch dimension or transposeA/transposeB falls back to a naive blocked triple
// loop (~1–2 GFLOP/s). So the fast formulations are 2-D with B as [K, N]: per batch
// for batched products, and per head with Kᵀ made by an explicit tf.transpose for
// attention (inside the timed work: a new Kᵀ tensor each call, packed again each call).
//
// Variants
//   matmul:    'matMul(a,b)'               the natural call, rank 2 or rank 3
//              'matMul(a,bT,false,true)'   B handed over transposed (made outside the timing)
//              'per-batch 2-D matMul'      batched only: one 2-D matMul(a_i, b_i) per batch
//   attention: 'rank-4'                    as a user first writes it: matMul(q, k, false, true)·scale
//                                          (+ mask) → softmax → matMul(p, v); backward by tf.grads
//              'per-head 2-D'              per (batch, head): kT = transpose(k), s = matMul(q·scale, kT)
//                                          (+ mask) → softmax → matMul(p, v); backward by tf.grads

import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import type { AttentionWorkload, Case, CaseSpec, Inputs, MatmulWorkload, Outputs, System, Workload } from '../harness.js';
import { SkipCase, workloadFlops } from '../harness.js';
import { causalMask } from '../onnx-graph.js';

type TfModule = typeof Tf;
type Tensor = Tf.Tensor;

/** A case as tensors: `compute` is the timed work and returns the named results. */
interface Formulation {
  compute(): Tensor[];
  /** Results of compute() → canonical outputs (untimed). */
  collect(results: Tensor[]): Outputs;
  inputs: Tensor[];
}

/** A float32 tensor's values (dataSync is typed for every dtype). */
function data(t: Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function concatData(tensors: Tensor[]): Float32Array {
  const parts = tensors.map(data);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function matmulFormulation(tf: TfModule, variant: string, w: MatmulWorkload, inputs: Inputs): Formulation {
  const a = tf.tensor(inputs.a, w.shapeA);
  const b = tf.tensor(inputs.b, w.shapeB);
  const single = (r: Tensor[]) => ({ c: data(r[0]) });
  if (variant === 'matMul(a,b)') {
    return { inputs: [a, b], compute: () => [tf.matMul(a, b)], collect: single };
  }
  if (variant === 'matMul(a,bT,false,true)') {
    const perm = [...w.shapeB.keys()];
    perm.push(perm.splice(-2, 1)[0]);
    const bT = tf.transpose(b, perm);
    b.dispose();
    return { inputs: [a, bT], compute: () => [tf.matMul(a, bT, false, true)], collect: single };
  }
  // per-batch 2-D: the batch is held as separate 2-D tensors, as a user of this form would
  const as = tf.unstack(a.reshape([-1, ...w.shapeA.slice(-2)]));
  const bs = tf.unstack(b.reshape([-1, ...w.shapeB.slice(-2)]));
  a.dispose();
  b.dispose();
  return {
    inputs: [...as, ...bs],
    compute: () => as.map((ai, i) => tf.matMul(ai, bs[i])),
    collect: (r) => ({ c: concatData(r) }),
  };
}

function attentionFormulation(tf: TfModule, variant: string, w: AttentionWorkload, inputs: Inputs): Formulation {
  const { batch: b, numHeads: h, seqQ: nq, seqK: nk, headDim: d } = w;
  const scale = 1 / Math.sqrt(d);
  const backward = w.pass === 'forwardBackward';
  const mask = w.causal ? tf.tensor2d(causalMask(nq, nk), [nq, nk]) : undefined;
  const masked = (s: Tensor) => (mask ? tf.add(s, mask) : s);
  const owned: Tensor[] = mask ? [mask] : [];

  if (variant === 'rank-4') {
    const q = tf.tensor4d(inputs.q, [b, h, nq, d]);
    const k = tf.tensor4d(inputs.k, [b, h, nk, d]);
    const v = tf.tensor4d(inputs.v, [b, h, nk, d]);
    const dOut = backward ? tf.tensor4d(inputs.dOut, [b, h, nq, d]) : undefined;
    const forward = (qx: Tensor, kx: Tensor, vx: Tensor) =>
      tf.matMul(tf.softmax(masked(tf.mul(tf.matMul(qx, kx, false, true), scale))), vx);
    const gradients = tf.grads((qx: Tensor, kx: Tensor, vx: Tensor) => forward(qx, kx, vx));
    return {
      inputs: [q, k, v, ...(dOut ? [dOut] : []), ...owned],
      compute: () => (dOut ? gradients([q, k, v], dOut) : [forward(q, k, v)]),
      collect: (r): Outputs => (dOut ? { dq: data(r[0]), dk: data(r[1]), dv: data(r[2]) } : { o: data(r[0]) }),
    };
  }

  // per-head 2-D: inputs held as one [N, D] tensor per (batch, head)
  const slices = (x: Float32Array, n: number) =>
    Array.from({ length: b * h }, (_, s) => tf.tensor2d(x.subarray(s * n * d, (s + 1) * n * d), [n, d]));
  const qs = slices(inputs.q, nq);
  const ks = slices(inputs.k, nk);
  const vs = slices(inputs.v, nk);
  const head = (qx: Tensor, kx: Tensor, vx: Tensor) => tf.matMul(tf.softmax(masked(tf.matMul(tf.mul(qx, scale), tf.transpose(kx)))), vx);
  const all = b * h;
  // tf.grads takes one output: the heads' outputs stacked along rows, dOut likewise
  const dOut = backward ? tf.tensor2d(inputs.dOut, [all * nq, d]) : undefined;
  const gradients = tf.grads((...xs: Tensor[]) =>
    tf.concat(
      Array.from({ length: all }, (_, s) => head(xs[s], xs[all + s], xs[2 * all + s])),
      0,
    ),
  );
  return {
    inputs: [...qs, ...ks, ...vs, ...(dOut ? [dOut] : []), ...owned],
    compute: () => (dOut ? gradients([...qs, ...ks, ...vs], dOut) : qs.map((qx, s) => head(qx, ks[s], vs[s]))),
    collect: (r): Outputs =>
      dOut
        ? { dq: concatData(r.slice(0, all)), dk: concatData(r.slice(all, 2 * all)), dv: concatData(r.slice(2 * all)) }
        : { o: concatData(r) },
  };
}

interface TfjsFlavor {
  name: string;
  backend: 'wasm' | 'cpu';
  /** Largest workload (FLOPs) set up; above it the case is skipped. */
  maxFlops?: number;
  variants(w: Workload): string[];
}

function tfjsSystem(flavor: TfjsFlavor): System {
  let tf: TfModule | undefined;
  return {
    name: flavor.name,
    maxThreads: 1,
    variants: flavor.variants,
    async init() {
      tf = await import('@tensorflow/tfjs');
      if (flavor.backend === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const require = createRequire(import.meta.url);
        // a file path, so the .wasm is read from disk, never fetched
        const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
        wasm.setWasmPaths(`${dist}${path.sep}`);
      }
      if (!(await tf.setBackend(flavor.backend))) throw new Error(`tfjs: backend ${flavor.backend} failed to start`);
      await tf.ready();
    },
    async setup(spec: CaseSpec, inputs: Inputs): Promise<Case> {
      if (!tf) throw new Error(`${flavor.name}: init() was not called`);
      const w = spec.workload;
      if (flavor.maxFlops !== undefined && workloadFlops(w) > flavor.maxFlops) {
        throw new SkipCase(`${flavor.name} only at small sizes`);
      }
      const runtime = tf;
      const formulation =
        w.kind === 'matmul' ? matmulFormulation(runtime, spec.variant, w, inputs) : attentionFormulation(runtime, spec.variant, w, inputs);
      let results: Tensor[] = [];
      return {
        run() {
          runtime.dispose(results);
          // tidy frees the intermediates; kernels run eagerly, so the work is done on return
          results = runtime.tidy(() => formulation.compute());
        },
        outputs: () => formulation.collect(results),
        dispose() {
          runtime.dispose([...results, ...formulation.inputs]);
          results = [];
        },
      };
    },
  };
}

function matmulVariants(w: MatmulWorkload): string[] {
  const batched = w.shapeA.length > 2 || w.shapeB.length > 2;
  return ['matMul(a,b)', 'matMul(a,bT,false,true)', ...(batched ? ['per-batch 2-D matMul'] : [])];
}

export const tfjsWasm = tfjsSystem({
  name: 'tfjs-wasm',
  backend: 'wasm',
  variants: (w) => (w.kind === 'matmul' ? matmulVariants(w) : ['rank-4', 'per-head 2-D']),
});

export const tfjsCpu = tfjsSystem({
  name: 'tfjs-cpu',
  backend: 'cpu',
  maxFlops: 2e9,
  variants: (w) => (w.kind === 'matmul' ? ['matMul(a,b)'] : ['rank-4']),
});

export const systems: System[] = [tfjsWasm, tfjsCpu];
