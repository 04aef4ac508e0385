// The one definition of the attention and rotary kernel parameters: the
// parameter objects every backend and the js reference take, and the flat
// block of 4-byte slots a compiled kernel reads. FlashAttention's
// Flash_fwd_params plays this part there.
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
//
// The block: slot i is 4 bytes at byte offset 4·i from the block's start,
// little-endian, in the order of ATTENTION_SLOTS / ROTARY_SLOTS below. A slot
// is one of
//   offset  u32 byte offset of a tensor in the shared heap (the
//           WebAssembly.Memory buffer); 0 = absent where the tensor is optional
//   i32     signed integer (booleans are 0/1)
//   u32     unsigned integer (read the same bits as uint32_t)
//   f32     IEEE float32
// How a native backend reads it: the caller passes the block as an Int32Array
// view of the heap (or its byte offset) together with the heap itself; C reads
// `int32_t *slot = base + blockOffset` and `float` slots by memcpy / a union of
// the same 4 bytes, and a tensor as `(float *)(base + slot[A_QUERY])` with
// `base` taken afresh on each call (the memory can grow and move). The slot
// names below, upper-snake-cased with an A_ (attention) or R_ (rotary) prefix,
// are the names to use there, as assembly/attention-params.ts does (A_QUERY,
// A_KEY_CAPACITY, R_TABLE_STRIDE, ...: slotConstantName()); AttentionSlot and
// RotarySlot give the numbers. Strides of q, k, v, o and the gradients are not in the schema:
// those tensors are always dense, [B, H, Nq, D] and [B, Hk, keyCapacity, D],
// and a backend derives their strides from the shape (the wasm block appends
// them after the schema's slots: src/backend/wasm/attention-params.ts).

/** How a slot's 4 bytes are read. */
export type SlotType = 'offset' | 'i32' | 'u32' | 'f32';

export interface SlotSpec {
  readonly name: string;
  readonly type: SlotType;
  /** What the slot says (shown in generated code and in docs). */
  readonly doc: string;
}

/** The attention block, in slot order. Never reorder without rebuilding every backend (the layout test will notice). */
export const ATTENTION_SLOTS = [
  // tensors (byte offsets into the heap)
  { name: 'query', type: 'offset', doc: 'f32 [B, H, Nq, D]' },
  { name: 'key', type: 'offset', doc: 'f32 [B, Hk, keyCapacity, D] (a KV cache may hold more rows than keyLength)' },
  { name: 'value', type: 'offset', doc: 'f32 [B, Hk, keyCapacity, D]' },
  { name: 'output', type: 'offset', doc: 'f32 [B, H, Nq, D]' },
  { name: 'logSumExp', type: 'offset', doc: 'f32 [B, H, Nq]; 0 = do not write (forward)' },
  { name: 'gradOutput', type: 'offset', doc: 'f32 [B, H, Nq, D]' },
  { name: 'gradQuery', type: 'offset', doc: 'f32 [B, H, Nq, D]' },
  { name: 'gradKey', type: 'offset', doc: 'f32 [B, Hk, keyCapacity, D]' },
  { name: 'gradValue', type: 'offset', doc: 'f32 [B, Hk, keyCapacity, D]' },
  { name: 'mask', type: 'offset', doc: 'u8 keep-mask (1 = keep) or f32 additive, read with the mask strides; 0 = none' },
  { name: 'alibiSlopes', type: 'offset', doc: 'f32 [H]; 0 = none' },
  { name: 'scratch', type: 'offset', doc: 'per-thread scratch: thread t uses [scratch + t·scratchStride, +scratchStride)' },
  { name: 'scratchStride', type: 'i32', doc: 'bytes of scratch per thread' },
  { name: 'partials', type: 'offset', doc: 'decode: the per-split (m, l, O) records' },
  { name: 'weights', type: 'offset', doc: 'attentionWeights: f32 [B, H, Nq, Nk]' },
  // shape
  { name: 'batch', type: 'i32', doc: 'B' },
  { name: 'numHeads', type: 'i32', doc: 'H' },
  { name: 'numKvHeads', type: 'i32', doc: 'Hk, divides H' },
  { name: 'queryLength', type: 'i32', doc: 'Nq' },
  { name: 'keyLength', type: 'i32', doc: 'Nk: key rows attended to' },
  { name: 'keyCapacity', type: 'i32', doc: 'rows per (b, kv head) in k and v, ≥ keyLength' },
  { name: 'headDim', type: 'i32', doc: 'D' },
  // mask
  { name: 'maskKind', type: 'i32', doc: 'MaskKind: 0 none, 1 bool, 2 additive' },
  { name: 'maskStrideBatch', type: 'i32', doc: 'mask element stride over b; 0 broadcasts' },
  { name: 'maskStrideHead', type: 'i32', doc: 'over h' },
  { name: 'maskStrideQuery', type: 'i32', doc: 'over i' },
  { name: 'maskStrideKey', type: 'i32', doc: 'over j' },
  // options
  { name: 'causal', type: 'i32', doc: '0/1, bottom-right aligned: row i sees keys j ≤ i + Nk − Nq' },
  { name: 'windowLeft', type: 'i32', doc: 'keys j ≥ i + Nk − Nq − windowLeft; −1 = unbounded' },
  { name: 'windowRight', type: 'i32', doc: 'keys j ≤ i + Nk − Nq + windowRight; −1 = unbounded' },
  { name: 'scale', type: 'f32', doc: 'multiplies q·k' },
  { name: 'softcap', type: 'f32', doc: 's → c·tanh(s/c); 0 = off' },
  { name: 'dropoutP', type: 'f32', doc: 'in [0, 1)' },
  { name: 'dropoutSeed', type: 'u32', doc: 'seed of the dropout hash' },
  // kernel settings (the autotuner's: src/autotune)
  { name: 'blockRows', type: 'i32', doc: 'Br, query rows per tile' },
  { name: 'blockCols', type: 'i32', doc: 'Bc, keys per tile' },
  { name: 'decodeSplits', type: 'i32', doc: 'decode: key-length splits per (batch, kv head)' },
] as const satisfies readonly SlotSpec[];

