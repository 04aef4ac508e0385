// The objectives of `attune tune <task>`: sample an attention design from the task's space,
// measure what it costs at inference on a freshly built model (latency on this machine with real
// kernels, median of repeated runs on a fixed-size input; peak tensor memory; parameters and
// attention parameters), then train it briefly, reporting validation quality at each evaluation
// so the pruner can stop a hopeless design early, and take the last evaluation as its quality.
// The trained model is saved per trial for the report.
// The export `taskWorker` is the factory a worker process loads (worker-protocol.ts).

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/tape.js';
import { setBackend } from '../backend/backend.js';
import { setThreads } from '../backend/setup.js'; // also registers the backends (a worker process has no other entry)
import { padSequences } from '../data/batching.js';
import { fashionMnistDir, loadFashionMnist } from '../data/fashion-mnist.js';
import type { TextPair } from '../data/pairs.js';
import { trainBpe } from '../data/tokenizer-train.js';
import type { Module } from '../nn/module.js';
import type { PositionKind } from '../nn/position.js';
import type { Seq2SeqTransformer } from '../nn/seq2seq.js';
import { imageTensor } from '../tasks/image/data.js';
import { createImageModel } from '../tasks/image/model.js';
import { trainImageClassifier } from '../tasks/image/train.js';
import { encodeSource } from '../tasks/seq2seq/generate.js';
import { createSeq2SeqModel, type Seq2SeqModelOptions, seq2seqConfig } from '../tasks/seq2seq/model.js';
import { greedySearch } from '../tasks/seq2seq/search.js';
import { TransformerStepDecoder } from '../tasks/seq2seq/step-decoder.js';
import { type Seq2SeqTask, trainSeq2Seq } from '../tasks/seq2seq/train.js';
import { sourceTokenizer, type Tokenizers, targetTokenizer } from '../tasks/seq2seq/vocabulary.js';
import { loadSummarizationData, summarizationTask } from '../tasks/summarization/task.js';
import { loadTranslationData, translationTask } from '../tasks/translation/task.js';
import { tidy } from '../tensor/scope.js';
import type { ParamValue } from './distributions.js';
import { attentionParameters, medianMs, peakBytes } from './measure.js';
import { brokenConstraints, type Constraint, constraintsFunc, METRICS_ATTR } from './objectives.js';
import { SuccessiveHalvingPruner } from './pruners/asha.js';
import type { Pruner } from './pruners/base.js';
import { HyperbandPruner } from './pruners/hyperband.js';
import { MedianPruner } from './pruners/median.js';
import { NopPruner } from './pruners/nop.js';
import { NSGAIISampler } from './samplers/nsga2.js';
import { RandomSampler } from './samplers/random.js';
import { TPESampler } from './samplers/tpe.js';
import { loadSearchSpace, type SearchSpace, suggestSpace } from './search-space.js';
import { type AttentionDesign, attentionDesign, PRESET_SPACES, QUICK_SPACES } from './spaces/attention.js';
import { type Trial, TrialPruned } from './trial.js';
import { CHECKPOINT_ATTR, keepWeightsOnly, trialCheckpointDir } from './trial-checkpoints.js';
import type { WorkerBundle } from './worker-protocol.js';

export const TUNE_TASKS = ['image', 'translation', 'summarization'] as const;
export type TuneTask = (typeof TUNE_TASKS)[number];

export const TASK_METRICS: Record<TuneTask, string[]> = {
  image: ['accuracy', 'latency', 'memory', 'params', 'attentionParams'],
  translation: ['bleu', 'latency', 'memory', 'params', 'attentionParams'],
  summarization: ['rougeL', 'latency', 'memory', 'params', 'attentionParams'],
};

export const PRUNERS = ['median', 'asha', 'hyperband', 'none'] as const;
export type PrunerName = (typeof PRUNERS)[number];

export interface TuneTaskOptions {
  task: TuneTask;
  objectives: string[];
  constraints: Constraint[];
  /** a JSON / TS space file instead of the task's preset */
  spacePath?: string;
  /** the tiny-width preset space and small data defaults of a quick study (npm start) */
  quick?: boolean;
  /** training budget of one trial */
  minutesPerTrial?: number;
  epochsPerTrial?: number;
  /** training examples used (small for quick studies) */
  trainLimit?: number;
  /** validation examples scored (text: default 200, quick 100; images, held out of training: 2000, quick 500) */
  validLimit?: number;
  /** BPE pieces of the text tasks' tokenizer (default 8000; quick 1000) */
  vocabSize?: number;
  /** validation evaluations during a trial's training, each reported to the pruner (default 4) */
  evaluations?: number;
  sampler?: 'tpe' | 'random' | 'nsga2';
  /** default 'median' */
  pruner?: PrunerName;
  seed: number;
  /** kernel threads per worker (default: the cores shared among the workers) */
  threads?: number;
  /** kernel backend in the workers (default: the fastest that loads) */
  backend?: string;
  /** folder of the per-trial checkpoints (none: models are not kept) */
  checkpointDir?: string;
}

