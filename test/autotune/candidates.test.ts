// Every candidate setting of every tunable kernel gives the reference's
// results on small shapes, on each backend with a settings registry (wasm,
// and native where it loads): the autotuner may pick any of them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combinations } from '../../src/autotune/search.ts';
import { makeWorkload, parseShape, type Workload } from '../../src/autotune/workloads.ts';
import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import { kernelSettings } from '../../src/backend/settings.ts';
import '../../src/index.ts';
import { assertClose } from '../helpers.ts';

getBackend();

const shapes = [
  'attention:B=2,H=4,Hk=2,Nq=37,Nk=53,D=20,causal',
  'attention:B=1,H=3,Nq=29,Nk=29,D=16,window=5,backward',
  'attention:B=1,H=4,Hk=1,Nq=1,Nk=300,D=12',
  'matmul:b=3,M=13,N=17,K=19',
  'matmul:b=2,M=9,N=33,K=70,tA,tB',
];

function outputs(w: Workload): Float64Array[] {
  return w.outputs().map((t) => Float64Array.from(t.view()));
}

for (const name of ['wasm', 'native']) {
  const registry = listBackends().includes(name) ? kernelSettings(name) : undefined;
  const skip = !registry && `the ${name} backend does not load here or has no tunable kernels`;
  describe(`autotune candidates on ${name}`, { skip }, () => {
    for (const spec of shapes) {
      it(`every candidate of ${spec} matches the js reference, at 1 and 2 threads`, () => {
        if (!registry) return;
        const backend = withBackend(name, getBackend);
        const w = makeWorkload(parseShape(spec));
        try {
          w.run(withBackend('js', getBackend).kernels);
          const want = outputs(w);
          for (const threads of [1, 2]) {
            backend.setThreads(threads);
            if (!registry.kernels[w.kernel]) continue;
            const all = combinations(registry.space(w.kernel));
            assert.ok(all.length >= 4, `${w.kernel}: expected a real search space, got ${all.length} candidates`);
            for (const candidate of all) {
              registry.withSettings(w.kernel, { ...candidate, grain: 1 }, () => w.run(backend.kernels));
              outputs(w).forEach((got, i) => {
                assertClose(got, want[i], 2e-4, 2e-5, `${name} ${spec} ${JSON.stringify(candidate)} ${threads} threads, output ${i}`);
              });
            }
          }
        } finally {
          backend.setThreads(1);
          w.dispose();
        }
      });
    }
  });
}
