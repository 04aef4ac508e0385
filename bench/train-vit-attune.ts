// attune side of `npm run bench -- train-vit`: one training step (forward,
// backward, AdamW) of the default image ViT on a batch of 128 random
// 28×28 images, timed after a warm-up. Run as a child:
//   node --import tsx bench/train-vit-attune.ts THREADS STEPS [BACKEND]   → one JSON line

import { readFileSync } from 'node:fs';
import { getBackend, setBackend } from '../src/backend/backend.js';
import '../src/index.js';
import { noGrad } from '../src/autograd/tape.js';
import { crossEntropy } from '../src/ops/cross-entropy.js';
import { AdamW } from '../src/optim/adamw.js';
import { parameterGroups } from '../src/optim/groups.js';
import { createImageModel, DEFAULT_IMAGE_VIT } from '../src/tasks/image/model.js';
import { randn, tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import { getHeap } from '../src/tensor/tensor.js';

const threads = Number(process.argv[2] ?? 1);
const steps = Number(process.argv[3] ?? 30);
const batch = 128;
if (process.argv[4]) setBackend(process.argv[4]);
getBackend().setThreads(threads);
const model = createImageModel({}, 0);
const optimizer = new AdamW(parameterGroups(model, { weightDecay: 0.05 }), { lr: 1e-3 });
const images = randn([batch, 1, 28, 28], { seed: 1 });
const labels = tensor(
  Int32Array.from({ length: batch }, (_, i) => i % 10),
  [batch],
  'int32',
);
let jsHeapPeak = 0;

function step(): void {
  tidy(() => crossEntropy(model.forward(images), labels).backward());
  noGrad(() => optimizer.step());
  optimizer.zeroGrad();
  jsHeapPeak = Math.max(jsHeapPeak, process.memoryUsage().heapUsed);
}

for (let i = 0; i < 5; i++) step();
getHeap().resetPeak();
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step();
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(
  JSON.stringify({
    system: `attune-${getBackend().name}`,
    backend: getBackend().name,
    threads: getBackend().threads,
    imagesPerSecond: batch / median,
    medianStepSeconds: median,
    steps,
    tensorHeapPeakMiB: getHeap().stats.peakBytes / 2 ** 20,
    jsHeapPeakMiB: jsHeapPeak / 2 ** 20,
    peakRssMiB: hwm ? Number(hwm[1]) / 1024 : Number.NaN,
    parameters: model.numParameters(),
    config: DEFAULT_IMAGE_VIT,
  }),
);
