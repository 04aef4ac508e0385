// Loading a trained sequence-to-sequence checkpoint: the model from the
// class and config in its header, the tokenizer from tokenizer.json beside
// it (and source-tokenizer.json with separate vocabularies), and the task's
// settings from the checkpoint's extra metadata.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BpeTokenizer, type BpeTokenizerJSON } from '../../data/tokenizer.js';
import { Seq2SeqTransformer, type Seq2SeqTransformerConfig } from '../../nn/seq2seq.js';
import { disposeCheckpoint, loadCheckpoint } from '../../train/checkpoint.js';
import type { Tokenizers } from './vocabulary.js';

export const TOKENIZER_FILE = 'tokenizer.json';
/** The source side's tokenizer when the vocabularies are separate. */
export const SOURCE_TOKENIZER_FILE = 'source-tokenizer.json';

export interface LoadedSeq2Seq {
  model: Seq2SeqTransformer;
  /** The target side's tokenizer (the only one with a shared vocabulary). */
  tokenizer: BpeTokenizer;
  /** What generate() and the alignment take: the shared tokenizer, or { source, target }. */
  tokenizers: Tokenizers;
  /** 'translation', 'summarization', or what the trainer recorded. */
  task: string;
  maxSourceLength: number;
  maxTargetLength: number;
  /** Output cap relative to the source length, when the task set one. */
  maxLengthRatio?: { a: number; b: number };
  step: number;
}

/** A tokenizer file beside the checkpoint, checked against the model's vocabulary. */
function readTokenizer(checkpointPath: string, file: string, vocabSize: number): BpeTokenizer {
  const path = join(dirname(checkpointPath), file);
  if (!existsSync(path)) throw new Error(`${checkpointPath}: its tokenizer ${path} is missing (it is saved beside the checkpoint)`);
  let tokenizer: BpeTokenizer;
  try {
    tokenizer = BpeTokenizer.fromJSON(JSON.parse(readFileSync(path, 'utf8')) as BpeTokenizerJSON);
  } catch (e) {
    throw new Error(`${path}: not a readable tokenizer (${(e as Error).message})`);
  }
  if (tokenizer.vocabSize !== vocabSize) {
    throw new Error(`${checkpointPath}: the model's vocabulary (${vocabSize}) differs from ${path} (${tokenizer.vocabSize})`);
  }
  return tokenizer;
}

export function loadSeq2Seq(path: string): LoadedSeq2Seq {
  const checkpoint = loadCheckpoint(path);
  try {
    if (checkpoint.modelClass !== 'Seq2SeqTransformer') {
      throw new Error(`${path} holds a ${checkpoint.modelClass ?? 'model of unknown class'}, not a Seq2SeqTransformer`);
    }
    const extra = checkpoint.extra ?? {};
    const config = checkpoint.modelConfig as Seq2SeqTransformerConfig;
    const tokenizer = readTokenizer(path, (extra.tokenizer as string | undefined) ?? TOKENIZER_FILE, config.tgtVocabSize);
    const sourceFile = extra.sourceTokenizer as string | undefined;
    const tokenizers: Tokenizers = sourceFile
      ? { source: readTokenizer(path, sourceFile, config.srcVocabSize), target: tokenizer }
      : tokenizer;
    if (!sourceFile && config.srcVocabSize !== tokenizer.vocabSize) {
      throw new Error(
        `${path}: the model's source vocabulary (${config.srcVocabSize}) differs from its tokenizer's (${tokenizer.vocabSize})`,
      );
    }
    const model = new Seq2SeqTransformer(config);
    model.loadStateDict(checkpoint.model);
    return {
      model: model.eval(),
      tokenizer,
      tokenizers,
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
