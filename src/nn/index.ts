// nn: modules, layers and models.

export {
  type AttentionCallOptions,
  type AttentionOutput,
  MultiHeadAttention,
  type MultiHeadAttentionConfig,
  type ProjectedKeyValue,
} from './attention.js';
export { DecoderCache } from './decoder-cache.js';
export { Dropout } from './dropout.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { FeedForward, type FeedForwardActivation, type FeedForwardConfig } from './feed-forward.js';
export { Linear, type LinearOptions } from './linear.js';
export { combineMasks } from './masks.js';
export {
  type InitOptions,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  ModuleList,
  type ParamKind,
  type SummaryInput,
  seedSequence,
} from './module.js';
export { createNorm, LayerNorm, type NormKind, type NormOptions, RMSNorm } from './norm.js';
export {
  LearnedPositionalEmbedding,
  type PositionKind,
  SinusoidalPositionalEncoding,
  sinusoidalTable,
} from './position.js';
export { type DecodeOptions, Seq2SeqTransformer, type Seq2SeqTransformerConfig } from './seq2seq.js';
export {
  type DecoderCallOptions,
  type DecoderLayerCallOptions,
  type EncoderLayerCallOptions,
  type StackAttention,
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
  type TransformerLayerConfig,
  type TransformerStackConfig,
} from './transformer.js';
export { VisionTransformer, type VisionTransformerAttention, type VisionTransformerConfig } from './vision-transformer.js';