type Metrics = Record<string, number>;

/**
 * Reports each evaluation as step k (the k-th evaluation: comparable across designs under one time
 * budget). With several objectives the report is the vector of objective values, the costs being
 * known before training, so the pruner compares by domination: a fast design of lower quality so
 * far is kept when no more than half of its peers dominate it (pruners/base.ts).
 */
function pruningHook(
  trial: Trial,
  metric: string,
  objectives: readonly string[],
  costs: Metrics,
): { onEvaluate: (step: number, m: Metrics) => Promise<boolean>; pruned: () => boolean } {
  let k = 0;
  let pruned = false;
  return {
    onEvaluate: async (_step, m) => {
      const v = m[metric];
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      const vector = objectives.map((n) => (n === metric ? v : costs[n]));
      trial.report(objectives.length > 1 && vector.every((x) => typeof x === 'number') ? (vector as number[]) : v, k++);
      pruned = await trial.shouldPrune();
      return pruned;
    },
    pruned: () => pruned,
  };
}

/** What a design costs at inference, measured on a freshly built model (the weights do not change the time of a fixed-size input). */
function costMetrics(model: Module, one: () => void, runs: number, warmup: number): Metrics {
  return {
    latency: medianMs(one, runs, warmup),
    memory: peakBytes(one),
    params: model.numParameters(),
    attentionParams: attentionParameters(model),
  };
}

function trainingBudget(o: TuneTaskOptions): { epochs?: number; minutes?: number } {
  return { epochs: o.epochsPerTrial, minutes: o.epochsPerTrial === undefined ? (o.minutesPerTrial ?? 1) : undefined };
}

let imageCount: number | null = null;
/** Training images available (Debian's full set or the shipped subset), read once per worker. */
function trainingImages(): number {
  imageCount ??= loadFashionMnist('train', fashionMnistDir().dir).count;
  return imageCount;
}

function imageModelOptions(d: AttentionDesign) {
  return {
    dim: d.width,
    depth: d.layers,
    numHeads: d.numHeads,
    numKvHeads: d.numKvHeads,
    headDim: d.headDim,
    position: d.position as PositionKind,
    attentionDropout: d.attentionDropout,
  };
}

async function imageTrial(
  trial: Trial,
  d: AttentionDesign,
  costs: Metrics,
  o: TuneTaskOptions,
  outDir: string | undefined,
): Promise<Metrics> {
  const model = imageModelOptions(d);
  const hook = pruningHook(trial, 'accuracy', o.objectives, costs);
  const trainLimit = o.trainLimit ?? (o.quick ? 3000 : undefined);
  const used = Math.min(trainLimit ?? Number.POSITIVE_INFINITY, trainingImages());
  const r = await trainImageClassifier({
    model,
    lr: d.lr,
    seed: o.seed,
    ...trainingBudget(o),
    trainLimit,
    validation: Math.min(o.validLimit ?? (o.quick ? 500 : 2000), Math.floor(used / 5)),
    evaluations: o.evaluations ?? 4,
    outDir,
    onEvaluate: hook.onEvaluate,
    progress: 'none',
    log: () => {},
  });
  if (hook.pruned()) throw new TrialPruned(`pruned after ${trial.snapshot().intermediateValues.size} evaluations`);
  // the test accuracy (10,000 images) is recorded beside the objective, for comparing designs with less noise
  return { accuracy: r.validationAccuracy ?? r.testAccuracy, testAccuracy: r.testAccuracy, ...costs };
}

// Tokenizers trained once per worker and data slice (trainBpe is deterministic, so every worker gets the same).
const tokenizerCache = new Map<string, Tokenizers>();

function sharedTokenizer(key: string, train: readonly TextPair[], vocabSize: number): Tokenizers {
  let t = tokenizerCache.get(key);
  if (!t) {
    t = trainBpe(
      train.flatMap((p) => [p.source, p.target]),
      { vocabSize },
    );
    tokenizerCache.set(key, t);
  }
  return t;
}

