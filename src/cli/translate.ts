// `attune translate <checkpoint> "text…"`: translates with a checkpoint from
// `attune train translation` (beam search on the KV cache). Texts come from
// the arguments, or one per line from standard input with "-" or none.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addGenerateOptions, type GenerateFlags, runGenerate } from './generate-text.js';
import { exitTwoOnUsageErrors } from './options.js';

export function registerTranslateCommand(program: Command): void {
  exitTwoOnUsageErrors(
    addGenerateOptions(
      program
        .command('translate')
        .description('translate text with a checkpoint from attune train translation')
        .argument('<checkpoint>', 'a .safetensors checkpoint (its tokenizer.json beside it)')
        .argument('[text...]', 'texts to translate; none or "-": one per line from standard input'),
    ),
  ).action((checkpoint: string, texts: string[], flags: GenerateFlags) => {
    const inputs =
      texts.length === 0 || (texts.length === 1 && texts[0] === '-')
        ? readFileSync(0, 'utf8')
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l.length > 0)
        : texts;
    runGenerate('translate', checkpoint, inputs, flags);
  });
}
