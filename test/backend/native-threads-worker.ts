// A worker thread for native-kernels.test.ts: GEMMs and attention on the
// native backend from its own JS thread (its own heap), checked against the
// js reference; posts the number of mismatches.

import { parentPort, workerData } from 'node:worker_threads';
import * as at from '../../src/index.ts';

const { seed, rounds } = workerData as { seed: number; rounds: number };
at.setBackend('native');
at.setThreads(2);
let mismatches = 0;
for (let r = 0; r < rounds; r++) {
  at.tidy(() => {
    const a = at.randn([96, 130], { seed: seed + r });
    const b = at.randn([130, 70], { seed: seed + r + 1000 });
    const got = at.matmul(a, b).view();
    const want = at.withBackend('js', () => at.matmul(a, b)).view();
    for (let i = 0; i < want.length; i++) if (Math.abs(got[i] - want[i]) > 1e-4 * (1 + Math.abs(want[i]))) mismatches++;
    const q = at.randn([1, 2, 40, 16], { seed: seed + r + 2000 });
    const o = at.scaledDotProductAttention(q, q, q, { causal: true }).view();
    const ref = at.withBackend('js', () => at.scaledDotProductAttention(q, q, q, { causal: true })).view();
    for (let i = 0; i < ref.length; i++) if (Math.abs(o[i] - ref[i]) > 1e-4 * (1 + Math.abs(ref[i]))) mismatches++;
  });
}
parentPort?.postMessage(mismatches);