/** Encoding one sentence and greedily decoding exactly `steps` tokens (no early stop), so the time depends on the design only. */
export function fixedLengthDecode(model: Seq2SeqTransformer, tokenizers: Tokenizers, sentence: string, steps: number): void {
  const ids = encodeSource(sourceTokenizer(tokenizers), sentence, 95);
  const { ids: padded, mask, length } = padSequences([ids], targetTokenizer(tokenizers).padId);
  const decoder = new TransformerStepDecoder(model, { ids: padded, mask, batch: 1, length }, { maxLength: steps });
  try {
    greedySearch(decoder, { bosId: targetTokenizer(tokenizers).bosId, eosId: -1, maxLength: steps });
  } finally {
    decoder.dispose();
  }
}

function textData(o: TuneTaskOptions, task: Seq2SeqTask) {
  const trainLimit = o.trainLimit ?? (o.quick ? 2000 : undefined);
  const data = task === translationTask ? loadTranslationData('synopses-en-fr', trainLimit) : loadSummarizationData(trainLimit);
  const valid = data.valid.slice(0, o.validLimit ?? (o.quick ? 100 : 200));
  const vocabSize = o.vocabSize ?? (o.quick ? 1000 : 8000);
  return { data, valid, tokenizer: sharedTokenizer(`${task.name}/${trainLimit}/${vocabSize}`, data.train, vocabSize) };
}

function seq2seqModelOptions(d: AttentionDesign, params: Record<string, unknown>): Seq2SeqModelOptions {
  return {
    dim: d.width,
    numHeads: d.numHeads,
    numKvHeads: d.numKvHeads,
    headDim: d.headDim,
    window: d.window < 0 ? undefined : d.window,
    position: d.position as PositionKind,
    attentionDropout: d.attentionDropout,
    encoderLayers: d.layers,
    decoderLayers: d.layers,
    ffnDim: d.width * (typeof params.ffnMultiplier === 'number' ? params.ffnMultiplier : 4),
    dropout: typeof params.dropout === 'number' ? params.dropout : 0.1,
  };
}

/** A design's freshly built model and one inference on the task's probe input: what latency and memory time. */
export interface InferenceProbe {
  model: Module;
  run: () => void;
  /** timed runs and warm-up runs of one latency measurement */
  runs: number;
  warmup: number;
}

function imageProbe(d: AttentionDesign, o: TuneTaskOptions): InferenceProbe {
  const model = createImageModel(imageModelOptions(d), o.seed).eval();
  const test = loadFashionMnist('test', fashionMnistDir().dir);
  return { model, run: () => tidy(() => noGrad(() => void model.forward(imageTensor(test, [0])))), runs: 15, warmup: 3 };
}

function seq2seqProbe(options: Seq2SeqModelOptions, o: TuneTaskOptions, task: Seq2SeqTask): InferenceProbe {
  const { valid, tokenizer } = textData(o, task);
  const model = createSeq2SeqModel(seq2seqConfig(targetTokenizer(tokenizer).vocabSize, options), o.seed).eval();
  // one validation sentence, 24 output tokens: a typical synopsis length
  return { model, run: () => tidy(() => fixedLengthDecode(model, tokenizer, valid[0]!.source, 24)), runs: 7, warmup: 1 };
}

/** The probe of the design that `params` stand for (the caller disposes probe.model). */
export function inferenceProbe(options: TuneTaskOptions, params: Record<string, ParamValue>): InferenceProbe {
  if (options.task === 'image') return imageProbe(imageDesign(params), options);
  const task = options.task === 'translation' ? translationTask : summarizationTask;
  return seq2seqProbe(seq2seqModelOptions(textDesign(params), params), options, task);
}

const imageDesign = (params: Record<string, ParamValue>) => attentionDesign(params, { position: 'learned', layers: 4 });
const textDesign = (params: Record<string, ParamValue>) => attentionDesign(params, { layers: 2, headDim: 32, position: 'sinusoidal' });

/** What a design costs at inference, measured on its freshly built model, which is then disposed. */
function measureCosts(probe: InferenceProbe): Metrics {
  try {
    return costMetrics(probe.model, probe.run, probe.runs, probe.warmup);
  } finally {
    probe.model.dispose();
  }
}

