// Checkpoints: one safetensors file holding the model's state dict
// ('model.<name>'), the optimizer's buffers ('optimizer.<param>.<buffer>'),
// and in the header metadata (JSON strings) the model class and config, the
// optimizer's hyperparameters and step, the global RNG state, the data
// order and anything the caller adds. A checkpoint alone rebuilds the model
// (with a factory that knows the class) and resumes training exactly.

import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerMeta, OptimizerState } from '../optim/optimizer.js';
import { getRngState, type RngState, setRngState } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

export const CHECKPOINT_FORMAT = 'attune-checkpoint/1';

export interface CheckpointContents {
  /** Optimizer updates done. */
  step: number;
  /** Model class name and its JSON config, to rebuild the model. */
  modelClass?: string;
  modelConfig?: unknown;
  /** Where the data order stands (BatchSource.state()). */
  data?: unknown;
  /** Anything else the caller wants back (task options, best metric, ...). */
  extra?: Record<string, unknown>;
}

export interface Checkpoint extends CheckpointContents {
  path: string;
  model: Map<string, Tensor>;
  optimizer?: OptimizerState;
  rng: RngState;
  /** The raw header metadata. */
  metadata: Record<string, string>;
}

/** Saves model, optimizer and training state atomically to `path`. */
export function saveCheckpoint(path: string, model: Module, contents: CheckpointContents, optimizer?: Optimizer): void {
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) tensors.set(`model.${name}`, t);
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    step: String(contents.step),
    rng: JSON.stringify(getRngState()),
  };
  if (contents.modelClass) metadata['model.class'] = contents.modelClass;
  if (contents.modelConfig !== undefined) metadata['model.config'] = JSON.stringify(contents.modelConfig);
  if (contents.data !== undefined) metadata.data = JSON.stringify(contents.data);
  if (contents.extra) metadata.extra = JSON.stringify(contents.extra);
  if (optimizer) {
    const state = optimizer.stateDict();
    for (const [name, t] of state.tensors) tensors.set(`optimizer.${name}`, t);
    metadata.optimizer = JSON.stringify(state.meta);
  }
  saveSafetensors(path, tensors, metadata);
}

/** Reads a checkpoint; a damaged or foreign file is refused with its path named. */
export function loadCheckpoint(path: string): Checkpoint {
  const { metadata, tensors } = loadSafetensors(path);
  const fail = (what: string): never => {
    for (const t of tensors.values()) t.dispose();
    throw new Error(`checkpoint: ${path}: ${what}`);
  };
  if (metadata.format !== CHECKPOINT_FORMAT) {
    fail(`not an attune checkpoint (metadata format is ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}")`);
  }
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]!);
    } catch (e) {
      return fail(`metadata '${key}' is not valid JSON (${(e as Error).message})`);
    }
  };
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) fail(`metadata 'step' is ${JSON.stringify(metadata.step)}, expected an integer ≥ 0`);
  const model = new Map<string, Tensor>();
  const optimizerTensors = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith('model.')) model.set(name.slice(6), t);
    else if (name.startsWith('optimizer.')) optimizerTensors.set(name.slice(10), t);
    else fail(`tensor '${name}' is neither 'model.*' nor 'optimizer.*'`);
  }
  const optimizerMeta = json('optimizer') as OptimizerMeta | undefined;
  return {
    path,
    step,
    modelClass: metadata['model.class'],
    modelConfig: json('model.config'),
    data: json('data'),
    extra: json('extra') as Record<string, unknown> | undefined,
    model,
    optimizer: optimizerMeta ? { meta: optimizerMeta, tensors: optimizerTensors } : undefined,
    rng: json('rng') as RngState,
    metadata,
  };
}

/** Loads a checkpoint's state into a model, optimizer and data order, and restores the global RNG. */
export function restoreCheckpoint(
  checkpoint: Checkpoint,
  target: { model: Module; optimizer?: Optimizer; data?: { setState(s: unknown): void } },
): void {
  const where = `checkpoint: ${checkpoint.path}`;
  try {
    target.model.loadStateDict(checkpoint.model);
    if (target.optimizer) {
      if (!checkpoint.optimizer) throw new Error('it holds no optimizer state');
      target.optimizer.loadStateDict(checkpoint.optimizer);
    }
    if (target.data && checkpoint.data !== undefined) target.data.setState(checkpoint.data);
    if (checkpoint.rng) setRngState(checkpoint.rng);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

/** Frees the tensors a loaded checkpoint holds. */
export function disposeCheckpoint(checkpoint: Checkpoint): void {
  for (const t of checkpoint.model.values()) t.dispose();
  for (const t of checkpoint.optimizer?.tensors.values() ?? []) t.dispose();
}
