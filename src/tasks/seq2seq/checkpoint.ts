// Loading a trained sequence-to-sequence checkpoint: the model from the
// class and config in its header, the tokenizer from tokenizer.json beside
// it, and the task's settings from the checkpoint's extra metadata.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BpeTokenizer, type BpeTokenizerJSON } from '../../data/tokenizer.js';
import { Seq2SeqTransformer, type Seq2SeqTransformerConfig } from '../../nn/seq2seq.js';
import { disposeCheckpoint, loadCheckpoint } from '../../train/checkpoint.js';

export const TOKENIZER_FILE = 'tokenizer.json';

export interface LoadedSeq2Seq {
  model: Seq2SeqTransformer;
  tokenizer: BpeTokenizer;
  /** 'translation', 'summarization', or what the trainer recorded. */
  task: string;
  maxSourceLength: number;
  maxTargetLength: number;
  /** Output cap relative to the source length, when the task set one. */
  maxLengthRatio?: { a: number; b: number };
  step: number;
}

export function loadSeq2Seq(path: string): LoadedSeq2Seq {
  const checkpoint = loadCheckpoint(path);
  try {
    if (checkpoint.modelClass !== 'Seq2SeqTransformer') {
      throw new Error(`${path} holds a ${checkpoint.modelClass ?? 'model of unknown class'}, not a Seq2SeqTransformer`);
    }
    const extra = checkpoint.extra ?? {};
    const tokenizerPath = join(dirname(path), (extra.tokenizer as string | undefined) ?? TOKENIZER_FILE);
    if (!existsSync(tokenizerPath))
      throw new Error(`${path}: its tokenizer ${tokenizerPath} is missing (it is saved beside the checkpoint)`);
    let json: BpeTokenizerJSON;
    try {
      json = JSON.parse(readFileSync(tokenizerPath, 'utf8')) as BpeTokenizerJSON;
    } catch (e) {
      throw new Error(`${tokenizerPath}: not a readable tokenizer (${(e as Error).message})`);
    }
    const tokenizer = BpeTokenizer.fromJSON(json);
    const config = checkpoint.modelConfig as Seq2SeqTransformerConfig;
    if (config.tgtVocabSize !== tokenizer.vocabSize) {
      throw new Error(`${path}: the model's vocabulary (${config.tgtVocabSize}) differs from ${tokenizerPath} (${tokenizer.vocabSize})`);
    }
    const model = new Seq2SeqTransformer(config);
    model.loadStateDict(checkpoint.model);
    return {
      model: model.eval(),
      tokenizer,
      task: (extra.task as string | undefined) ?? 'seq2seq',
      maxSourceLength: (extra.maxSourceLength as number | undefined) ?? (config.maxLength ?? 512) - 1,
      maxTargetLength: (extra.maxTargetLength as number | undefined) ?? 128,
      maxLengthRatio: extra.maxLengthRatio as { a: number; b: number } | undefined,
      step: checkpoint.step,
    };
  } finally {
    disposeCheckpoint(checkpoint);
  }
}
