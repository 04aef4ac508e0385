// The params blocks the attention and rotary kernels read: one slot of 4 bytes
// per field (i32, or f32 where named in *_F32_FIELDS), at byte offset 4·index
// from the pointer passed to the kernel. assembly/attention-params.ts mirrors
// these indices as named constants; its `attentionParamsLayout` /
// `rotaryParamsLayout` exports write them back in this order so a test can
// check both sides agree.
//
// Pointers are byte offsets into the wasm memory; 0 means "absent" where a
// field is optional. Strides are in elements (not bytes); the innermost (head
// dim, key) dimension of q/k/v/o and of the gradients is contiguous.

/** Field indices of the attention params block (see assembly/attention.ts for the legend). */
export const AttentionParam = {
  // tensors (byte offsets)
  query: 0, // f32 [B, H, Nq, D]
  key: 1, // f32 [B, Hk, ≥Nk, D] (a KV cache may have capacity > Nk)
  value: 2, // f32 [B, Hk, ≥Nk, D]
  output: 3, // f32 [B, H, Nq, D]
  logSumExp: 4, // f32 [B, H, Nq] contiguous; 0 = do not write (forward only)
  gradOutput: 5, // f32 [B, H, Nq, D]
  gradQuery: 6,
  gradKey: 7,
  gradValue: 8,
  mask: 9, // u8 keep-mask (1 = keep) or f32 additive, element strides below; 0 = none
  alibiSlopes: 10, // f32 [H]; 0 = none
  scratch: 11, // per-thread scratch: thread t uses [scratch + t·scratchStride, +scratchStride)
  scratchStride: 12, // bytes, ≥ the kernel's *ScratchBytes(params)
  partials: 13, // decode: attentionDecodePartialsBytes(params) bytes
  weights: 14, // attentionWeights: f32 [B, H, Nq, Nk] contiguous
  // shape
  batch: 15,
  numHeads: 16,
  numKvHeads: 17,
  queryLength: 18,
  keyLength: 19,
  headDim: 20,
  // element strides (batch, head, row) of each tensor
  queryStrideBatch: 21,
  queryStrideHead: 22,
  queryStrideRow: 23,
  keyStrideBatch: 24,
  keyStrideHead: 25,
  keyStrideRow: 26,
  valueStrideBatch: 27,
  valueStrideHead: 28,
  valueStrideRow: 29,
  outputStrideBatch: 30,
  outputStrideHead: 31,
  outputStrideRow: 32,
  gradOutputStrideBatch: 33,
  gradOutputStrideHead: 34,
  gradOutputStrideRow: 35,
  gradQueryStrideBatch: 36,
  gradQueryStrideHead: 37,
  gradQueryStrideRow: 38,
  gradKeyStrideBatch: 39,
  gradKeyStrideHead: 40,
  gradKeyStrideRow: 41,
  gradValueStrideBatch: 42,
  gradValueStrideHead: 43,
  gradValueStrideRow: 44,
  // mask: kind (MaskKind) and element strides over (b, h, i, j); 0 broadcasts
  maskKind: 45,
  maskStrideBatch: 46,
  maskStrideHead: 47,
  maskStrideQuery: 48,
  maskStrideKey: 49,
  // options
  causal: 50, // 0/1, bottom-right aligned: row i sees keys j ≤ i + Nk − Nq
  windowLeft: 51, // keys j ≥ i + Nk − Nq − windowLeft; −1 = unbounded
  windowRight: 52, // keys j ≤ i + Nk − Nq + windowRight; −1 = unbounded
  scale: 53, // f32
  softcap: 54, // f32; 0 = off
  dropoutP: 55, // f32 in [0, 1)
  dropoutSeed: 56, // u32
  // tiling
  blockRows: 57, // Br (query rows per tile), rounded up to a multiple of 4
  blockCols: 58, // Bc (keys per tile), rounded up to a multiple of 4
  decodeSplits: 59, // decode: key-length splits per (batch, kv head)
} as const;

export type AttentionParamName = keyof typeof AttentionParam;
export const ATTENTION_PARAMS_COUNT = 60;
export const ATTENTION_PARAMS_BYTES = ATTENTION_PARAMS_COUNT * 4;
export const ATTENTION_PARAMS_F32_FIELDS: ReadonlySet<AttentionParamName> = new Set(['scale', 'softcap', 'dropoutP']);

/** maskKind values. */
export const MaskKind = { none: 0, bool: 1, additive: 2 } as const;

/** Field indices of the rotary (RoPE) params block. */
export const RotaryParam = {
  input: 0, // f32 [B, H, N, D]
  output: 1, // f32 [B, H, N, D]; may equal input (in place)
  cos: 2, // f32 [maxPositions, tableStride]: cos(position · θ_k), k < rotaryDim/2
  sin: 3, // f32 [maxPositions, tableStride]
  positions: 4, // i32 [B, N] (batch stride below) or 0: position = positionOffset + n
  batch: 5,
  numHeads: 6,
  seqLength: 7,
  headDim: 8,
  rotaryDim: 9, // even, ≤ headDim; dims ≥ rotaryDim pass through
  interleaved: 10, // 0: rotate-half (GPT-NeoX, Llama) pairs (k, k + rotaryDim/2); 1: GPT-J pairs (2k, 2k+1)
  positionOffset: 11,
  positionsStrideBatch: 12, // 0 = one positions row shared by the batch
  tableStride: 13, // elements per table row, ≥ rotaryDim/2
  inputStrideBatch: 14,
  inputStrideHead: 15,
  inputStrideRow: 16,
  outputStrideBatch: 17,
  outputStrideHead: 18,
  outputStrideRow: 19,
} as const;

export type RotaryParamName = keyof typeof RotaryParam;
export const ROTARY_PARAMS_COUNT = 20;
export const ROTARY_PARAMS_BYTES = ROTARY_PARAMS_COUNT * 4;

/** Writes `values` into the params block at byte offset `ptr` (fields not given are set to 0). */
export function writeAttentionParams(buffer: ArrayBufferLike, ptr: number, values: Partial<Record<AttentionParamName, number>>): void {
  const i32 = new Int32Array(buffer, ptr, ATTENTION_PARAMS_COUNT);
  const f32 = new Float32Array(buffer, ptr, ATTENTION_PARAMS_COUNT);
  i32.fill(0);
  for (const name of Object.keys(values) as AttentionParamName[]) {
    const value = values[name];
    if (value === undefined) continue;
    if (ATTENTION_PARAMS_F32_FIELDS.has(name)) f32[AttentionParam[name]] = value;
    else i32[AttentionParam[name]] = value;
  }
}

/** Writes `values` into the rotary params block at byte offset `ptr` (fields not given are set to 0). */
export function writeRotaryParams(buffer: ArrayBufferLike, ptr: number, values: Partial<Record<RotaryParamName, number>>): void {
  const i32 = new Int32Array(buffer, ptr, ROTARY_PARAMS_COUNT);
  i32.fill(0);
  for (const name of Object.keys(values) as RotaryParamName[]) {
    const value = values[name];
    if (value !== undefined) i32[RotaryParam[name]] = value;
  }
}
