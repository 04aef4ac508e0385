// Training a sequence-to-sequence task end to end: a BPE tokenizer trained
// on the training split (saved as tokenizer.json beside the checkpoints), an
// encoder-decoder transformer, length-bucketed batches, label-smoothed loss,
// AdamW (no decay on norms/biases/embeddings), linear warmup then cosine
// decay, the task's metric (greedy decoding) on a
// validation slice to pick the best checkpoint. With a time budget the
// number of updates is fixed up front from timed steps, so the schedule and
// a resumed run are deterministic.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BucketedBatches, type EncodedPair } from '../../data/batching.js';
import type { TextPair } from '../../data/pairs.js';
import { BpeTokenizer } from '../../data/tokenizer.js';
import { trainBpe } from '../../data/tokenizer-train.js';
import type { Seq2SeqTransformer, Seq2SeqTransformerConfig } from '../../nn/seq2seq.js';
import { AdamW } from '../../optim/adamw.js';
import { parameterGroups } from '../../optim/groups.js';
import { warmupCosine } from '../../optim/schedule.js';
import { tidy } from '../../tensor/scope.js';
import { stepsForBudget, timeBudget } from '../../train/budget.js';
import { disposeCheckpoint, loadCheckpoint } from '../../train/checkpoint.js';
import type { ProgressMode } from '../../train/progress.js';
import { type FitResult, Trainer } from '../../train/trainer.js';
import { SOURCE_TOKENIZER_FILE, TOKENIZER_FILE } from './checkpoint.js';
import { generate } from './generate.js';
import { createSeq2SeqModel, type Seq2SeqModelOptions, seq2seqConfig, seq2seqLoss } from './model.js';
import { sourceTokenizer, type Tokenizers, targetTokenizer } from './vocabulary.js';

/** What a task (translation, summarization) brings: its name and its validation metric. */
export interface Seq2SeqTask {
  name: string;
  /** Metric name in logs and checkpoints ('bleu', 'rougeL'). */
  metric: string;
  /** Higher is better; hypotheses against references. */
  score(hypotheses: string[], references: string[]): number;
  maxSourceLength: number;
  maxTargetLength: number;
  /** Output cap relative to the source (translation), see GenerateOptions. */
  maxLengthRatio?: { a: number; b: number };
}

export interface Seq2SeqTrainOptions {
  train: readonly TextPair[];
  valid: readonly TextPair[];
  /** Tokenizer(s) to use instead of training them. */
  tokenizer?: Tokenizers;
  /** Pieces per tokenizer (default 8000). */
  vocabSize?: number;
  /** One tokenizer per side instead of one shared vocabulary (default false). */
  separateVocabularies?: boolean;
  model?: Seq2SeqModelOptions;
  /** Wall-clock budget; the default when steps and epochs are not given (10). */
  minutes?: number;
  steps?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Fraction of the updates spent in linear warmup (default 0.05). */
  warmup?: number;
  labelSmoothing?: number;
  seed?: number;
  outDir?: string;
  /** Validation pairs decoded (greedy) at each evaluation (default 200; 0 = no evaluation). */
  evalSentences?: number;
  /** Evaluations over the run (default 10). */
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

export interface Seq2SeqTrainResult {
  model: Seq2SeqTransformer;
  /** The shared tokenizer, or { source, target }. */
  tokenizer: Tokenizers;
  config: Seq2SeqTransformerConfig;
  fit: FitResult;
  steps: number;
  epochs: number;
  tokensPerSecond: number;
  checkpoint: string | null;
  bestCheckpoint: string | null;
}

export function encodePairs(tokenizers: Tokenizers, pairs: readonly TextPair[], task: Seq2SeqTask): EncodedPair[] {
  const source = sourceTokenizer(tokenizers);
  const target = targetTokenizer(tokenizers);
  return pairs.map((p) => ({
    source: source.encode(p.source).slice(0, task.maxSourceLength),
    target: target.encode(p.target).slice(0, task.maxTargetLength),
  }));
}

/** The run's tokenizers: given, saved beside the checkpoint being resumed, or trained on the training split. */
function tokenizersFor(options: Seq2SeqTrainOptions): Tokenizers {
  if (options.tokenizer) return options.tokenizer;
  const dir = options.resume ? dirname(options.resume) : null;
  const saved = (file: string) =>
    dir && existsSync(join(dir, file)) ? BpeTokenizer.fromJSON(readFileSync(join(dir, file), 'utf8')) : null;
  const vocabSize = options.vocabSize ?? 8000;
  const target = saved(TOKENIZER_FILE);
  const source = saved(SOURCE_TOKENIZER_FILE);
  if (target && source) return { source, target };
  if (target) return target;
  if (!options.separateVocabularies) {
    return trainBpe(
      options.train.flatMap((p) => [p.source, p.target]),
      { vocabSize },
    );
  }
  return {
    source: trainBpe(
      options.train.map((p) => p.source),
      { vocabSize },
    ),
    target: trainBpe(
      options.train.map((p) => p.target),
      { vocabSize },
    ),
  };
}

export async function trainSeq2Seq(task: Seq2SeqTask, options: Seq2SeqTrainOptions): Promise<Seq2SeqTrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { seed = 1, batchSize = 64, lr = 1e-3, weightDecay = 0.01, warmup = 0.05, labelSmoothing = 0.1 } = options;
  const resumed = options.resume ? loadCheckpoint(options.resume) : null;
  const savedSteps = resumed?.extra?.totalSteps as number | undefined;
  const savedConfig = resumed?.modelConfig as Seq2SeqTransformerConfig | undefined;
  if (resumed) disposeCheckpoint(resumed);

