// Training the image classifier end to end: Fashion-MNIST (Debian's full
// set when installed, else the shipped subset), a ViT, AdamW with no decay
// on norms/biases/embeddings, linear warmup then cosine decay, a validation
// split held out of the training set for picking the best checkpoint, and
// the test accuracy of the final model. With a time budget (minutes), the
// number of updates is fixed up front from a timed forward+backward, so the
// schedule, and a resumed run, are deterministic.

import { join } from 'node:path';
import { fashionMnistDir, type ImageSet, loadFashionMnist } from '../../data/fashion-mnist.js';
import type { VisionTransformer, VisionTransformerConfig } from '../../nn/vision-transformer.js';
import { crossEntropy } from '../../ops/cross-entropy.js';
import { AdamW } from '../../optim/adamw.js';
import { parameterGroups } from '../../optim/groups.js';
import { warmupCosine } from '../../optim/schedule.js';
import { tidy } from '../../tensor/scope.js';
import { stepsForBudget, timeBudget } from '../../train/budget.js';
import { disposeCheckpoint, loadCheckpoint } from '../../train/checkpoint.js';
import type { ProgressMode } from '../../train/progress.js';
import { type FitResult, Trainer } from '../../train/trainer.js';
import { ImageBatches, imageTensor, labelTensor } from './data.js';
import { accuracy } from './evaluate.js';
import { createImageModel, DEFAULT_IMAGE_VIT } from './model.js';

export interface ImageTrainOptions {
  /** Directory of the four IDX .gz files (default: Debian's package, else the shipped subset). */
  dataDir?: string;
  /** Wall-clock budget for training; the default when epochs is not given (10). */
  minutes?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Fraction of the updates spent in linear warmup (default 0.05). */
  warmup?: number;
  model?: Partial<VisionTransformerConfig>;
  seed?: number;
  /** Checkpoints and metrics go here (default: nothing written). */
  outDir?: string;
  /** Training images held out for validation (default min(5000, 10%)). */
  validation?: number;
  /** Use only the first N training images (tests, quick runs). */
  trainLimit?: number;
  /** Random flips and shifts of up to 2 pixels (default true). */
  augment?: boolean;
  /** Evaluations on the validation split over the run (default 10). */
  evaluations?: number;
  progress?: ProgressMode;
  resume?: string;
  log?: (line: string) => void;
  /**
   * Called after each evaluation with the step and the metrics; true (or a promise of true)
   * stops training after the current step, without a final evaluation (a tuner's pruner).
   */
  onEvaluate?: (step: number, metrics: Record<string, number>) => boolean | Promise<boolean>;
}

export interface ImageTrainResult {
  testAccuracy: number;
  validationAccuracy: number | null;
  trainAccuracy: number;
  steps: number;
  epochs: number;
  seconds: number;
  imagesPerSecond: number;
  stoppedBy: FitResult['stoppedBy'];
  parameters: number;
  config: VisionTransformerConfig;
  dataDir: string;
  fullSet: boolean;
  checkpoint: string | null;
  bestCheckpoint: string | null;
}

