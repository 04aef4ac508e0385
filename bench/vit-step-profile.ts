// Profiles one training step of the small ViT (patch 7, width 64, depth 4,
// 4 heads, MLP 2×, batch 128, 28×28 images): images/s, and the time per kernel
// (and per matmul shape) measured by wrapping the active backend's kernels.
//   node --import tsx bench/vit-step-profile.ts [--threads 1] [--steps 10] [--batch 128]
//     [--settings '{"attentionForward":{"shortLength":0}}']  (kernel settings over the backend's defaults, for A/B runs)

import { parseArgs } from 'node:util';
import { kernelSettings } from '../src/backend/settings.ts';
import * as at from '../src/index.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '10' },
    batch: { type: 'string', default: '128' },
    backend: { type: 'string', default: 'wasm' },
    settings: { type: 'string' },
  },
});
const threads = Number(values.threads);
const steps = Number(values.steps);
const batch = Number(values.batch);
at.setBackend(values.backend);
at.setThreads(threads);
await at.ready();
if (values.settings) {
  const registry = kernelSettings(values.backend);
  if (!registry) throw new Error(`--settings: backend '${values.backend}' has no kernel settings`);
  for (const [kernel, settings] of Object.entries(JSON.parse(values.settings) as Record<string, Record<string, number>>)) {
    registry.setDefaults(kernel, settings);
  }
}

const model = new at.VisionTransformer(
  {
    imageSize: 28,
    patchSize: 7,
    channels: 1,
    numClasses: 10,
    dim: 64,
    depth: 4,
    numHeads: 4,
    mlpRatio: 2,
    pool: 'cls',
    position: 'learned',
  },
  { seed: 1 },
);
const optimizer = new at.AdamW(model.parameters(), { lr: 1e-3 });
const images = at.keep(at.rand([batch, 1, 28, 28], { seed: 2 }));
const labels = at.keep(
  at.tensor(
    Int32Array.from({ length: batch }, (_, i) => i % 10),
    [batch],
    'int32',
  ),
);

const kernelTime = new Map<string, { ms: number; calls: number }>();
let profiling = false;
const kernels = at.getBackend().kernels as Record<string, (...args: unknown[]) => void>;
for (const [name, fn] of Object.entries(kernels)) {
  kernels[name] = (...args: unknown[]) => {
    if (!profiling) return fn(...args);
    const t0 = performance.now();
    fn(...args);
    const ms = performance.now() - t0;
    let key = name;
    if (name === 'matmul') {
      const p = args[3] as { batch: number; M: number; N: number; K: number; transA: boolean; transB: boolean };
      key = `matmul ${p.batch > 1 ? `${p.batch}×` : ''}${p.M}×${p.K}${p.transA ? 'ᵀ' : ''}·${p.K}×${p.N}${p.transB ? 'ᵀ' : ''}`;
    } else if (name === 'unary' || name === 'unaryGrad' || name === 'binary') key = `${name} ${(args.at(-1) as { op: string }).op}`;
    const entry = kernelTime.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls++;
    kernelTime.set(key, entry);
  };
}

let forwardMs = 0;
let backwardMs = 0;
let optimizerMs = 0;
function step(): void {
  at.tidy(() => {
    const t0 = performance.now();
    const loss = at.crossEntropy(model.forward(images), labels);
    const t1 = performance.now();
    loss.backward();
    const t2 = performance.now();
    forwardMs += t1 - t0;
    backwardMs += t2 - t1;
  });
  const t3 = performance.now();
  optimizer.step();
  optimizer.zeroGrad();
  optimizerMs += performance.now() - t3;
}

for (let i = 0; i < 3; i++) step();
forwardMs = backwardMs = optimizerMs = 0;
profiling = true;
const liveBefore = at.getHeap().stats.liveBytes;
const start = performance.now();
const cpuStart = process.cpuUsage();
for (let i = 0; i < steps; i++) step();
const totalMs = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
profiling = false;

const perStep = totalMs / steps;
console.log(`ViT training step, batch ${batch}, ${values.backend} backend, ${threads} thread(s), ${model.numParameters()} parameters`);
console.log(
  `  ${(batch / (perStep / 1000)).toFixed(0)} images/s  (${perStep.toFixed(1)} ms/step: forward ${(forwardMs / steps).toFixed(1)}, backward ${(backwardMs / steps).toFixed(1)}, optimizer ${(optimizerMs / steps).toFixed(1)})`,
);
// On a busy machine wall time varies with the load; with 1 thread the process's CPU time per step varies far less.
console.log(
  `  process CPU time ${(cpuMs / steps).toFixed(1)} ms/step (${(batch / (cpuMs / steps / 1000)).toFixed(0)} images per CPU-second, all threads)`,
);
let kernelTotal = 0;
for (const { ms } of kernelTime.values()) kernelTotal += ms;
console.log(
  `  kernels ${(kernelTotal / steps).toFixed(1)} ms/step; outside kernels ${((totalMs - kernelTotal) / steps).toFixed(1)} ms/step`,
);
const rows = [...kernelTime.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [key, { ms, calls }] of rows.slice(0, 30)) {
  console.log(
    `  ${(ms / steps).toFixed(2).padStart(7)} ms  ${((100 * ms) / totalMs).toFixed(1).padStart(5)}%  ${String(calls / steps).padStart(4)}×  ${key}`,
  );
}
const { liveBytes, peakBytes } = at.getHeap().stats;
console.log(
  `  heap: live ${at.formatBytes(liveBefore)} before, ${at.formatBytes(liveBytes)} after ${steps} steps; peak ${at.formatBytes(peakBytes)}`,
);
