// `attune train image`: trains a Vision Transformer on Fashion-MNIST and
// reports its test accuracy. Only parses options; the work is in
// src/tasks/image/train.ts.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { getBackend, setBackend } from '../backend/backend.js';
import { FULL_SET_HINT } from '../data/fashion-mnist.js';
import type { VisionTransformerConfig } from '../nn/vision-transformer.js';
import { trainImageClassifier } from '../tasks/image/train.js';
import { choiceOption, exitTwoOnUsageErrors, numberOption, usageError } from './options.js';

interface TrainImageFlags {
  data?: string;
  minutes?: string;
  epochs?: string;
  out?: string;
  resume?: string;
  batchSize?: string;
  lr?: string;
  weightDecay?: string;
  seed?: string;
  patch?: string;
  dim?: string;
  depth?: string;
  heads?: string;
  kvHeads?: string;
  headDim?: string;
  mlpRatio?: string;
  dropout?: string;
  position?: string;
  pool?: string;
  norm?: string;
  augment: boolean;
  trainLimit?: string;
  threads?: string;
  backend?: string;
  progress?: string;
  json?: boolean;
}

/** Adds `train` with its `image` subcommand; returns `train` so other tasks can add theirs. */
export function registerTrainCommand(program: Command): Command {
  const train = program.command('train').description('train a model on one of the shipped tasks');
  exitTwoOnUsageErrors(
    train
      .command('image')
      .description('train a Vision Transformer on Fashion-MNIST and report its test accuracy')
      .option('--data <dir>', 'directory of the Fashion-MNIST IDX .gz files (default: Debian package, else the shipped subset)')
      .option('--minutes <m>', 'wall-clock budget (default 10 unless --epochs)')
      .option('--epochs <n>', 'passes over the training images instead of a time budget')
      .option('--out <dir>', 'write checkpoints (last, best) and metrics.jsonl here')
      .option('--resume <checkpoint>', 'continue a run from its checkpoint')
      .option('--batch-size <n>', 'images per update (default 128)')
      .option('--lr <x>', 'peak learning rate (default 2e-3)')
      .option('--weight-decay <x>', 'AdamW weight decay on weights (default 0.05)')
      .option('--seed <n>', 'seed of init, data order and augmentation (default 1)')
      .option('--patch <n>', 'patch side in pixels (default 7)')
      .option('--dim <n>', 'model width (default 64)')
      .option('--depth <n>', 'encoder layers (default 4)')
      .option('--heads <n>', 'attention heads (default 4)')
      .option('--kv-heads <n>', 'key/value heads: fewer than --heads is GQA, 1 is MQA')
      .option('--head-dim <n>', 'width of one head (default --dim / --heads)')
      .option('--mlp-ratio <x>', 'feed-forward width / model width (default 2)')
      .option('--dropout <p>', 'dropout (default 0)')
      .option('--position <kind>', 'learned, sinusoidal, rope, alibi or none (default learned)')
      .option('--pool <kind>', 'cls or mean (default cls)')
      .option('--norm <kind>', 'layer or rms (default layer)')
      .option('--no-augment', 'no random flips and shifts')
      .option('--train-limit <n>', 'use only the first n training images')
      .option('--threads <n>', 'kernel threads (default: all cores)')
      .option('--backend <name>', 'js or wasm')
      .option('--progress <mode>', 'auto, bar, lines or none (default auto: a bar on a terminal)')
      .option('--json', 'print the result as one JSON line'),
  ).action((flags: TrainImageFlags) => runTrainImage(flags));
  return train;
}