export async function trainImageClassifier(options: ImageTrainOptions = {}): Promise<ImageTrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { dir, full } = fashionMnistDir(options.dataDir);
  const train = loadFashionMnist('train', dir);
  const test = loadFashionMnist('test', dir);
  const { seed = 1, batchSize = 128, lr = 2e-3, weightDecay = 0.05, warmup = 0.05, augment = true } = options;
  const used = Math.min(options.trainLimit ?? train.count, train.count);
  const validation = options.validation ?? Math.min(5000, Math.floor(used / 10));
  const trainIndices = Int32Array.from({ length: used - validation }, (_, i) => i);
  const validIndices = Int32Array.from({ length: validation }, (_, i) => used - validation + i);
  const resumed = options.resume ? loadCheckpoint(options.resume) : null;
  const config = {
    ...DEFAULT_IMAGE_VIT,
    ...options.model,
    ...((resumed?.modelConfig as object | undefined) ?? {}),
  } as VisionTransformerConfig;
  const savedSteps = resumed?.extra?.totalSteps as number | undefined;
  if (resumed) disposeCheckpoint(resumed);
  const model = createImageModel(config, seed);
  const optimizer = new AdamW(parameterGroups(model, { weightDecay }), { lr, betas: [0.9, 0.999] });
  const data = new ImageBatches(train, { batchSize, seed, augment: augment ? { shift: 2 } : null, indices: trainIndices });
  log(
    `data: ${dir} (${full ? 'full set' : 'subset'}): ${trainIndices.length} training, ${validation} validation, ${test.count} test images`,
  );
  log(
    `model: ViT patch ${config.patchSize}, dim ${config.dim}, depth ${config.depth}, heads ${config.numHeads}, ${model.numParameters()} parameters`,
  );

  const steps =
    savedSteps ??
    (options.epochs !== undefined
      ? Math.max(1, Math.round(options.epochs * data.batchesPerEpoch))
      : imageStepsForBudget(model, train, batchSize, (options.minutes ?? 10) * 60));
  const warmupSteps = Math.max(1, Math.round(warmup * steps));
  const evaluations = options.evaluations ?? 10;
  let hookError: unknown = null;
  const evaluate = () => {
    const metrics = { accuracy: accuracy(model, train, validIndices) };
    // the answer may come after the evaluation returns: the loop yields after every step and stops then
    if (options.onEvaluate)
      Promise.resolve(options.onEvaluate(trainer.step, metrics)).then(
        (stop) => stop && trainer.requestStop(),
        (e: unknown) => {
          hookError = e;
          trainer.requestStop();
        },
      );
    return metrics;
  };
  const trainer = new Trainer({
    model,
    optimizer,
    data,
    loss: (batch) => crossEntropy(model.forward(batch.images), batch.labels),
    steps,
    // a budget may re-plan the horizon; the warm-up keeps its first length
    scheduleFor: (n) => warmupCosine(warmupSteps, Math.max(n, warmupSteps) + 1, 0.01),
    budget: timeBudget(options.minutes ?? 10, savedSteps === undefined && options.epochs === undefined),
    clipGradNorm: 1,
    evaluate: validation > 0 ? evaluate : undefined,
    evalEvery: validation > 0 ? Math.max(1, Math.floor(steps / evaluations)) : undefined,
    best: { metric: 'accuracy', mode: 'max' },
    outDir: options.outDir,
    checkpointEvery: options.outDir ? Math.max(1, Math.floor(steps / evaluations)) : undefined,
    maxSeconds: options.minutes !== undefined ? options.minutes * 60 : undefined,
    modelClass: 'VisionTransformer',
    modelConfig: config,
    extra: { task: 'image', totalSteps: steps, dataDir: dir, seed, batchSize, lr, weightDecay, validation },
    progress: options.progress,
    unit: 'images',
  });
  if (resumed) {
    trainer.resume(options.resume!);
    log(`resumed from ${options.resume} at step ${trainer.step} of ${steps}`);
  }
  log(`training: ${steps} updates of ${batchSize} images (${(steps / data.batchesPerEpoch).toFixed(1)} epochs)`);
  const started = performance.now();
  const fit = await trainer.fit();
  const seconds = (performance.now() - started) / 1000;
  if (hookError !== null) {
    model.dispose();
    optimizer.dispose();
    throw hookError;
  }
  const testAccuracy = accuracy(model, test);
  const trainAccuracy = accuracy(model, train, trainIndices.subarray(0, Math.min(5000, trainIndices.length)));
  const result: ImageTrainResult = {
    testAccuracy,
    validationAccuracy: fit.lastEval?.accuracy ?? null,
    trainAccuracy,
    steps: fit.step,
    epochs: data.epochs,
    seconds,
    imagesPerSecond: ((fit.step - (resumed?.step ?? 0)) * batchSize) / seconds,
    stoppedBy: fit.stoppedBy,
    parameters: model.numParameters(),
    config,
    dataDir: dir,
    fullSet: full,
    checkpoint: trainer.lastCheckpointPath,
    bestCheckpoint: options.outDir && fit.best ? join(options.outDir, 'best.safetensors') : null,
  };
  model.dispose();
  optimizer.dispose();
  return result;
}

/** Updates that fit in `seconds`: times two forward+backward passes after a warm-up one, leaving ~8% for evaluation. */
function imageStepsForBudget(model: VisionTransformer, set: ImageSet, batchSize: number, seconds: number): number {
  const rows = Int32Array.from({ length: Math.min(batchSize, set.count) }, (_, i) => i);
  const step = () => tidy(() => crossEntropy(model.forward(imageTensor(set, rows)), labelTensor(set, rows)).backward());
  const steps = stepsForBudget(step, seconds, { warmup: 8, timed: 4, fill: 0.92 });
  for (const p of model.parameters()) {
    p.grad?.dispose();
    p.grad = null;
  }
  return steps;
}