async function seq2seqTrial(
  trial: Trial,
  d: AttentionDesign,
  params: Record<string, unknown>,
  costs: Metrics,
  o: TuneTaskOptions,
  task: Seq2SeqTask,
  outDir: string | undefined,
): Promise<Metrics> {
  const { data, valid, tokenizer } = textData(o, task);
  const model = seq2seqModelOptions(d, params);
  const hook = pruningHook(trial, task.metric, o.objectives, costs);
  const r = await trainSeq2Seq(task, {
    train: data.train,
    valid,
    tokenizer,
    model,
    lr: d.lr,
    batchSize: o.quick ? 32 : 64,
    seed: o.seed,
    ...trainingBudget(o),
    evaluations: o.evaluations ?? (o.quick ? 3 : 4),
    evalSentences: valid.length,
    outDir,
    onEvaluate: hook.onEvaluate,
    progress: 'none',
    log: () => {},
  });
  r.model.dispose();
  if (hook.pruned()) throw new TrialPruned(`pruned after ${trial.snapshot().intermediateValues.size} evaluations`);
  const quality = r.fit.lastEval?.[task.metric];
  if (quality === undefined) throw new Error(`${task.name}: training ended without an evaluation of ${task.metric}`);
  return { [task.metric]: quality, ...costs };
}

function createPruner(name: PrunerName | undefined): Pruner {
  switch (name ?? 'median') {
    case 'median':
      return new MedianPruner({ nStartupTrials: 4, nWarmupSteps: 1 });
    case 'asha':
      return new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 3 });
    case 'hyperband':
      return new HyperbandPruner({ minResource: 1, maxResource: 'auto', reductionFactor: 3 });
    case 'none':
      return new NopPruner();
    default:
      throw new Error(`pruner: expected one of ${PRUNERS.join(', ')}, got '${name}'`);
  }
}

/** The preset space of a task (full or quick). */
export function presetSpace(task: TuneTask, quick = false): SearchSpace {
  return (quick ? QUICK_SPACES : PRESET_SPACES)[task]!;
}

/** The WorkerFactory of `attune tune`: one objective, its sampler, pruner and constraints. */
export async function taskWorker(options: TuneTaskOptions, context: { workerIndex: number }): Promise<WorkerBundle> {
  if (options.backend) setBackend(options.backend);
  if (options.threads !== undefined) setThreads(options.threads);
  const space = options.spacePath ? await loadSearchSpace(options.spacePath) : presetSpace(options.task, options.quick);
  const cf = options.constraints.length ? constraintsFunc(options.constraints) : undefined;
  const seed = options.seed + 1000 * context.workerIndex;
  const multi = options.objectives.length > 1;
  const kind = options.sampler ?? (multi ? 'nsga2' : 'tpe');
  const sampler =
    kind === 'random'
      ? new RandomSampler({ seed })
      : kind === 'nsga2'
        ? new NSGAIISampler({ seed, populationSize: 8, constraintsFunc: cf })
        : new TPESampler({
            seed,
            // Optuna's 10 random designs before TPE models them; a quick study (a dozen trials) starts after 5
            nStartupTrials: options.quick ? 5 : 10,
            multivariate: true,
            group: true,
            constantLiar: true,
            constraintsFunc: cf,
          });
  const objective = async (trial: Trial) => {
    const params = suggestSpace(trial, space);
    const outDir = options.checkpointDir ? trialCheckpointDir(options.checkpointDir, trial.number) : undefined;
    try {
      const costs = measureCosts(inferenceProbe(options, params));
      // costs are known before training: a design that breaks a cost constraint is not trained
      // (PRUNED without reports, which TPE ranks last); the default design always is, as the reference
      const broken = brokenConstraints(options.constraints, costs);
      if (broken.length > 0 && !trial.userAttrs.baseline) {
        trial.setUserAttr(METRICS_ATTR, costs);
        throw new TrialPruned(`not trained: breaks ${broken.join(', ')}`);
      }
      let metrics: Metrics;
      if (options.task === 'image') {
        const d = imageDesign(params);
        trial.setUserAttr('design', d);
        metrics = await imageTrial(trial, d, costs, options, outDir);
      } else {
        const d = textDesign(params);
        trial.setUserAttr('design', d);
        const task = options.task === 'translation' ? translationTask : summarizationTask;
        metrics = await seq2seqTrial(trial, d, params, costs, options, task, outDir);
      }
      trial.setUserAttr(METRICS_ATTR, metrics);
      if (outDir) {
        // keep the checkpoint of the model that was measured (the last one), nothing else
        for (const f of ['best.safetensors', 'metrics.jsonl']) rmSync(join(outDir, f), { force: true });
        const checkpoint = join(outDir, 'last.safetensors');
        keepWeightsOnly(checkpoint);
        trial.setUserAttr(CHECKPOINT_ATTR, checkpoint);
      }
      return options.objectives.map((n) => metrics[n]!);
    } catch (e) {
      if (outDir) rmSync(outDir, { recursive: true, force: true });
      throw e;
    }
  };
  return { objective, sampler, pruner: createPruner(options.pruner), constraintsFunc: cf, catchErrors: true };
}
