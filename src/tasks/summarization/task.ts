// Summarization of Debian's long package descriptions into their one-line
// synopsis: the task definition (ROUGE-L F1 in percent), its data and the
// lead baselines (the first sentence, the first 10 words).

import { loadDdtp } from '../../data/ddtp.js';
import type { TextPair } from '../../data/pairs.js';
import { corpusRouge, type RougeScores } from '../../metrics/rouge.js';
import type { Seq2SeqTask } from '../seq2seq/train.js';

export const summarizationTask: Seq2SeqTask = {
  name: 'summarization',
  metric: 'rougeL',
  score: (hypotheses, references) => 100 * corpusRouge(references, hypotheses).rougeL.f1,
  maxSourceLength: 192,
  maxTargetLength: 48,
};

export interface SummarizationData {
  train: TextPair[];
  valid: TextPair[];
  test: TextPair[];
}

export function loadSummarizationData(limit?: number): SummarizationData {
  return {
    train: loadDdtp('summaries-en', 'train', { limit }),
    valid: loadDdtp('summaries-en', 'valid'),
    test: loadDdtp('summaries-en', 'test'),
  };
}

/** The text up to the first sentence end (. ! ? followed by a space), or all of it. */
export function firstSentence(text: string): string {
  const m = /^.*?[.!?](?=\s)/su.exec(text);
  return (m ? m[0] : text).trim();
}

export function firstWords(text: string, count = 10): string {
  return text.trim().split(/\s+/).slice(0, count).join(' ');
}

/** ROUGE of a baseline that maps each source to a summary. */
export function baselineRouge(pairs: readonly TextPair[], summarize: (source: string) => string): RougeScores {
  return corpusRouge(
    pairs.map((p) => p.target),
    pairs.map((p) => summarize(p.source)),
  );
}
