// One tokenizer for both sides (a shared vocabulary, the default: names and
// numbers copy through) or one per side (separate vocabularies).

import { BpeTokenizer } from '../../data/tokenizer.js';

export type Tokenizers = BpeTokenizer | { source: BpeTokenizer; target: BpeTokenizer };

export function sourceTokenizer(t: Tokenizers): BpeTokenizer {
  return t instanceof BpeTokenizer ? t : t.source;
}

export function targetTokenizer(t: Tokenizers): BpeTokenizer {
  return t instanceof BpeTokenizer ? t : t.target;
}
