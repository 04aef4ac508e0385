// Text in, text out: tokenises sources, decodes them in length-sorted
// batches (greedy or beam search on the KV cache) and detokenises, keeping
// the caller's order.

import { padSequences } from '../../data/batching.js';
import type { BpeTokenizer } from '../../data/tokenizer.js';
import type { Seq2SeqTransformer } from '../../nn/seq2seq.js';
import { beamSearch, greedySearch, type Hypothesis } from './search.js';
import { TransformerStepDecoder } from './step-decoder.js';
import { sourceTokenizer, type Tokenizers, targetTokenizer } from './vocabulary.js';

export interface GenerateOptions {
  /** 1 = greedy (default 1). */
  beamSize?: number;
  /** Exponent of the length normalisation in beam search (default 1). */
  lengthPenalty?: number;
  /** Most generated tokens per sentence (default 128). */
  maxLength?: number;
  /** Also cap the output at a·(source tokens) + b (as fairseq's --max-len-a/-b), per batch of similar sources. */
  maxLengthRatio?: { a: number; b: number };
  /** Sentences decoded together (default 32). */
  batchSize?: number;
  /** Source tokens kept (longer sources are cut; default the model's maxLength - 1). */
  maxSourceLength?: number;
  /** Use the KV cache (default true; false recomputes every prefix, for tests). */
  cache?: boolean;
}

export interface Generated extends Hypothesis {
  text: string;
}

/** Encodes a source the way training did: its tokens, cut to maxSourceLength, then </s>. */
export function encodeSource(tokenizer: BpeTokenizer, text: string, maxSourceLength: number): number[] {
  return [...tokenizer.encode(text).slice(0, maxSourceLength), tokenizer.eosId];
}

export function generate(
  model: Seq2SeqTransformer,
  tokenizers: Tokenizers,
  sources: readonly string[],
  options: GenerateOptions = {},
): Generated[] {
  const source = sourceTokenizer(tokenizers);
  const tokenizer = targetTokenizer(tokenizers);
  const beamSize = options.beamSize ?? 1;
  const batchSize = options.batchSize ?? 32;
  const maxLength = options.maxLength ?? 128;
  const maxSourceLength = options.maxSourceLength ?? (model.config.maxLength ?? 512) - 1;
  const wasTraining = model.training;
  model.eval();
  try {
    const encoded = sources.map((s) => encodeSource(source, s, maxSourceLength));
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length || a - b);
    const out = new Array<Generated>(sources.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const { ids, mask, length } = padSequences(
        rows.map((i) => encoded[i]),
        tokenizer.padId,
      );
      const decoder = new TransformerStepDecoder(
        model,
        { ids, mask, batch: rows.length, length },
        { beams: beamSize, cache: options.cache, maxLength },
      );
      try {
        const search = { bosId: tokenizer.bosId, eosId: tokenizer.eosId, maxLength };
        const hyps =
          beamSize === 1
            ? greedySearch(decoder, search)
            : beamSearch(decoder, { ...search, beamSize, lengthPenalty: options.lengthPenalty });
        rows.forEach((i, r) => {
          out[i] = { ...hyps[r], text: tokenizer.decode(hyps[r].tokens) };
        });
      } finally {
        decoder.dispose();
      }
    }
    return out;
  } finally {
    model.train(wasTraining);
  }
}
