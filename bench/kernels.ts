// npm run bench -- kernels [shape ...] [--threads 1,2] [--set kernel.setting=value ...] [--backend wasm] [--repeats n]
//
// Times one backend's kernels through the library's own wrappers (the same
// heap, thread pool and params blocks the ops use) on tune shapes
// (src/autotune/workloads.ts syntax), with any kernel setting overridden
// (`--set attentionForward.blockRows=32 --set matmul.kc=512`): the harness for
// trying a tile or a blocking by hand; `attune autotune` searches them. Each
// shape is checked once against the js reference when it is small enough.
// GFLOP/s follow FlashAttention's convention (4·B·H·Nq·Nk·D, causal counts
// half, the backward 2.5×; GEMM 2·b·M·N·K), quoted as % of the per-core
// 128-bit FMA limit (bench/limits.ts) times the threads.

import { parseArgs } from 'node:util';
import { measure } from '../src/autotune/timing.ts';
import { makeWorkload, parseShape, type TuneShape, type Workload } from '../src/autotune/workloads.ts';
import { getBackend, withBackend } from '../src/backend/backend.ts';
import { kernelSettings, type Settings } from '../src/backend/settings.ts';
import * as at from '../src/index.ts';
import { simdLimit } from './limits.ts';

const { values: args, positionals } = parseArgs({
  args: process.argv.slice(3),
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '1,2' },
    set: { type: 'string', multiple: true, default: [] },
    backend: { type: 'string', default: 'wasm' },
    repeats: { type: 'string', default: '7' },
  },
});

const defaultShapes = [
  'attention:B=1,H=8,N=1024,D=64',
  'attention:B=1,H=8,N=2048,D=64',
  'attention:B=1,H=8,N=2048,D=64,causal',
  'attention:B=1,H=8,N=1024,D=64,causal,backward',
  'attention:B=1,H=8,Nq=1,Nk=4096,D=64',
  'matmul:b=1,M=256,N=256,K=256',
  'matmul:b=1,M=1024,N=1024,K=1024',
];

/** --set kernel.setting=value, grouped by kernel. */
function overrides(specs: readonly string[]): Map<string, Settings> {
  const out = new Map<string, Record<string, number>>();
  for (const spec of specs) {
    const m = /^(\w+)\.(\w+)=(-?\d+)$/.exec(spec);
    if (!m) throw new Error(`bench kernels: --set expects kernel.setting=<integer>, got '${spec}'`);
    out.set(m[1], { ...(out.get(m[1]) ?? {}), [m[2]]: Number(m[3]) });
  }
  return out;
}

function flops(s: TuneShape): number {
  if (s.kind === 'matmul') return 2 * s.batch * s.M * s.N * s.K;
  const dense = 4 * s.batch * s.numHeads * s.queryLength * s.keyLength * s.headDim;
  return (s.causal ? dense / 2 : dense) * (s.backward ? 2.5 : 1);
}

function small(s: TuneShape): boolean {
  return s.kind === 'matmul'
    ? s.batch * s.M * s.N * s.K <= 2 ** 24
    : s.batch * s.numHeads * s.queryLength * s.keyLength * s.headDim <= 2 ** 24;
}

/** Largest |a − b| / (|b| + 1e-3) over the outputs. */
function relError(w: Workload, run: () => void): number {
  run();
  const got = w.outputs().map((t) => Float64Array.from(t.view()));
  w.run(withBackend('js', getBackend).kernels);
  const want = w.outputs().map((t) => Float64Array.from(t.view()));
  let worst = 0;
  got.forEach((g, i) => {
    for (let j = 0; j < g.length; j++) worst = Math.max(worst, Math.abs(g[j] - want[i][j]) / (Math.abs(want[i][j]) + 1e-3));
  });
  return worst;
}

const backend = withBackend(args.backend, getBackend);
const registry = kernelSettings(backend.name);
const set = overrides(args.set);
const limit = simdLimit();
const repeats = Number(args.repeats);
console.log(`bench kernels: backend ${backend.name}${limit ? `, limit ${limit.source}` : ''}`);
for (const threads of args.threads.split(',').map(Number)) {
  at.withBackend(backend.name, () => at.setThreads(threads));
  for (const spec of (positionals.length ? positionals : undefined) ?? defaultShapes) {
    const shape = parseShape(spec);
    const w = makeWorkload(shape);
    try {
      const extra = set.get(w.kernel) ?? {};
      const settings = { ...(registry?.get(w.kernel, w.params) ?? {}), ...extra };
      const run = () => (registry ? registry.withSettings(w.kernel, settings, () => w.run(backend.kernels)) : w.run(backend.kernels));
      const error = small(shape) ? relError(w, run) : undefined;
      const seconds = measure(run, { warmup: 2, repeats, minSampleSeconds: 0.05 });
      const gflops = flops(shape) / seconds / 1e9;
      const ofLimit = limit ? ` ${((100 * gflops) / (limit.gflopsPerCore * threads)).toFixed(0)}% of limit` : '';
      const shown = Object.entries(settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(
        `×${threads} ${spec.padEnd(48)} ${(seconds * 1e3).toFixed(3).padStart(9)} ms ${gflops.toFixed(1).padStart(7)} GFLOP/s${ofLimit}` +
          `${error !== undefined ? `  rel err ${error.toExponential(1)}` : ''}  ${shown}`,
      );
    } finally {
      w.dispose();
    }
  }
}
