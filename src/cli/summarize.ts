// `attune summarize <checkpoint> <file|->`: summarises a document (a file, or
// standard input with "-") with a checkpoint from `attune train
// summarization`. Blank lines separate documents; whitespace inside one is
// normalised as in training.

import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addGenerateOptions, type GenerateFlags, runGenerate } from './generate-text.js';
import { exitTwoOnUsageErrors, usageError } from './options.js';

export function registerSummarizeCommand(program: Command): void {
  exitTwoOnUsageErrors(
    addGenerateOptions(
      program
        .command('summarize')
        .description('summarise text with a checkpoint from attune train summarization')
        .argument('<checkpoint>', 'a .safetensors checkpoint (its tokenizer.json beside it)')
        .argument('<file>', 'a text file, or "-" for standard input; blank lines separate documents'),
    ),
  ).action((checkpoint: string, file: string, flags: GenerateFlags) => {
    if (file !== '-' && !existsSync(file)) usageError('summarize', `no such file: ${file}`);
    const text = readFileSync(file === '-' ? 0 : file, 'utf8');
    const documents = text
      .split(/\n\s*\n/)
      .map((d) => d.replace(/\s+/g, ' ').trim())
      .filter((d) => d.length > 0);
    runGenerate('summarize', checkpoint, documents, flags);
  });
}
