// attune itself as a benchmark system. Variants: 'wasm' (the default backend,
// SIMD kernels on the thread pool) and 'js' (the reference, small sizes only).
// Attention variants are added with the attention op.

import * as at from '../src/index.js';
import type { Case, CaseSpec, Inputs, MatmulWorkload, Outputs, System, Workload } from './harness.js';
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

function makeSystem(backend: 'wasm' | 'js'): System {
  return {
    name: `attune-${backend}`,
    maxThreads: backend === 'js' ? 1 : undefined,
    variants: (w: Workload) => (w.kind === 'matmul' ? ['matmul'] : []),
    async init(threads: number) {
      at.getBackend();
      at.setBackend(backend);
      if (backend !== at.getBackend().name) throw new Error(`attune: backend ${backend} did not load: ${at.wasmError()?.message}`);
      at.setThreads(threads);
      await at.ready();
    },
    async setup(spec: CaseSpec, inputs: Inputs): Promise<Case> {
      if (backend === 'js' && workloadFlops(spec.workload) > 3e8) throw new SkipCase('the js reference is only timed at small sizes');
      if (spec.workload.kind === 'matmul') return matmulCase(spec, inputs);
      throw new SkipCase(`no ${spec.variant} variant for ${spec.workload.kind}`);
    },
  };
}

export const systems: System[] = [makeSystem('wasm'), makeSystem('js')];
