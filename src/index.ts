// attune: attention for TypeScript. The public API, safe to load in a browser;
// Node-only parts have their own entries: attune/train (Trainer, checkpoints),
// attune/io (safetensors files), attune/tasks, attune/tune, attune/viz.

import './autograd/tape.js';

export { grad, valueAndGrad } from './autograd/grad.js';
export { backward, isRecording, noGrad } from './autograd/tape.js';
export {
  AUTOTUNE_MODES,
  type AutotuneConfig,
  type AutotuneMode,
  type AutotuneOptions,
  autotune,
  autotuneConfig,
  configureAutotune,
  type ShapeResult,
} from './autotune/index.js';
export { type Backend, getBackend, listBackends, registerBackend, setBackend, withBackend } from './backend/backend.js';
export type { KernelTable } from './backend/kernels.js';
export { getThreads, ready, setThreads, wasmError } from './backend/setup.js';
export { WasmBackend } from './backend/wasm/index.js';
export { BucketedBatches, collate, type EncodedPair, padSequences, type Seq2SeqBatch } from './data/batching.js';
export { parseJsonlPairs, parsePairs, parseTsvPairs, type TextPair } from './data/pairs.js';
export { BpeTokenizer, type BpeTokenizerJSON } from './data/tokenizer.js';
export { type TrainBpeOptions, trainBpe } from './data/tokenizer-train.js';
export { type BleuScore, corpusBleu, tokenize13a } from './metrics/bleu.js';
export { corpusRouge, type RougeScores, rouge } from './metrics/rouge.js';
export * from './nn/index.js';
export * from './ops/index.js';
export * from './optim/index.js';
export { crossAttentionAlignment, formatAlignment } from './tasks/seq2seq/alignment.js';
export { type GenerateOptions, generate } from './tasks/seq2seq/generate.js';
export { beamSearch, greedySearch, type Hypothesis, type StepDecoder } from './tasks/seq2seq/search.js';
export { TransformerStepDecoder } from './tasks/seq2seq/step-decoder.js';
export {
  arange,
  fans,
  full,
  kaimingNormal,
  kaimingUniform,
  ones,
  rand,
  randn,
  scalar,
  tensor,
  xavierNormal,
  xavierUniform,
  zeros,
  zerosLike,
} from './tensor/create.js';
export type { DType } from './tensor/dtype.js';
export { formatBytes } from './tensor/heap.js';
export { manualSeed, Rng } from './tensor/random.js';
export { keep, tidy } from './tensor/scope.js';
export type { Shape } from './tensor/shape.js';
export { getHeap, Tensor } from './tensor/tensor.js';
export { type BatchSource, type DataOrderState, ShuffledBatches } from './train/batches.js';