  const t0 = performance.now();
  const tokenizers = tokenizersFor(options);
  const tokenizer = targetTokenizer(tokenizers);
  const shared = tokenizers instanceof BpeTokenizer;
  const sizes = shared
    ? `${tokenizer.vocabSize} tokens, shared`
    : `${sourceTokenizer(tokenizers).vocabSize} source and ${tokenizer.vocabSize} target tokens`;
  log(`tokenizer: BPE, ${sizes} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  if (options.outDir) {
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, TOKENIZER_FILE), JSON.stringify(tokenizer.toJSON()));
    if (!shared) writeFileSync(join(options.outDir, SOURCE_TOKENIZER_FILE), JSON.stringify(sourceTokenizer(tokenizers).toJSON()));
  }
  const pairs = encodePairs(tokenizers, options.train, task);
  const config =
    savedConfig ??
    seq2seqConfig(
      shared ? tokenizer.vocabSize : { source: sourceTokenizer(tokenizers).vocabSize, target: tokenizer.vocabSize },
      options.model,
    );
  const model = createSeq2SeqModel(config, seed);
  const optimizer = new AdamW(parameterGroups(model, { weightDecay }), { lr, betas: [0.9, 0.98] });
  const ids = { padId: tokenizer.padId, bosId: tokenizer.bosId, eosId: tokenizer.eosId };
  const data = new BucketedBatches(pairs, { ...ids, batchSize, seed });
  const tokens = pairs.reduce((a, p) => a + p.target.length + 1, 0);
  log(
    `data: ${pairs.length} training pairs (${(tokens / pairs.length).toFixed(1)} target tokens each), ${options.valid.length} validation; ` +
      `model: ${config.encoderLayers}+${config.decoderLayers} layers, dim ${config.dim}, ${config.numHeads} heads, ${model.numParameters()} parameters`,
  );
  const steps =
    savedSteps ??
    options.steps ??
    (options.epochs !== undefined
      ? Math.max(1, Math.round(options.epochs * data.batchesPerEpoch))
      : seq2seqStepsForBudget(model, data, (options.minutes ?? 10) * 60, labelSmoothing));
  const warmupSteps = Math.max(1, Math.round(warmup * steps));
  const evalPairs = options.valid.slice(0, options.evalSentences ?? 200);
  const evaluations = options.evaluations ?? 10;
  const evaluate =
    evalPairs.length > 0
      ? () => {
          const hyps = generate(
            model,
            tokenizers,
            evalPairs.map((p) => p.source),
            {
              maxLength: task.maxTargetLength + 1,
              maxLengthRatio: task.maxLengthRatio,
              maxSourceLength: task.maxSourceLength,
              batchSize: 64,
            },
          );
          const metrics = {
            [task.metric]: task.score(
              hyps.map((h) => h.text),
              evalPairs.map((p) => p.target),
            ),
          };
          if (options.onEvaluate) stopWhen(options.onEvaluate(trainer.step, metrics));
          return metrics;
        }
      : undefined;
  let hookError: unknown = null;
  // the answer may come after the evaluation returns: the loop yields after every step and stops then
  const stopWhen = (answer: boolean | Promise<boolean>) =>
    Promise.resolve(answer).then(
      (stop) => stop && trainer.requestStop(),
      (e: unknown) => {
        hookError = e;
        trainer.requestStop();
      },
    );
  let targetTokens = 0;
  const trainer = new Trainer({
    model,
    optimizer,
    data,
    loss: (batch) => {
      targetTokens += batch.tgtTokens;
      return seq2seqLoss(model, batch, labelSmoothing);
    },
    steps,
    // a budget may re-plan the horizon; the warm-up keeps its first length
    scheduleFor: (n) => warmupCosine(warmupSteps, Math.max(n, warmupSteps) + 1, 0.02),
    budget: timeBudget(options.minutes ?? 10, savedSteps === undefined && options.steps === undefined && options.epochs === undefined),
    clipGradNorm: 1,
    evaluate,
    evalEvery: evaluate ? Math.max(1, Math.floor(steps / evaluations)) : undefined,
    best: { metric: task.metric, mode: 'max' },
    outDir: options.outDir,
    checkpointEvery: options.outDir ? Math.max(1, Math.floor(steps / evaluations)) : undefined,
    maxSeconds: options.minutes !== undefined ? options.minutes * 60 : undefined,
    modelClass: 'Seq2SeqTransformer',
    modelConfig: config,
    extra: {
      task: task.name,
      totalSteps: steps,
      tokenizer: TOKENIZER_FILE,
      sourceTokenizer: shared ? undefined : SOURCE_TOKENIZER_FILE,
      maxSourceLength: task.maxSourceLength,
      maxTargetLength: task.maxTargetLength,
      maxLengthRatio: task.maxLengthRatio,
      seed,
      batchSize,
      lr,
      labelSmoothing,
    },
    progress: options.progress,
    batchItems: (batch) => batch.tgtTokens,
    unit: 'tokens',
  });
  if (options.resume) {
    trainer.resume(options.resume);
    log(`resumed from ${options.resume} at step ${trainer.step} of ${steps}`);
  }
  log(`training: ${steps} updates of ${batchSize} pairs (${(steps / data.batchesPerEpoch).toFixed(1)} epochs)`);
  const started = performance.now();
  const fit = await trainer.fit();
  const seconds = (performance.now() - started) / 1000;
  optimizer.dispose();
  if (hookError !== null) throw hookError;
  return {
    model: model.eval(),
    tokenizer: tokenizers,
    config,
    fit,
    steps: fit.step,
    epochs: data.epochs,
    tokensPerSecond: targetTokens / seconds,
    checkpoint: trainer.lastCheckpointPath,
    bestCheckpoint: options.outDir && fit.best ? trainer.bestCheckpointPath : null,
  };
}

/** Updates that fit in `seconds`: times two forward+backward passes after a warm-up one, leaving ~10% for evaluation. */
function seq2seqStepsForBudget(model: Seq2SeqTransformer, data: BucketedBatches, seconds: number, labelSmoothing: number): number {
  // bucketed batches differ in length: time six of them, after three to warm up
  const state = data.state();
  const batches = Array.from({ length: 9 }, () => data.next());
  data.setState(state);
  const steps = stepsForBudget((i) => tidy(() => seq2seqLoss(model, batches[i], labelSmoothing).backward()), seconds, { fill: 0.9 });
  for (const p of model.parameters()) {
    p.grad?.dispose();
    p.grad = null;
  }
  return steps;
}
