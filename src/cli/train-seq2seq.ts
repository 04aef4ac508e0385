// `attune train translation` and `attune train summarization`: train an
// encoder-decoder transformer on the shipped DDTP data (or the user's own
// TSV/JSONL pairs) and report the test score next to the baselines. Only
// parses options; the work is in src/tasks/seq2seq/ and the task folders.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { getBackend, setBackend } from '../backend/backend.js';
import { readPairs } from '../data/ddtp.js';
import { generate } from '../tasks/seq2seq/generate.js';
import type { Seq2SeqModelOptions } from '../tasks/seq2seq/model.js';
import { type Seq2SeqTask, trainSeq2Seq } from '../tasks/seq2seq/train.js';
import { baselineRouge, firstSentence, firstWords, loadSummarizationData, summarizationTask } from '../tasks/summarization/task.js';
import { copySourceBleu, loadTranslationData, TRANSLATION_SETS, translationTask } from '../tasks/translation/task.js';
import { choiceOption, exitTwoOnUsageErrors, numberOption, usageError } from './options.js';

interface TrainSeq2SeqFlags {
  set?: string;
  train?: string;
  valid?: string;
  test?: string;
  minutes?: string;
  steps?: string;
  epochs?: string;
  out?: string;
  resume?: string;
  batchSize?: string;
  lr?: string;
  vocab?: string;
  separateVocab?: boolean;
  labelSmoothing?: string;
  seed?: string;
  dim?: string;
  heads?: string;
  encoderLayers?: string;
  decoderLayers?: string;
  ffn?: string;
  dropout?: string;
  trainLimit?: string;
  testLimit?: string;
  beam?: string;
  threads?: string;
  backend?: string;
  progress?: string;
  json?: boolean;
}

function addOptions(command: Command, defaults: { minutes: number }): Command {
  return command
    .option('--train <file>', 'your own training pairs (.tsv or .jsonl, optionally .gz) instead of the shipped set')
    .option('--valid <file>', 'validation pairs (with --train)')
    .option('--test <file>', 'test pairs (with --train)')
    .option('--minutes <m>', `wall-clock budget (default ${defaults.minutes} unless --steps or --epochs)`)
    .option('--steps <n>', 'updates instead of a time budget')
    .option('--epochs <n>', 'passes over the training pairs instead of a time budget')
    .option('--out <dir>', 'write checkpoints (last, best), tokenizer.json and metrics.jsonl here')
    .option('--resume <checkpoint>', 'continue a run from its checkpoint (same --out)')
    .option('--batch-size <n>', 'pairs per update (default 64)')
    .option('--lr <x>', 'peak learning rate (default 1e-3)')
    .option('--vocab <n>', 'BPE vocabulary size (default 8000)')
    .option('--separate-vocab', 'one vocabulary per side instead of a shared one (separate embeddings)')
    .option('--label-smoothing <x>', 'label smoothing (default 0.1)')
    .option('--seed <n>', 'seed of init and data order (default 1)')
    .option('--dim <n>', 'model width (default 256)')
    .option('--heads <n>', 'attention heads (default 4)')
    .option('--encoder-layers <n>', 'encoder layers (default 3)')
    .option('--decoder-layers <n>', 'decoder layers (default 3)')
    .option('--ffn <n>', 'feed-forward width (default 1024)')
    .option('--dropout <p>', 'dropout (default 0.1)')
    .option('--train-limit <n>', 'use only the first n training pairs')
    .option('--test-limit <n>', 'score only the first n test pairs')
    .option('--beam <n>', 'beam width for the test score (default 4)')
    .option('--threads <n>', 'kernel threads (default: all cores)')
    .option('--backend <name>', 'js or wasm')
    .option('--progress <mode>', 'auto, bar, lines or none (default auto: a bar on a terminal)')
    .option('--json', 'print the result as one JSON line');
}

/** Adds `translation` and `summarization` under `attune train`. */
export function registerSeq2SeqTrainCommands(train: Command): void {
  exitTwoOnUsageErrors(
    addOptions(
      train
        .command('translation')
        .description('train an encoder-decoder transformer on DDTP English→French synopses; report test BLEU')
        .option('--set <name>', `shipped pair set: ${TRANSLATION_SETS.join(', ')} (default synopses-en-fr)`),
      { minutes: 30 },
    ),
  ).action((flags: TrainSeq2SeqFlags) => runTrainSeq2Seq('translation', flags));
  exitTwoOnUsageErrors(
    addOptions(
      train
        .command('summarization')
        .description('train an encoder-decoder transformer to summarise Debian package descriptions; report test ROUGE'),
      { minutes: 30 },
    ),
  ).action((flags: TrainSeq2SeqFlags) => runTrainSeq2Seq('summarization', flags));
}

function loadData(c: string, name: 'translation' | 'summarization', flags: TrainSeq2SeqFlags, limit?: number) {
  if (flags.train) {
    for (const [flag, file] of [
      ['--train', flags.train],
      ['--valid', flags.valid],
      ['--test', flags.test],
    ] as const) {
      if (!file) usageError(c, `with --train, give --valid and --test too (${flag} is missing)`);
      if (!existsSync(file)) usageError(c, `${flag} ${file} does not exist`);
    }
    return { train: readPairs(flags.train, { limit }), valid: readPairs(flags.valid!), test: readPairs(flags.test!) };
  }
  if (name === 'summarization') return loadSummarizationData(limit);
  return loadTranslationData(choiceOption(c, '--set', flags.set, TRANSLATION_SETS) ?? 'synopses-en-fr', limit);
}

