// attune: attention for TypeScript. The public API.

import './autograd/tape.js';

export { grad, valueAndGrad } from './autograd/grad.js';
export { backward, isRecording, noGrad } from './autograd/tape.js';
export { type Backend, getBackend, listBackends, registerBackend, setBackend, withBackend } from './backend/backend.js';
export type { KernelTable } from './backend/kernels.js';
export { getThreads, ready, setThreads, wasmError } from './backend/setup.js';
export { WasmBackend } from './backend/wasm/index.js';
export * from './nn/index.js';
export * from './ops/index.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
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
