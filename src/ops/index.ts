export {
  type AttentionOptions,
  type AttentionWithWeights,
  alibiSlopes,
  attentionAgainstCache,
  scaledDotProductAttention,
} from './attention.js';
export { add, div, equal, maximum, minimum, mul, sub } from './binary.js';
export { setCheckNumerics } from './checks.js';
export { type CrossEntropyOptions, crossEntropy } from './cross-entropy.js';
export { type DropoutOptions, dropout } from './dropout.js';
export { embedding } from './embedding.js';
export { KVCache, type KVCacheOptions } from './kv-cache.js';
export { type MatmulOptions, matmul } from './matmul.js';
export { layerNorm, rmsNorm } from './norm.js';
export { max, mean, type ReduceOptions, sum } from './reduce.js';
export { applyRotary, type RotaryOptions } from './rotary.js';
export { concat, expand, pad, permute, reshape, slice, squeeze, transpose, unsqueeze } from './shape.js';
export { logSoftmax, softmax } from './softmax.js';
export {
  abs,
  addScalar,
  exp,
  gelu,
  log,
  mulScalar,
  neg,
  powScalar,
  rdivScalar,
  relu,
  rsqrt,
  rsubScalar,
  sigmoid,
  silu,
  sqrt,
  square,
  tanh,
} from './unary.js';
