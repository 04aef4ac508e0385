// Shared by `attune translate` and `attune summarize`: options of the
// decoder, loading the checkpoint, printing outputs and alignment tables.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { getBackend, setBackend } from '../backend/backend.js';
import { crossAttentionAlignment, formatAlignment } from '../tasks/seq2seq/alignment.js';
import { loadSeq2Seq } from '../tasks/seq2seq/checkpoint.js';
import { generate } from '../tasks/seq2seq/generate.js';
import { numberOption, usageError } from './options.js';

export interface GenerateFlags {
  beam?: string;
  lengthPenalty?: string;
  maxLength?: string;
  alignment?: boolean;
  layer?: string;
  threads?: string;
  backend?: string;
  json?: boolean;
}

export function addGenerateOptions(command: Command): Command {
  return command
    .option('--beam <n>', 'beam width; 1 is greedy (default 4)')
    .option('--length-penalty <x>', 'beam score = log-probability / length^x (default 1)')
    .option('--max-length <n>', 'most output tokens (default: what the model was trained for)')
    .option('--alignment', 'also print the cross-attention alignment as a text table')
    .option('--layer <n|mean>', 'decoder layer for --alignment (default: the last)')
    .option('--threads <n>', 'kernel threads (default: all cores)')
    .option('--backend <name>', 'js or wasm')
    .option('--json', 'one JSON line per input');
}

/** Decodes `inputs` with the checkpoint and prints one output per input. */
export function runGenerate(c: string, checkpoint: string, inputs: string[], flags: GenerateFlags): void {
  if (!existsSync(checkpoint)) usageError(c, `checkpoint ${checkpoint} does not exist`);
  const beamSize = numberOption(c, '--beam', flags.beam, { integer: true, min: 1, max: 64 }) ?? 4;
  const lengthPenalty = numberOption(c, '--length-penalty', flags.lengthPenalty, { min: 0 });
  const maxLength = numberOption(c, '--max-length', flags.maxLength, { integer: true, min: 1, max: 4096 });
  const threads = numberOption(c, '--threads', flags.threads, { integer: true, min: 1, max: 256 });
  const layer =
    flags.layer === undefined || flags.layer === 'mean' ? flags.layer : numberOption(c, '--layer', flags.layer, { integer: true, min: 0 });
  if (inputs.length === 0) usageError(c, 'no input text');
  try {
    if (flags.backend) setBackend(flags.backend);
  } catch (e) {
    usageError(c, `--backend: ${(e as Error).message}`);
  }
  if (threads) getBackend().setThreads(threads);
  try {
    const loaded = loadSeq2Seq(checkpoint);
    const outputs = generate(loaded.model, loaded.tokenizers, inputs, {
      beamSize,
      lengthPenalty,
      maxLength: maxLength ?? loaded.maxTargetLength + 1,
      maxLengthRatio: maxLength === undefined ? loaded.maxLengthRatio : undefined,
      maxSourceLength: loaded.maxSourceLength,
    });
    outputs.forEach((out, i) => {
      const alignment = flags.alignment
        ? crossAttentionAlignment(loaded.model, loaded.tokenizers, inputs[i], out.tokens, {
            layer: layer as number | 'mean' | undefined,
            maxSourceLength: loaded.maxSourceLength,
          })
        : null;
      if (flags.json)
        console.log(
          JSON.stringify({ input: inputs[i], output: out.text, score: out.score, logProbability: out.logProbability, alignment }),
        );
      else {
        console.log(out.text);
        if (alignment) console.log(`${formatAlignment(alignment)}\n`);
      }
    });
  } catch (e) {
    console.error(`attune ${c}: ${(e as Error).message}`);
    process.exit(1);
  }
}