function modelFlags(c: string, flags: TrainSeq2SeqFlags): Seq2SeqModelOptions {
  const int = (flag: string, raw: string | undefined) => numberOption(c, flag, raw, { integer: true, min: 1 });
  const model: Seq2SeqModelOptions = {
    dim: int('--dim', flags.dim),
    numHeads: int('--heads', flags.heads),
    encoderLayers: int('--encoder-layers', flags.encoderLayers),
    decoderLayers: int('--decoder-layers', flags.decoderLayers),
    ffnDim: int('--ffn', flags.ffn),
    dropout: numberOption(c, '--dropout', flags.dropout, { min: 0, max: 0.99 }),
  };
  if ((model.dim ?? 256) % (model.numHeads ?? 4) !== 0)
    usageError(c, `--dim ${model.dim ?? 256} must be a multiple of --heads ${model.numHeads ?? 4}`);
  return Object.fromEntries(Object.entries(model).filter(([, v]) => v !== undefined));
}

async function runTrainSeq2Seq(name: 'translation' | 'summarization', flags: TrainSeq2SeqFlags): Promise<void> {
  const c = `train ${name}`;
  const task: Seq2SeqTask = name === 'translation' ? translationTask : summarizationTask;
  const threads = numberOption(c, '--threads', flags.threads, { integer: true, min: 1, max: 256 });
  const progress = choiceOption(c, '--progress', flags.progress, ['auto', 'bar', 'lines', 'none'] as const);
  const beamSize = numberOption(c, '--beam', flags.beam, { integer: true, min: 1, max: 64 }) ?? 4;
  const testLimit = numberOption(c, '--test-limit', flags.testLimit, { integer: true, min: 1 });
  const model = modelFlags(c, flags);
  if (flags.resume && !existsSync(flags.resume)) usageError(c, `--resume ${flags.resume} does not exist`);
  try {
    if (flags.backend) setBackend(flags.backend);
  } catch (e) {
    usageError(c, `--backend: ${(e as Error).message}`);
  }
  if (threads) getBackend().setThreads(threads);
  const log = flags.json ? () => {} : (line: string) => console.log(line);
  try {
    const data = loadData(c, name, flags, numberOption(c, '--train-limit', flags.trainLimit, { integer: true, min: 2 }));
    const minutes = numberOption(c, '--minutes', flags.minutes, { min: 0, exclusiveMin: true });
    const steps = numberOption(c, '--steps', flags.steps, { integer: true, min: 1 });
    const epochs = numberOption(c, '--epochs', flags.epochs, { min: 0, exclusiveMin: true });
    const result = await trainSeq2Seq(task, {
      train: data.train,
      valid: data.valid,
      minutes: minutes ?? (steps === undefined && epochs === undefined ? 30 : undefined),
      steps,
      epochs,
      outDir: flags.out,
      resume: flags.resume,
      batchSize: numberOption(c, '--batch-size', flags.batchSize, { integer: true, min: 1 }),
      lr: numberOption(c, '--lr', flags.lr, { min: 0, exclusiveMin: true }),
      vocabSize: numberOption(c, '--vocab', flags.vocab, { integer: true, min: 300, max: 1_000_000 }),
      separateVocabularies: flags.separateVocab,
      labelSmoothing: numberOption(c, '--label-smoothing', flags.labelSmoothing, { min: 0, max: 1 }),
      seed: numberOption(c, '--seed', flags.seed, { integer: true, min: 0 }),
      model,
      progress: flags.json ? 'none' : progress,
      log,
    });
    const test = data.test.slice(0, testLimit);
    const t0 = performance.now();
    const hyps = generate(
      result.model,
      result.tokenizer,
      test.map((p) => p.source),
      { beamSize, maxLength: task.maxTargetLength + 1, maxLengthRatio: task.maxLengthRatio, maxSourceLength: task.maxSourceLength },
    ).map((h) => h.text);
    const decodeSeconds = (performance.now() - t0) / 1000;
    const refs = test.map((p) => p.target);
    const score = task.score(hyps, refs);
    const baselines: Record<string, number> =
      name === 'translation'
        ? { copySource: copySourceBleu(test) }
        : {
            firstSentence: 100 * baselineRouge(test, firstSentence).rougeL.f1,
            first10Words: 100 * baselineRouge(test, (s) => firstWords(s, 10)).rougeL.f1,
          };
    const summary = {
      task: name,
      metric: task.metric,
      test: score,
      beamSize,
      baselines,
      testPairs: test.length,
      steps: result.steps,
      epochs: result.epochs,
      seconds: result.fit.seconds,
      tokensPerSecond: result.tokensPerSecond,
      decodeSentencesPerSecond: test.length / decodeSeconds,
      stoppedBy: result.fit.stoppedBy,
      parameters: result.model.numParameters(),
      checkpoint: result.checkpoint,
      bestCheckpoint: result.bestCheckpoint,
    };
    if (flags.json) {
      console.log(JSON.stringify({ backend: getBackend().name, threads: getBackend().threads, ...summary }));
    } else {
      const base = Object.entries(baselines)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ');
      log(`test ${task.metric} ${score.toFixed(2)} (beam ${beamSize}, ${test.length} pairs); baselines: ${base}`);
      log(
        `${result.steps} updates, ${result.epochs.toFixed(1)} epochs, ${result.fit.seconds.toFixed(0)} s, ${result.tokensPerSecond.toFixed(0)} target tokens/s, stopped by ${result.fit.stoppedBy}`,
      );
      if (result.checkpoint)
        log(
          `checkpoints: ${result.checkpoint}${result.bestCheckpoint ? `, ${result.bestCheckpoint} (best validation ${task.metric})` : ''}`,
        );
    }
    if (result.fit.stoppedBy === 'signal') process.exitCode = 130;
  } catch (e) {
    console.error(`attune ${c}: ${(e as Error).message}`);
    process.exit(1);
  }
}
