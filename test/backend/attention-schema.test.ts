// The one schema of the attention / rotary parameters
// (src/backend/attention-schema.ts): the generated AssemblyScript mirror is
// current, the compiled kernels agree on every slot index, and the block
// writer puts each field where the schema says.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ATTENTION_SLOT_COUNT,
  ATTENTION_SLOTS,
  type AttentionProblem,
  AttentionSlot,
  MaskKind,
  ROTARY_SLOTS,
  RotarySlot,
  readSlots,
  slotConstantName,
} from '../../src/backend/attention-schema.ts';
import {
  renderAssemblyParams,
  WASM_ATTENTION_SLOTS,
  WASM_ROTARY_SLOTS,
  writeAttentionBlock,
} from '../../src/backend/wasm/attention-params.ts';
import { WasmBackend } from '../../src/backend/wasm/index.ts';
import * as at from '../../src/index.ts';

function wasmBackend(): WasmBackend {
  const backend = at.withBackend('wasm', at.getBackend);
  assert.ok(backend instanceof WasmBackend, `expected the wasm backend, got ${backend.name}`);
  return backend;
}

describe('attention schema', () => {
  it('assembly/attention-params.ts is what the schema generates (run node scripts/build-wasm.mjs after changing it)', () => {
    assert.equal(readFileSync('assembly/attention-params.ts', 'utf8'), renderAssemblyParams());
  });

  it('the wasm block starts with the schema slots in schema order, then only its own dense strides', () => {
    assert.deepEqual(
      WASM_ATTENTION_SLOTS.slice(0, ATTENTION_SLOT_COUNT).map((s) => s.name),
      ATTENTION_SLOTS.map((s) => s.name),
    );
    assert.deepEqual(
      WASM_ROTARY_SLOTS.slice(0, ROTARY_SLOTS.length).map((s) => s.name),
      ROTARY_SLOTS.map((s) => s.name),
    );
    for (const s of WASM_ATTENTION_SLOTS.slice(ATTENTION_SLOT_COUNT)) assert.match(s.name, /Stride(Batch|Head|Row)$/);
    assert.equal(slotConstantName('A', 'keyCapacity'), 'A_KEY_CAPACITY');
    assert.equal(slotConstantName('R', 'positionsStrideBatch'), 'R_POSITIONS_STRIDE_BATCH');
  });

  it('the compiled kernels read every slot at the index the schema gives (layout self-check)', () => {
    const ctx = wasmBackend().context;
    for (const [fn, slots] of [
      ['attentionParamsLayout', WASM_ATTENTION_SLOTS],
      ['rotaryParamsLayout', WASM_ROTARY_SLOTS],
    ] as const) {
      const out = ctx.block('layoutTest', slots.length * 4);
      const count = ctx.wasm.exports[fn](out);
      assert.equal(count, slots.length, `${fn}: the wasm was built from a schema with ${count} slots, the source has ${slots.length}`);
      const indices = Array.from(new Int32Array(ctx.buffer(), out, count));
      assert.deepEqual(
        indices,
        slots.map((_, i) => i),
        fn,
      );
    }
  });

  it('writeAttentionBlock puts every field in its slot, floats as f32, and dense strides from the shape', () => {
    const p: AttentionProblem<at.Tensor> = {
      batch: 2,
      numHeads: 6,
      numKvHeads: 3,
      queryLength: 5,
      keyLength: 7,
      keyCapacity: 9,
      headDim: 4,
      scale: 0.375,
      causal: true,
      windowLeft: -1,
      windowRight: 3,
      softcap: 2.5,
      dropoutP: 0.25,
      dropoutSeed: 0xfffffffe,
      mask: null,
      maskKind: 'none',
      maskStrides: [0, 0, 0, 0],
      alibiSlopes: null,
    };
    const buffer = new ArrayBuffer(WASM_ATTENTION_SLOTS.length * 4 + 8);
    writeAttentionBlock(buffer, 8, p, { query: 64, key: 128, output: 256 }, { blockRows: 32, blockCols: 48, decodeSplits: 2 });
    const got = readSlots(buffer, 8, WASM_ATTENTION_SLOTS);
    const expected: Record<string, number> = {
      query: 64,
      key: 128,
      value: 0,
      output: 256,
      batch: 2,
      numHeads: 6,
      numKvHeads: 3,
      queryLength: 5,
      keyLength: 7,
      keyCapacity: 9,
      headDim: 4,
      maskKind: MaskKind.none,
      causal: 1,
      windowLeft: -1,
      windowRight: 3,
      scale: 0.375,
      softcap: 2.5,
      dropoutP: 0.25,
      dropoutSeed: 0xfffffffe,
      blockRows: 32,
      blockCols: 48,
      decodeSplits: 2,
      queryStrideBatch: 6 * 5 * 4,
      queryStrideRow: 4,
      keyStrideBatch: 3 * 9 * 4,
      keyStrideHead: 9 * 4,
      gradValueStrideHead: 9 * 4,
      gradOutputStrideHead: 5 * 4,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(got[name], value, name);
    assert.equal(
      AttentionSlot.keyCapacity,
      ATTENTION_SLOTS.findIndex((s) => s.name === 'keyCapacity'),
    );
    assert.equal(RotarySlot.tableStride, ROTARY_SLOTS.length - 1);
  });
});
