// attune itself as a benchmark system. Backends: 'native' (AVX-512 / AVX2 kernels
// from the N-API addon), 'wasm' (SIMD kernels on the thread pool) and 'js'
// (the reference, small sizes only).
//
// B batch · H heads · Nq query rows · Nk key rows · D head dim
//
// Variants
//   matmul:    'matmul'   at.matmul(a, b)
//   attention: 'sdpa'     scaledDotProductAttention(q, k, v, { causal }) as a user calls it.
//                         forward: q, k, v need no gradient; with Nq ≤ 4 it routes to the
//                         split-K decode kernel. forwardBackward: q, k, v require gradients,
//                         the timed work is the forward plus out.backward(dOut) (the given
//                         upstream gradient), and the outputs are q.grad, k.grad, v.grad.
//              'KVCache'  decode only (Nq ≤ 4, forward): a KVCache filled with K, V in setup,
//                         the timed work is cache.attend(q): the cache read in place.

import * as at from '../src/index.js';
import type { AttentionWorkload, Case, CaseSpec, Inputs, MatmulWorkload, Outputs, System, Workload } from './harness.js';
import { SkipCase, workloadFlops } from './harness.js';

function matmulCase(spec: CaseSpec, inputs: Inputs): Case {
  const w = spec.workload as MatmulWorkload;
  const a = at.keep(at.tensor(inputs.a, w.shapeA));
  const b = at.keep(at.tensor(inputs.b, w.shapeB));
  let c: at.Tensor | null = null;
  return {
    run() {
      c?.dispose();
      c = at.keep(at.matmul(a, b));
    },
    outputs(): Outputs {
      if (!c) throw new Error('attune matmul: outputs() before run()');
      return { c: Float32Array.from(c.view()) };
    },
    dispose() {
      for (const t of [a, b, c]) t?.dispose();
    },
  };
}

/** Decode: a handful of query rows against a long key sequence, inference only. */
function isDecode(w: AttentionWorkload): boolean {
  return w.pass === 'forward' && w.seqQ <= 4;
}

function attentionVariants(w: AttentionWorkload): string[] {
  return isDecode(w) ? ['sdpa', 'KVCache'] : ['sdpa'];
}

function attentionCase(spec: CaseSpec, inputs: Inputs): Case {
  const w = spec.workload as AttentionWorkload;
  const { batch: b, numHeads: h, seqQ: nq, seqK: nk, headDim: d, causal } = w;
  const q = at.keep(at.tensor(inputs.q, [b, h, nq, d]));
  const k = at.keep(at.tensor(inputs.k, [b, h, nk, d]));
  const v = at.keep(at.tensor(inputs.v, [b, h, nk, d]));
  const owned: at.Tensor[] = [q, k, v];
  const copy = (t: at.Tensor | null, name: string) => {
    if (!t) throw new Error(`attune attention: no ${name} (outputs() before run()?)`);
    return Float32Array.from(t.view() as Float32Array);
  };

  if (w.pass === 'forwardBackward') {
    const dOut = at.keep(at.tensor(inputs.dOut, [b, h, nq, d]));
    owned.push(dOut);
    for (const t of [q, k, v]) t.setRequiresGrad();
    const clearGrads = () => {
      for (const t of [q, k, v]) {
        t.grad?.dispose();
        t.grad = null;
      }
    };
    return {
      run() {
        clearGrads(); // backward() accumulates into .grad
        at.tidy(() => {
          at.scaledDotProductAttention(q, k, v, { causal }).backward(dOut);
        });
      },
      outputs: (): Outputs => ({ dq: copy(q.grad, 'q.grad'), dk: copy(k.grad, 'k.grad'), dv: copy(v.grad, 'v.grad') }),
      dispose() {
        clearGrads();
        for (const t of owned) t.dispose();
      },
    };
  }

  let attend = () => at.scaledDotProductAttention(q, k, v, { causal });
  if (spec.variant === 'KVCache') {
    const cache = new at.KVCache({ batch: b, numKvHeads: h, headDim: d });
    cache.append(k, v);
    owned.push(cache.keys, cache.values);
    attend = () => cache.attend(q, { causal });
  }
  let out: at.Tensor | null = null;
  return {
    run() {
      out?.dispose();
      // tidy frees what the op leaves besides its result (the forward's log-sum-exp)
      out = at.keep(at.tidy(attend));
    },
    outputs: (): Outputs => ({ o: copy(out, 'output') }),
    dispose() {
      out?.dispose();
      for (const t of owned) t.dispose();
    },
  };
}

function makeSystem(backend: 'native' | 'wasm' | 'js'): System {
  return {
    name: `attune-${backend}`,
    maxThreads: backend === 'js' ? 1 : undefined,
    variants: (w: Workload) => (w.kind === 'matmul' ? ['matmul'] : attentionVariants(w)),
    async init(threads: number) {
      at.getBackend();
      at.setBackend(backend);
      if (backend !== at.getBackend().name) throw new Error(`attune: backend ${backend} is not active (${at.getBackend().name} is)`);
      at.setThreads(threads);
      await at.ready();
    },
    async setup(spec: CaseSpec, inputs: Inputs): Promise<Case> {
      if (backend === 'js' && workloadFlops(spec.workload) > 3e8) throw new SkipCase('the js reference is only timed at small sizes');
      if (spec.workload.kind === 'matmul') return matmulCase(spec, inputs);
      return attentionCase(spec, inputs);
    },
  };
}

export const systems: System[] = [makeSystem('native'), makeSystem('wasm'), makeSystem('js')];