/** The rotary (RoPE) block, in slot order. */
export const ROTARY_SLOTS = [
  { name: 'input', type: 'offset', doc: 'f32 [B, H, N, D]' },
  { name: 'output', type: 'offset', doc: 'f32 [B, H, N, D]; may equal input (in place)' },
  { name: 'cos', type: 'offset', doc: 'f32 [maxPositions, tableStride]: cos(position · θ_k), k < rotaryDim/2' },
  { name: 'sin', type: 'offset', doc: 'f32 [maxPositions, tableStride]' },
  { name: 'positions', type: 'offset', doc: 'i32 [B, N] or [N]; 0: position = positionOffset + n' },
  { name: 'batch', type: 'i32', doc: 'B' },
  { name: 'numHeads', type: 'i32', doc: 'H' },
  { name: 'seqLength', type: 'i32', doc: 'N' },
  { name: 'headDim', type: 'i32', doc: 'D' },
  { name: 'rotaryDim', type: 'i32', doc: 'even, ≤ headDim; dims ≥ rotaryDim pass through' },
  { name: 'interleaved', type: 'i32', doc: '0: rotate-half pairs (k, k + rotaryDim/2); 1: GPT-J pairs (2k, 2k+1)' },
  { name: 'positionOffset', type: 'i32', doc: 'position of row n is positionOffset + n without positions' },
  { name: 'positionsStrideBatch', type: 'i32', doc: 'elements between batch rows of positions; 0 = one row for all' },
  { name: 'tableStride', type: 'i32', doc: 'elements per cos/sin row, ≥ rotaryDim/2' },
] as const satisfies readonly SlotSpec[];

export type AttentionSlotName = (typeof ATTENTION_SLOTS)[number]['name'];
export type RotarySlotName = (typeof ROTARY_SLOTS)[number]['name'];

function indexOf<N extends string>(slots: readonly { name: N }[]): Readonly<Record<N, number>> {
  return Object.fromEntries(slots.map((s, i) => [s.name, i])) as Record<N, number>;
}

/** Slot index of each attention field. */
export const AttentionSlot = indexOf<AttentionSlotName>(ATTENTION_SLOTS);
/** Slot index of each rotary field. */
export const RotarySlot = indexOf<RotarySlotName>(ROTARY_SLOTS);
export const ATTENTION_SLOT_COUNT = ATTENTION_SLOTS.length;
export const ROTARY_SLOT_COUNT = ROTARY_SLOTS.length;

/** maskKind slot values. */
export const MaskKind = { none: 0, bool: 1, additive: 2 } as const;
export type AttentionMaskKind = keyof typeof MaskKind;

/**
 * The attention problem: what every backend's kernels and the js reference
 * take. M is how the mask and the ALiBi slopes are held: Tensor for the
 * kernels (src/backend/kernels.ts), typed arrays for the reference.
 * Field names are the slot names; maskStrides fills the four mask-stride slots.
 */
