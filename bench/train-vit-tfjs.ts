// tfjs-wasm side of `npm run bench -- train-vit`: the same ViT built with
// tfjs's layers API (tf.layers has no multi-head attention and no class
// token, so those are two small custom layers over tf ops), compiled with
// Adam and trained by model.trainOnBatch on 128 random 28×28 images.
// Formulation notes (what is fast in tfjs-backend-wasm 4.22): only 2-D
// matMul without transpose flags reaches XNNPACK, so Dense layers (which
// reshape to 2-D) are fast and the attention's batched products are not;
// with 17 tokens those are small. tfjs-wasm runs one thread in Node.
//   node --import tsx bench/train-vit-tfjs.ts STEPS   → one JSON line

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';

const steps = Number(process.argv[2] ?? 10);
const [batch, patch, dim, depth, heads, hidden] = [128, 7, 64, 4, 4, 128];
const tokens = (28 / patch) ** 2 + 1;

class ClassTokenAndPosition extends tf.layers.Layer {
  static className = 'ClassTokenAndPosition';
  private cls!: tf.LayerVariable;
  private pos!: tf.LayerVariable;
  override build(): void {
    this.cls = this.addWeight('cls', [1, 1, dim], 'float32', tf.initializers.randomNormal({ stddev: 0.02 }));
    this.pos = this.addWeight('pos', [1, tokens, dim], 'float32', tf.initializers.randomNormal({ stddev: 0.02 }));
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return [s[0]!, tokens, dim];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const b = x.shape[0]!;
    // broadcasting, not tf.tile: tile's gradient is a slice and an add per copy
    const cls = tf.add(tf.zeros([b, 1, dim]), this.cls.read());
    return tf.add(tf.concat([cls, x], 1), this.pos.read());
  }
}

class SelfAttention extends tf.layers.Layer {
  static className = 'SelfAttention';
  private w: tf.LayerVariable[] = [];
  private bias: tf.LayerVariable[] = [];
  override build(): void {
    // q, k, v and output projections as four 2-D weights: no slicing of a fused qkv (tfjs-wasm's Slice and its gradient are slow)
    for (const name of ['query', 'key', 'value', 'out']) {
      this.w.push(this.addWeight(name, [dim, dim], 'float32', tf.initializers.glorotUniform({})));
      this.bias.push(this.addWeight(`${name}Bias`, [dim], 'float32', tf.initializers.zeros()));
    }
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return s;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const [b, n] = x.shape as [number, number, number];
    const d = dim / heads;
    const rows = tf.reshape(x, [b * n, dim]);
    const project = (i: number, input: tf.Tensor) => tf.add(tf.matMul(input, this.w[i]!.read()), this.bias[i]!.read()); // 2-D: XNNPACK
    const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, n, heads, d]), [0, 2, 1, 3]);
    const [q, k, v] = [0, 1, 2].map((i) => split(project(i, rows)));
    const p = tf.softmax(tf.mul(tf.matMul(q!, tf.transpose(k!, [0, 1, 3, 2])), 1 / Math.sqrt(d)));
    const a = tf.reshape(tf.transpose(tf.matMul(p, v!), [0, 2, 1, 3]), [b * n, dim]);
    return tf.reshape(project(3, a), [b, n, dim]);
  }
}

/** Layer norm over the last axis by broadcasting (tf.layers.layerNormalization tiles, and tile's gradient is slow). */
class LayerNorm extends tf.layers.Layer {
  static className = 'LayerNormBroadcast';
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  override build(): void {
    this.gamma = this.addWeight('gamma', [dim], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [dim], 'float32', tf.initializers.zeros());
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return s;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), this.gamma.read()), this.beta.read());
  }
}

class ClassTokenOutput extends tf.layers.Layer {
  static className = 'ClassTokenOutput';
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return [s[0]!, dim];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.reshape(tf.slice(x, [0, 0, 0], [x.shape[0]!, 1, dim]), [x.shape[0]!, dim]);
  }
}

function buildModel(): tf.LayersModel {
  const g = 28 / patch;
  const input = tf.input({ shape: [28, 28, 1] });
  let x = tf.layers.reshape({ targetShape: [g, patch, g, patch] }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.permute({ dims: [1, 3, 2, 4] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [g * g, patch * patch] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: dim }).apply(x) as tf.SymbolicTensor;
  x = new ClassTokenAndPosition({}).apply(x) as tf.SymbolicTensor;
  for (let i = 0; i < depth; i++) {
    const a = new SelfAttention({}).apply(new LayerNorm({}).apply(x)) as tf.SymbolicTensor;
    x = tf.layers.add().apply([x, a]) as tf.SymbolicTensor;
    let h = new LayerNorm({}).apply(x) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: hidden, activation: 'gelu' as never }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: dim }).apply(h) as tf.SymbolicTensor;
    x = tf.layers.add().apply([x, h]) as tf.SymbolicTensor;
  }
  x = new LayerNorm({}).apply(x) as tf.SymbolicTensor;
  x = new ClassTokenOutput({}).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

const require = createRequire(import.meta.url);
wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}${path.sep}`);
if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to start');
await tf.ready();
const model = buildModel();
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 1);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
let heapPeak = 0;
for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await model.trainOnBatch(x, y);
  times.push((performance.now() - t0) / 1000);
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(
  JSON.stringify({
    system: 'tfjs-wasm',
    version: tf.version.tfjs,
    formulation: 'layers API (custom attention, class-token and broadcasting layer-norm layers), trainOnBatch, Adam',
    threads: 1,
    imagesPerSecond: batch / median,
    medianStepSeconds: median,
    steps,
    tfjsBytesPeakMiB: tf.memory().numBytes / 2 ** 20,
    jsHeapPeakMiB: heapPeak / 2 ** 20,
    peakRssMiB: hwm ? Number(hwm[1]) / 1024 : Number.NaN,
    parameters: model.countParams(),
  }),
);
