// Machine translation (English -> French by default) on the DDTP synopses:
// the task definition (BLEU as sacreBLEU computes it), its data and the
// copy-the-source baseline.

import { type DdtpSet, loadDdtp } from '../../data/ddtp.js';
import type { TextPair } from '../../data/pairs.js';
import { corpusBleu } from '../../metrics/bleu.js';
import type { Seq2SeqTask } from '../seq2seq/train.js';

export const TRANSLATION_SETS = ['synopses-en-fr', 'sentences-en-fr', 'synopses-en-de'] as const satisfies readonly DdtpSet[];
export type TranslationSet = (typeof TRANSLATION_SETS)[number];

export const translationTask: Seq2SeqTask = {
  name: 'translation',
  metric: 'bleu',
  score: (hypotheses, references) => corpusBleu(hypotheses, references).score,
  maxSourceLength: 96,
  maxTargetLength: 96,
  // French runs ~1.2× the English tokens; an untrained model's outputs stop here.
  maxLengthRatio: { a: 1.5, b: 10 },
};

export interface TranslationData {
  train: TextPair[];
  valid: TextPair[];
  test: TextPair[];
}

export function loadTranslationData(set: TranslationSet = 'synopses-en-fr', limit?: number): TranslationData {
  if (!TRANSLATION_SETS.includes(set)) throw new Error(`translation: unknown set "${set}"; expected one of ${TRANSLATION_SETS.join(', ')}`);
  return {
    train: loadDdtp(set, 'train', { limit }),
    valid: loadDdtp(set, 'valid'),
    test: loadDdtp(set, 'test'),
  };
}

/** The baseline every system must beat: output the source unchanged. */
export function copySourceBleu(pairs: readonly TextPair[]): number {
  return corpusBleu(
    pairs.map((p) => p.source),
    pairs.map((p) => p.target),
  ).score;
}