export interface AttentionProblem<M> {
  batch: number;
  numHeads: number;
  numKvHeads: number;
  queryLength: number;
  keyLength: number;
  /** Rows allocated per (batch, kv head) in k and v, ≥ keyLength. */
  keyCapacity: number;
  headDim: number;
  scale: number;
  /** Bottom-right aligned: query row i sees keys j ≤ i + Nk − Nq. */
  causal: boolean;
  /** Keys j with i' − windowLeft ≤ j ≤ i' + windowRight (i' = i + Nk − Nq); −1 = unbounded. */
  windowLeft: number;
  windowRight: number;
  /** s → c·tanh(s/c); 0 = off. */
  softcap: number;
  dropoutP: number;
  dropoutSeed: number;
  /** bool keep-mask or float additive mask, read with maskStrides over (b, h, i, j); null = none. */
  mask: M | null;
  maskKind: AttentionMaskKind;
  maskStrides: readonly [number, number, number, number];
  /** float [H] or null. */
  alibiSlopes: M | null;
  /**
   * Layout of q, k, v, the output and their gradients: 'bhnd' (the default)
   * [B, H, N, D], or 'bnhd' [B, N, H, D] — a projection's output split into
   * heads by a reshape alone (no permute copies). The log-sum-exp, the
   * weights and the mask stay [B, H, Nq, ·]. A backend gets 'bnhd' only if it
   * lists it in Backend.attentionLayouts; src/ops/attention.ts permutes otherwise.
   */
  layout?: AttentionLayout;
}

/** Memory layouts of attention's q, k, v (see AttentionProblem.layout). */
export type AttentionLayout = 'bhnd' | 'bnhd';

/** Tile sizes and the decode split: the settings part of the block (chosen per shape by src/autotune). */
export interface AttentionTileSettings {
  blockRows: number;
  blockCols: number;
  decodeSplits: number;
}

/** Rotary position embedding over x [B, H, N, D]; cos/sin tables are [maxPositions, rotaryDim/2]. */
export interface RotaryProblem {
  batch: number;
  numHeads: number;
  seqLength: number;
  headDim: number;
  rotaryDim: number;
  interleaved: boolean;
  positionOffset: number;
  /** The backward: rotate by −θ. */
  inverse: boolean;
}

type OffsetSlotName = Extract<(typeof ATTENTION_SLOTS)[number], { type: 'offset' }>['name'];

/** Byte offsets of the tensors (and scratch) a kernel call uses; the rest of the block comes from the problem. */
export type AttentionOffsets = Partial<Record<OffsetSlotName | 'scratchStride', number>>;

/**
 * The slot values of an attention call, by slot name: the problem's fields,
 * the tensors' byte offsets and the tile settings. Booleans become 0/1.
 */
export function attentionSlotValues(
  p: AttentionProblem<unknown>,
  offsets: AttentionOffsets,
  settings: AttentionTileSettings,
): Partial<Record<AttentionSlotName, number>> {
  const [maskStrideBatch, maskStrideHead, maskStrideQuery, maskStrideKey] = p.maskStrides;
  return {
    ...offsets,
    batch: p.batch,
    numHeads: p.numHeads,
    numKvHeads: p.numKvHeads,
    queryLength: p.queryLength,
    keyLength: p.keyLength,
    keyCapacity: p.keyCapacity,
    headDim: p.headDim,
    maskKind: p.mask === null ? MaskKind.none : MaskKind[p.maskKind],
    maskStrideBatch,
    maskStrideHead,
    maskStrideQuery,
    maskStrideKey,
    causal: p.causal ? 1 : 0,
    windowLeft: p.windowLeft,
    windowRight: p.windowRight,
    scale: p.scale,
    softcap: p.softcap,
    dropoutP: p.dropoutP,
    dropoutSeed: p.dropoutSeed >>> 0,
    blockRows: settings.blockRows,
    blockCols: settings.blockCols,
    decodeSplits: settings.decodeSplits,
  };
}

/**
 * Writes slot values into a block of `count` slots at byte offset `ptr` of
 * `buffer` (count ≥ the schema's: a backend may append slots of its own).
 * Slots not given are 0.
 */
export function writeSlots<N extends string>(
  buffer: ArrayBufferLike,
  ptr: number,
  slots: readonly { readonly name: N; readonly type: SlotType }[],
  count: number,
  values: Partial<Record<N, number>>,
): void {
  const i32 = new Int32Array(buffer, ptr, count);
  const f32 = new Float32Array(buffer, ptr, count);
  i32.fill(0);
  for (let i = 0; i < slots.length; i++) {
    const { name, type } = slots[i];
    const value = values[name];
    if (value === undefined) continue;
    if (type === 'f32') f32[i] = value;
    else i32[i] = value | 0;
  }
}

/** Reads a block back by slot name (tests, diagnostics). */
export function readSlots<N extends string>(
  buffer: ArrayBufferLike,
  ptr: number,
  slots: readonly { readonly name: N; readonly type: SlotType }[],
): Record<N, number> {
  const i32 = new Int32Array(buffer, ptr, slots.length);
  const f32 = new Float32Array(buffer, ptr, slots.length);
  const out = {} as Record<N, number>;
  slots.forEach(({ name, type }, i) => {
    out[name] = type === 'f32' ? f32[i] : type === 'i32' ? i32[i] : i32[i] >>> 0;
  });
  return out;
}

/** The AssemblyScript / C constant name of a slot: A_KEY_CAPACITY, R_TABLE_STRIDE. */
export function slotConstantName(prefix: 'A' | 'R', name: string): string {
  return `${prefix}_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}
