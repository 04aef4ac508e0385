// `attune predict image <checkpoint> <file.png...>`: classifies PNG files
// with a checkpoint from `attune train image`. Only parses options; the
// work is in src/tasks/image/predict.ts.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { classifyPngFiles, loadImageClassifier } from '../tasks/image/predict.js';
import { exitTwoOnUsageErrors, usageError } from './options.js';

interface PredictImageFlags {
  invert?: boolean;
  json?: boolean;
}

export function registerPredictCommand(program: Command): Command {
  const predict = program.command('predict').description('run a trained checkpoint on new inputs');
  exitTwoOnUsageErrors(
    predict
      .command('image')
      .description('classify PNG files (any size or colour type; resized to 28×28 grayscale)')
      .argument('<checkpoint>', 'a .safetensors checkpoint from attune train image')
      .argument('<files...>', 'PNG files')
      .option('--invert', 'invert the images (dark clothes on a light background); default: decided by each border')
      .option('--no-invert', 'never invert')
      .option('--json', 'one JSON line per file'),
  ).action((checkpoint: string, files: string[], flags: PredictImageFlags) => runPredictImage(checkpoint, files, flags));
  return predict;
}

function runPredictImage(checkpoint: string, files: string[], flags: PredictImageFlags): void {
  const c = 'predict image';
  if (!existsSync(checkpoint)) usageError(c, `checkpoint ${checkpoint} does not exist`);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) usageError(c, `no such file: ${missing.join(', ')}`);
  const notPng = files.filter((f) => !/\.png$/i.test(f));
  if (notPng.length > 0) usageError(c, `expected .png files, got ${notPng.join(', ')}`);
  try {
    const model = loadImageClassifier(checkpoint);
    for (const p of classifyPngFiles(model, files, { invert: flags.invert })) {
      if (flags.json) console.log(JSON.stringify(p));
      else {
        const others = p.top
          .slice(1)
          .map((t) => `${t.className} ${(100 * t.probability).toFixed(1)}%`)
          .join(', ');
        console.log(`${p.file}: ${p.className} (${(100 * p.probability).toFixed(1)}%; then ${others})${p.inverted ? ' [inverted]' : ''}`);
      }
    }
  } catch (e) {
    console.error(`attune ${c}: ${(e as Error).message}`);
    process.exit(1);
  }
}
