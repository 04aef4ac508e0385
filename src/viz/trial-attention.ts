// The attention maps of a study's best trial, for its report: the trial's saved checkpoint (user
// attribute `checkpoint`, written by `attune tune`) run on one sample input — a short validation
// pair of its text task (the first of ≤ 8 words), or the first test image of Fashion-MNIST (the image task's
// validation split depends on the trial's training slice, which the checkpoint does not keep).

import { existsSync } from 'node:fs';
import { loadDdtp } from '../data/ddtp.js';
import { fashionMnistDir, loadFashionMnist } from '../data/fashion-mnist.js';
import { imageTensor } from '../tasks/image/data.js';
import { loadImageClassifier } from '../tasks/image/predict.js';
import { loadSeq2Seq } from '../tasks/seq2seq/checkpoint.js';
import { encodeSource, generate } from '../tasks/seq2seq/generate.js';
import { sourceTokenizer } from '../tasks/seq2seq/vocabulary.js';
import { disposeCheckpoint, loadCheckpoint } from '../train/checkpoint.js';
import { dominates, type FrozenTrial, type StudyDirection } from '../tune/frozen-trial.js';
import { CHECKPOINT_ATTR } from '../tune/trial-checkpoints.js';
import type { AttentionMaps } from './attention-maps.js';
import { seq2seqAttention, tokenLabels, visionTransformerAttention } from './model-attention.js';

export interface TrialAttention {
  trial: FrozenTrial;
  maps: AttentionMaps;
  /** what the maps show, e.g. `trial 7 (bleu 12.3): "…" → "…"` */
  caption: string;
}

/**
 * The trial whose model the report draws: among the COMPLETE trials with a checkpoint on disk,
 * the best in the first objective among those no other such trial dominates (one objective:
 * simply the best). Null when no trial kept a checkpoint.
 */
export function bestTrialWithCheckpoint(trials: readonly FrozenTrial[], directions: readonly StudyDirection[]): FrozenTrial | null {
  const saved = trials.filter(
    (t) =>
      t.state === 'COMPLETE' &&
      t.values !== null &&
      typeof t.userAttrs[CHECKPOINT_ATTR] === 'string' &&
      existsSync(t.userAttrs[CHECKPOINT_ATTR]),
  );
  const front = saved.filter((t) => !saved.some((o) => dominates(o.values!, t.values!, directions)));
  const sign = directions[0] === 'minimize' ? 1 : -1;
  let best: FrozenTrial | null = null;
  for (const t of front) if (!best || sign * t.values![0]! < sign * best.values![0]!) best = t;
  return best;
}

function modelClass(path: string): string {
  const c = loadCheckpoint(path);
  try {
    return c.modelClass ?? 'unknown';
  } finally {
    disposeCheckpoint(c);
  }
}

const TEXT_SETS = { translation: 'synopses-en-fr', summarization: 'summaries-en' } as const;

/** Maps of one checkpoint on its task's sample input. */
export function checkpointSampleAttention(path: string): { maps: AttentionMaps; caption: string } {
  const kind = modelClass(path);
  if (kind === 'VisionTransformer') {
    const model = loadImageClassifier(path);
    const test = loadFashionMnist('test', fashionMnistDir().dir);
    const input = imageTensor(test, Int32Array.of(0));
    try {
      return { maps: visionTransformerAttention(model, input), caption: 'first Fashion-MNIST test image' };
    } finally {
      input.dispose();
      model.dispose();
    }
  }
  if (kind !== 'Seq2SeqTransformer') throw new Error(`${path} holds a ${kind}; expected a VisionTransformer or a Seq2SeqTransformer`);
  const loaded = loadSeq2Seq(path);
  try {
    const set = TEXT_SETS[loaded.task as keyof typeof TEXT_SETS] ?? TEXT_SETS.translation;
    // a short sentence keeps the maps readable: the first of the first 50 with at most 8 words, else the first
    const pairs = loadDdtp(set, 'valid', { limit: 50 });
    const pair = pairs.find((p) => p.source.split(/\s+/).length <= 8) ?? pairs[0];
    if (!pair) throw new Error(`${set}: the validation split is empty`);
    const source = sourceTokenizer(loaded.tokenizers);
    const sourceIds = encodeSource(source, pair.source, loaded.maxSourceLength);
    const [generated] = generate(loaded.model, loaded.tokenizers, [pair.source], {
      maxLength: loaded.maxTargetLength,
      maxSourceLength: loaded.maxSourceLength,
      maxLengthRatio: loaded.maxLengthRatio,
    });
    const targetIds = [loaded.tokenizer.bosId, ...generated!.tokens];
    const maps = seq2seqAttention(
      loaded.model,
      { ids: sourceIds, labels: tokenLabels(source, sourceIds) },
      { ids: targetIds, labels: tokenLabels(loaded.tokenizer, targetIds) },
    );
    return { maps, caption: `“${pair.source}” → “${generated!.text}”` };
  } finally {
    loaded.model.dispose();
  }
}

/** The best trial's maps (see bestTrialWithCheckpoint), or null when no trial kept a checkpoint. */
export function bestTrialAttention(
  trials: readonly FrozenTrial[],
  directions: readonly StudyDirection[],
  objectiveNames?: readonly string[],
): TrialAttention | null {
  const trial = bestTrialWithCheckpoint(trials, directions);
  if (!trial) return null;
  const { maps, caption } = checkpointSampleAttention(trial.userAttrs[CHECKPOINT_ATTR] as string);
  const value = `${objectiveNames?.[0] ?? 'value 0'} ${Number(trial.values![0]!.toPrecision(4))}`;
  return { trial, maps, caption: `trial ${trial.number} (${value}): ${caption}` };
}
