// The objectives of `attune tune <task>`: sample an attention design from the task's space, train
// the task's model briefly, then measure quality on the validation split, inference latency on
// this machine (real kernels, median of repeated runs), peak tensor memory and parameters. The
// export `taskWorker` is the factory a worker process loads (worker-protocol.ts).

import { noGrad } from '../autograd/tape.js';
import { setThreads } from '../backend/setup.js'; // also registers the backends (a worker process has no other entry)
import { fashionMnistDir, loadFashionMnist } from '../data/fashion-mnist.js';
import type { PositionKind } from '../nn/position.js';
import { imageTensor } from '../tasks/image/data.js';
import { createImageModel } from '../tasks/image/model.js';
import { trainImageClassifier } from '../tasks/image/train.js';
import { generate } from '../tasks/seq2seq/generate.js';
import { type Seq2SeqTask, trainSeq2Seq } from '../tasks/seq2seq/train.js';
import { loadSummarizationData, summarizationTask } from '../tasks/summarization/task.js';
import { loadTranslationData, translationTask } from '../tasks/translation/task.js';
import { tidy } from '../tensor/scope.js';
import { getHeap } from '../tensor/tensor.js';
import { type Constraint, constraintsFunc, METRICS_ATTR } from './objectives.js';
import { NSGAIISampler } from './samplers/nsga2.js';
import { RandomSampler } from './samplers/random.js';
import { TPESampler } from './samplers/tpe.js';
import { loadSearchSpace, type SearchSpace, suggestSpace } from './search-space.js';
import { attentionDesign, PRESET_SPACES } from './spaces/attention.js';
import type { Trial } from './trial.js';
import type { WorkerBundle } from './worker-protocol.js';

export const TUNE_TASKS = ['image', 'translation', 'summarization'] as const;
export type TuneTask = (typeof TUNE_TASKS)[number];

export const TASK_METRICS: Record<TuneTask, string[]> = {
  image: ['accuracy', 'latency', 'memory', 'params'],
  translation: ['bleu', 'latency', 'memory', 'params'],
  summarization: ['rougeL', 'latency', 'memory', 'params'],
};

export interface TuneTaskOptions {
  task: TuneTask;
  objectives: string[];
  constraints: Constraint[];
  /** a JSON / TS space file instead of the task's preset */
  spacePath?: string;
  /** training budget of one trial */
  minutesPerTrial?: number;
  epochsPerTrial?: number;
  /** training examples used (small for quick studies) */
  trainLimit?: number;
  sampler?: 'tpe' | 'random' | 'nsga2';
  seed: number;
  /** kernel threads per worker (default: the cores shared among the workers) */
  threads?: number;
}

type Metrics = Record<string, number>;

/** Median wall time of fn over `runs` calls after `warmup` calls, ms. */
function medianMs(fn: () => void, runs = 15, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Peak tensor bytes above what was live before fn. */
function peakBytes(fn: () => void): number {
  const heap = getHeap();
  const before = heap.stats.liveBytes;
  heap.resetPeak();
  fn();
  return heap.stats.peakBytes - before;
}

async function imageTrial(trial: Trial, space: SearchSpace, o: TuneTaskOptions): Promise<Metrics> {
  const d = attentionDesign(suggestSpace(trial, space), { position: 'learned', layers: 4 });
  trial.setUserAttr('design', d);
  const model = {
    dim: d.width,
    depth: d.layers,
    numHeads: d.numHeads,
    numKvHeads: d.numKvHeads,
    position: d.position as PositionKind,
    attentionDropout: d.attentionDropout,
  };
  const r = await trainImageClassifier({
    model,
    lr: d.lr,
    seed: o.seed,
    epochs: o.epochsPerTrial,
    minutes: o.epochsPerTrial === undefined ? (o.minutesPerTrial ?? 1) : undefined,
    trainLimit: o.trainLimit,
    evaluations: 1,
    progress: 'none',
    log: () => {},
  });
  const test = loadFashionMnist('test', fashionMnistDir().dir);
  const net = createImageModel(r.config, o.seed);
  net.eval();
  const one = () => tidy(() => noGrad(() => void net.forward(imageTensor(test, [0]))));
  return {
    accuracy: r.validationAccuracy ?? r.testAccuracy,
    latency: medianMs(one),
    memory: peakBytes(one),
    params: r.parameters,
  };
}

async function seq2seqTrial(trial: Trial, space: SearchSpace, o: TuneTaskOptions, task: Seq2SeqTask): Promise<Metrics> {
  const params = suggestSpace(trial, space);
  const d = attentionDesign(params, { layers: 2, headDim: 32 });
  trial.setUserAttr('design', d);
  const data = task === translationTask ? loadTranslationData('synopses-en-fr', o.trainLimit) : loadSummarizationData(o.trainLimit);
  const valid = data.valid.slice(0, 200);
  const r = await trainSeq2Seq(task, {
    train: data.train,
    valid,
    model: {
      dim: d.width,
      numHeads: d.numHeads,
      encoderLayers: d.layers,
      decoderLayers: d.layers,
      ffnDim: d.width * (typeof params.ffnMultiplier === 'number' ? params.ffnMultiplier : 4),
      dropout: typeof params.dropout === 'number' ? params.dropout : 0.1,
    },
    lr: d.lr,
    seed: o.seed,
    epochs: o.epochsPerTrial,
    minutes: o.epochsPerTrial === undefined ? (o.minutesPerTrial ?? 1) : undefined,
    evaluations: 1,
    evalSentences: valid.length,
    progress: 'none',
    log: () => {},
  });
  const quality =
    r.fit.lastEval?.[task.metric] ??
    task.score(
      generate(
        r.model,
        r.tokenizer,
        valid.map((p) => p.source),
      ).map((g) => g.text),
      valid.map((p) => p.target),
    );
  const sentence = valid[0]!.source;
  const one = () => void generate(r.model, r.tokenizer, [sentence], { maxLength: 32 });
  return { [task.metric]: quality, latency: medianMs(one, 7, 1), memory: peakBytes(one), params: r.model.numParameters() };
}

/** The WorkerFactory of `attune tune`: one objective, its sampler and its constraints. */
export async function taskWorker(options: TuneTaskOptions, context: { workerIndex: number }): Promise<WorkerBundle> {
  if (options.threads !== undefined) setThreads(options.threads);
  const space = options.spacePath ? await loadSearchSpace(options.spacePath) : PRESET_SPACES[options.task]!;
  const cf = options.constraints.length ? constraintsFunc(options.constraints) : undefined;
  const seed = options.seed + 1000 * context.workerIndex;
  const multi = options.objectives.length > 1;
  const kind = options.sampler ?? (multi ? 'nsga2' : 'tpe');
  const sampler =
    kind === 'random'
      ? new RandomSampler({ seed })
      : kind === 'nsga2'
        ? new NSGAIISampler({ seed, populationSize: 8, constraintsFunc: cf })
        : new TPESampler({ seed, nStartupTrials: 5, multivariate: true, group: true, constantLiar: true, constraintsFunc: cf });
  const objective = async (trial: Trial) => {
    const metrics =
      options.task === 'image'
        ? await imageTrial(trial, space, options)
        : await seq2seqTrial(trial, space, options, options.task === 'translation' ? translationTask : summarizationTask);
    trial.setUserAttr(METRICS_ATTR, metrics);
    return options.objectives.map((n) => metrics[n]!);
  };
  return { objective, sampler, constraintsFunc: cf, catchErrors: true };
}
