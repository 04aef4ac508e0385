// The wasm backend's params blocks: the schema's slots (src/backend/attention-schema.ts)
// followed by the dense strides the AssemblyScript kernels read (they take
// strided tensors; the schema leaves always-dense strides out, so this
// backend derives them from the shape and appends them). One pass writes a
// block. renderAssemblyParams() generates assembly/attention-params.ts from
// the same lists: scripts/build-wasm.mjs writes it before compiling, and
// test/backend/attention-schema.test.ts checks the file is current.

import type { Tensor } from '../../tensor/tensor.js';
import {
  ATTENTION_SLOTS,
  type AttentionLayout,
  type AttentionOffsets,
  type AttentionProblem,
  type AttentionSlotName,
  type AttentionTileSettings,
  attentionSlotValues,
  MaskKind,
  ROTARY_SLOTS,
  type RotarySlotName,
  type SlotSpec,
  slotConstantName,
  writeSlots,
} from '../attention-schema.js';

/** The (batch, head, row) element strides appended after the attention schema's slots, in this order. */
const ATTENTION_STRIDED = ['query', 'key', 'value', 'output', 'gradOutput', 'gradQuery', 'gradKey', 'gradValue'] as const;
/** The same for rotary. */
const ROTARY_STRIDED = ['input', 'output'] as const;
const AXES = ['Batch', 'Head', 'Row'] as const;

function strideSlots(tensors: readonly string[]): SlotSpec[] {
  return tensors.flatMap((t) =>
    AXES.map((axis) => ({ name: `${t}Stride${axis}`, type: 'i32' as const, doc: `element stride of ${t} over ${axis.toLowerCase()}` })),
  );
}

export const WASM_ATTENTION_SLOTS: readonly SlotSpec[] = [...ATTENTION_SLOTS, ...strideSlots(ATTENTION_STRIDED)];
export const WASM_ROTARY_SLOTS: readonly SlotSpec[] = [...ROTARY_SLOTS, ...strideSlots(ROTARY_STRIDED)];
export const ATTENTION_PARAMS_BYTES = WASM_ATTENTION_SLOTS.length * 4;
export const ROTARY_PARAMS_BYTES = WASM_ROTARY_SLOTS.length * 4;

/** Dense (batch, head, row) strides of [B, heads, rows, D]. */
function dense(heads: number, rows: number, D: number): [number, number, number] {
  return [heads * rows * D, rows * D, D];
}

/** (batch, head, row) strides of q-like or k-like tensors in the problem's layout ('bnhd': [B, rows, heads, D]). */
function layoutStrides(layout: AttentionLayout | undefined, heads: number, rows: number, D: number): [number, number, number] {
  return layout === 'bnhd' ? [rows * heads * D, D, heads * D] : dense(heads, rows, D);
}

function stridedValues(tensors: readonly string[], stridesOf: (t: string) => readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tensors) {
    const s = stridesOf(t);
    AXES.forEach((axis, i) => {
      out[`${t}Stride${axis}`] = s[i];
    });
  }
  return out;
}

/** Writes the whole attention block of one call at byte offset ptr (the mask and ALiBi slopes from p's tensors). */
export function writeAttentionBlock(
  buffer: ArrayBufferLike,
  ptr: number,
  p: AttentionProblem<Tensor>,
  offsets: AttentionOffsets,
  settings: AttentionTileSettings,
): void {
  const queryLike = layoutStrides(p.layout, p.numHeads, p.queryLength, p.headDim);
  const keyLike = layoutStrides(p.layout, p.numKvHeads, p.keyCapacity, p.headDim);
  const strides = stridedValues(ATTENTION_STRIDED, (t) =>
    t === 'key' || t === 'value' || t === 'gradKey' || t === 'gradValue' ? keyLike : queryLike,
  );
  const tensors = { mask: p.mask ? p.mask.ptr : 0, alibiSlopes: p.alibiSlopes ? p.alibiSlopes.ptr : 0 };
  const values: Record<string, number> = { ...attentionSlotValues(p, { ...tensors, ...offsets }, settings), ...strides };
  writeSlots(buffer, ptr, WASM_ATTENTION_SLOTS, WASM_ATTENTION_SLOTS.length, values);
}

/** Writes the rotary block at byte offset ptr: the schema's values plus the dense strides of [B, H, N, D]. */
export function writeRotaryBlock(buffer: ArrayBufferLike, ptr: number, values: Record<RotarySlotName, number>): void {
  const s = dense(values.numHeads, values.seqLength, values.headDim);
  writeSlots(buffer, ptr, WASM_ROTARY_SLOTS, WASM_ROTARY_SLOTS.length, { ...values, ...stridedValues(ROTARY_STRIDED, () => s) });
}

/** Index of a slot in the wasm attention block (schema slots keep their schema index). */
export function wasmAttentionSlot(name: AttentionSlotName | string): number {
  const i = WASM_ATTENTION_SLOTS.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`attention params: no slot named '${name}'`);
  return i;
}

// ---------------------------------------------------------------------------
// assembly/attention-params.ts, generated
// ---------------------------------------------------------------------------

function constants(prefix: 'A' | 'R', slots: readonly SlotSpec[], countName: string): string[] {
  return [
    ...slots.map((s, i) => `export const ${slotConstantName(prefix, s.name)}: i32 = ${i}; // ${s.type}: ${s.doc}`),
    `export const ${countName}: i32 = ${slots.length};`,
  ];
}

function layoutWriter(fn: string, prefix: 'A' | 'R', slots: readonly SlotSpec[], countName: string): string[] {
  return [
    `/** Self-check: stores the slot indices, in the schema's order, at out; returns their count. */`,
    `export function ${fn}(out: usize): i32 {`,
    ...slots.map((s, i) => `  store<i32>(out, ${slotConstantName(prefix, s.name)}, ${4 * i});`),
    `  return ${countName};`,
    '}',
  ];
}

/** The text of assembly/attention-params.ts. */
export function renderAssemblyParams(): string {
  const lines = [
    '// GENERATED by scripts/build-wasm.mjs from src/backend/attention-schema.ts and',
    '// src/backend/wasm/attention-params.ts: do not edit (test/backend/attention-schema.test.ts',
    '// checks it is current). Slot i of a params block is 4 bytes at params + 4·i.',
    '',
    ...constants('A', WASM_ATTENTION_SLOTS, 'ATTENTION_PARAMS_COUNT'),
    '',
    ...constants('R', WASM_ROTARY_SLOTS, 'ROTARY_PARAMS_COUNT'),
    '',
    ...Object.entries(MaskKind).map(([kind, value]) => `export const MASK_${kind.toUpperCase()}: i32 = ${value};`),
    '',
    ...layoutWriter('writeAttentionLayout', 'A', WASM_ATTENTION_SLOTS, 'ATTENTION_PARAMS_COUNT'),
    '',
    ...layoutWriter('writeRotaryLayout', 'R', WASM_ROTARY_SLOTS, 'ROTARY_PARAMS_COUNT'),
    '',
    '// @ts-ignore: decorator',
    '@inline export function paramI32(p: usize, field: i32): i32 {',
    '  return load<i32>(p + (<usize>field << 2));',
    '}',
    '',
    '// @ts-ignore: decorator',
    '@inline export function paramF32(p: usize, field: i32): f32 {',
    '  return load<f32>(p + (<usize>field << 2));',
    '}',
    '',
    '// @ts-ignore: decorator',
    '@inline export function paramPtr(p: usize, field: i32): usize {',
    '  return <usize>load<u32>(p + (<usize>field << 2));',
    '}',
    '',
  ];
  return lines.join('\n');
}
