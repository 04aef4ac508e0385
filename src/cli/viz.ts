// `attune viz <checkpoint> --text "…" | --image file.png`: writes the
// attention maps of a trained model for one input (HTML, PNG, SVG).

import type { Command } from 'commander';
import { writeCheckpointAttention } from '../viz/checkpoint-attention.js';
import { exitTwoOnUsageErrors, usageError } from './options.js';

export function registerVizCommand(program: Command): void {
  exitTwoOnUsageErrors(
    program
      .command('viz')
      .description("draw a trained model's attention for one input: a self-contained HTML page, PNG and SVG")
      .argument('<checkpoint>', 'a checkpoint written by attune train')
      .option('--text <text>', 'input sentence (translation or summarization checkpoints)')
      .option('--image <file.png>', 'input image (image checkpoints)')
      .option('--out <dir>', 'output directory', 'attention-maps')
      .action((checkpoint: string, flags: { text?: string; image?: string; out: string }) => {
        if ((flags.text === undefined) === (flags.image === undefined)) usageError('viz', 'give exactly one of --text or --image');
        let result: ReturnType<typeof writeCheckpointAttention>;
        try {
          result = writeCheckpointAttention(checkpoint, { text: flags.text, image: flags.image }, flags.out);
        } catch (e) {
          usageError('viz', (e as Error).message);
        }
        console.log(result.caption);
        console.log(`wrote ${result.files.length} files to ${flags.out}/ (open ${result.files[0]})`);
      }),
  );
}