function modelFlags(flags: TrainImageFlags): Partial<VisionTransformerConfig> {
  const c = 'train image';
  const int = (flag: string, raw: string | undefined) => numberOption(c, flag, raw, { integer: true, min: 1 });
  const model: Partial<VisionTransformerConfig> = {
    patchSize: int('--patch', flags.patch),
    dim: int('--dim', flags.dim),
    depth: int('--depth', flags.depth),
    numHeads: int('--heads', flags.heads),
    numKvHeads: int('--kv-heads', flags.kvHeads),
    headDim: int('--head-dim', flags.headDim),
    mlpRatio: numberOption(c, '--mlp-ratio', flags.mlpRatio, { min: 0, exclusiveMin: true }),
    dropout: numberOption(c, '--dropout', flags.dropout, { min: 0, max: 0.99 }),
    position: choiceOption(c, '--position', flags.position, ['learned', 'sinusoidal', 'rope', 'alibi', 'none'] as const),
    pool: choiceOption(c, '--pool', flags.pool, ['cls', 'mean'] as const),
    norm: choiceOption(c, '--norm', flags.norm, ['layer', 'rms'] as const),
  };
  const heads = model.numHeads ?? 4;
  const dim = model.dim ?? 64;
  if (28 % (model.patchSize ?? 7) !== 0) usageError(c, `--patch must divide the image side 28, got ${model.patchSize}`);
  if (model.headDim === undefined && dim % heads !== 0)
    usageError(c, `--dim ${dim} must be a multiple of --heads ${heads} (or give --head-dim)`);
  const headDim = model.headDim ?? dim / heads;
  if (model.position === 'rope' && headDim % 2 !== 0) usageError(c, `--position rope needs an even head width, got ${headDim}`);
  if (model.numKvHeads !== undefined && heads % model.numKvHeads !== 0)
    usageError(c, `--kv-heads ${model.numKvHeads} must divide --heads ${heads}`);
  return Object.fromEntries(Object.entries(model).filter(([, v]) => v !== undefined));
}

async function runTrainImage(flags: TrainImageFlags): Promise<void> {
  const c = 'train image';
  const minutes = numberOption(c, '--minutes', flags.minutes, { min: 0, exclusiveMin: true });
  const epochs = numberOption(c, '--epochs', flags.epochs, { min: 0, exclusiveMin: true });
  const threads = numberOption(c, '--threads', flags.threads, { integer: true, min: 1, max: 256 });
  const progress = choiceOption(c, '--progress', flags.progress, ['auto', 'bar', 'lines', 'none'] as const);
  const model = modelFlags(flags);
  if (flags.data && !existsSync(flags.data)) usageError(c, `--data ${flags.data} does not exist`);
  if (flags.resume && !existsSync(flags.resume)) usageError(c, `--resume ${flags.resume} does not exist`);
  try {
    if (flags.backend) setBackend(flags.backend);
  } catch (e) {
    usageError(c, `--backend: ${(e as Error).message}`);
  }
  if (threads) getBackend().setThreads(threads);
  const log = flags.json ? () => {} : (line: string) => console.log(line);
  try {
    const result = await trainImageClassifier({
      dataDir: flags.data,
      minutes,
      epochs,
      outDir: flags.out,
      resume: flags.resume,
      batchSize: numberOption(c, '--batch-size', flags.batchSize, { integer: true, min: 1 }),
      lr: numberOption(c, '--lr', flags.lr, { min: 0, exclusiveMin: true }),
      weightDecay: numberOption(c, '--weight-decay', flags.weightDecay, { min: 0 }),
      seed: numberOption(c, '--seed', flags.seed, { integer: true, min: 0 }),
      trainLimit: numberOption(c, '--train-limit', flags.trainLimit, { integer: true, min: 2 }),
      augment: flags.augment,
      model,
      progress: flags.json ? 'none' : progress,
      log,
    });
    if (flags.json) {
      console.log(JSON.stringify({ backend: getBackend().name, threads: getBackend().threads, ...result }));
      return;
    }
    log(
      `test accuracy ${(100 * result.testAccuracy).toFixed(2)}% (${result.steps} updates, ${result.epochs.toFixed(1)} epochs, ${result.seconds.toFixed(0)} s, ${result.imagesPerSecond.toFixed(0)} images/s, stopped by ${result.stoppedBy})`,
    );
    if (result.checkpoint)
      log(`checkpoints: ${result.checkpoint}${result.bestCheckpoint ? `, ${result.bestCheckpoint} (best validation accuracy)` : ''}`);
    if (!result.fullSet && !flags.data) log(`trained on the shipped subset; ${FULL_SET_HINT}`);
    if (result.stoppedBy === 'signal') process.exitCode = 130;
  } catch (e) {
    console.error(`attune ${c}: ${(e as Error).message}`);
    process.exit(1);
  }
}
