// attune/train: the training loop (Trainer: progress on a terminal, metrics
// as JSON lines, checkpoints, Ctrl-C). Node only; the package root keeps the
// browser-safe pieces (optimizers, checkpoints in memory, batches).

// the engine (backends, autograd) comes up with the package root
import '../index.js';

export { type BatchSource, type DataOrderState, ShuffledBatches } from './batches.js';
export { type Checkpoint, type CheckpointContents, loadCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';
export { type FitResult, type StopReason, Trainer, type TrainerOptions } from './trainer.js';
