// Where a tuning study keeps its trials' trained models: one folder per trial under the study's
// checkpoint folder (its path in the trial's user attribute `checkpoint`), so the report can draw
// the best trial's attention maps. To bound the disk, a trial keeps only the checkpoint of the
// model it measured, pruned and failed trials keep none, and at the end of a run only the
// Pareto front and the default design keep theirs; a kept checkpoint holds the weights only.

import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { FrozenTrial } from './frozen-trial.js';

/** The user attribute holding a trial's checkpoint path. */
export const CHECKPOINT_ATTR = 'checkpoint';

/** Default checkpoint folder of a study: `<db file without extension>-checkpoints/<study>` beside a SQLite file, else under the working directory. */
export function defaultCheckpointDir(storage: string, studyName: string): string {
  const safe = studyName.replace(/[^\w.-]+/g, '_');
  const path = storage.startsWith('sqlite:')
    ? storage.slice('sqlite:'.length).replace(/^\/\/\//, '/')
    : /\.(db|sqlite3?)$/.test(storage)
      ? storage
      : null;
  const base = path ? join(dirname(resolve(path)), `${basename(path).replace(/\.[^.]+$/, '')}-checkpoints`) : resolve('attune-checkpoints');
  return join(base, safe);
}

/**
 * Rewrites a training checkpoint with the model's weights only (no optimizer moments, which
 * triple its size): what the report needs to rebuild the model. Returns the bytes saved.
 */
export function keepWeightsOnly(path: string): number {
  const before = statSync(path).size;
  const { tensors, metadata } = loadSafetensors(path);
  try {
    const weights = new Map([...tensors].filter(([name]) => name.startsWith('model.')));
    const { optimizer: _optimizer, ...rest } = metadata;
    saveSafetensors(path, weights, rest);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return before - statSync(path).size;
}

export function trialCheckpointDir(root: string, trialNumber: number): string {
  return join(root, `trial-${trialNumber}`);
}

/** Removes the checkpoint folders of finished trials that are neither on `keep` nor RUNNING / WAITING; returns how many. */
export function pruneTrialCheckpoints(root: string, trials: readonly FrozenTrial[], keep: readonly FrozenTrial[]): number {
  if (!existsSync(root)) return 0;
  const kept = new Set(keep.map((t) => t.number));
  const byNumber = new Map(trials.map((t) => [t.number, t]));
  let removed = 0;
  for (const entry of readdirSync(root)) {
    const m = /^trial-(\d+)$/.exec(entry);
    if (!m) continue;
    const t = byNumber.get(Number(m[1]));
    if (!t || t.state === 'RUNNING' || t.state === 'WAITING' || kept.has(t.number)) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
