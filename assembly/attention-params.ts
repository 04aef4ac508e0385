// Field indices of the params blocks: mirrors src/backend/wasm/attention-params.ts
// (the TS file is the source of truth). writeAttentionLayout / writeRotaryLayout
// store these constants by name in the TS order; the exported self-checks
// attentionParamsLayout / rotaryParamsLayout call them so a test can compare.
// Slot i is 4 bytes at params + 4·i.

export const A_QUERY: i32 = 0;
export const A_KEY: i32 = 1;
export const A_VALUE: i32 = 2;
export const A_OUTPUT: i32 = 3;
export const A_LOG_SUM_EXP: i32 = 4;
export const A_GRAD_OUTPUT: i32 = 5;
export const A_GRAD_QUERY: i32 = 6;
export const A_GRAD_KEY: i32 = 7;
export const A_GRAD_VALUE: i32 = 8;
export const A_MASK: i32 = 9;
export const A_ALIBI_SLOPES: i32 = 10;
export const A_SCRATCH: i32 = 11;
export const A_SCRATCH_STRIDE: i32 = 12;
export const A_PARTIALS: i32 = 13;
export const A_WEIGHTS: i32 = 14;
export const A_BATCH: i32 = 15;
export const A_NUM_HEADS: i32 = 16;
export const A_NUM_KV_HEADS: i32 = 17;
export const A_QUERY_LENGTH: i32 = 18;
export const A_KEY_LENGTH: i32 = 19;
export const A_HEAD_DIM: i32 = 20;
export const A_QUERY_STRIDE_BATCH: i32 = 21;
export const A_QUERY_STRIDE_HEAD: i32 = 22;
export const A_QUERY_STRIDE_ROW: i32 = 23;
export const A_KEY_STRIDE_BATCH: i32 = 24;
export const A_KEY_STRIDE_HEAD: i32 = 25;
export const A_KEY_STRIDE_ROW: i32 = 26;
export const A_VALUE_STRIDE_BATCH: i32 = 27;
export const A_VALUE_STRIDE_HEAD: i32 = 28;
export const A_VALUE_STRIDE_ROW: i32 = 29;
export const A_OUTPUT_STRIDE_BATCH: i32 = 30;
export const A_OUTPUT_STRIDE_HEAD: i32 = 31;
export const A_OUTPUT_STRIDE_ROW: i32 = 32;
export const A_GRAD_OUTPUT_STRIDE_BATCH: i32 = 33;
export const A_GRAD_OUTPUT_STRIDE_HEAD: i32 = 34;
export const A_GRAD_OUTPUT_STRIDE_ROW: i32 = 35;
export const A_GRAD_QUERY_STRIDE_BATCH: i32 = 36;
export const A_GRAD_QUERY_STRIDE_HEAD: i32 = 37;
export const A_GRAD_QUERY_STRIDE_ROW: i32 = 38;
export const A_GRAD_KEY_STRIDE_BATCH: i32 = 39;
export const A_GRAD_KEY_STRIDE_HEAD: i32 = 40;
export const A_GRAD_KEY_STRIDE_ROW: i32 = 41;
export const A_GRAD_VALUE_STRIDE_BATCH: i32 = 42;
export const A_GRAD_VALUE_STRIDE_HEAD: i32 = 43;
export const A_GRAD_VALUE_STRIDE_ROW: i32 = 44;
export const A_MASK_KIND: i32 = 45;
export const A_MASK_STRIDE_BATCH: i32 = 46;
export const A_MASK_STRIDE_HEAD: i32 = 47;
export const A_MASK_STRIDE_QUERY: i32 = 48;
export const A_MASK_STRIDE_KEY: i32 = 49;
export const A_CAUSAL: i32 = 50;
export const A_WINDOW_LEFT: i32 = 51;
export const A_WINDOW_RIGHT: i32 = 52;
export const A_SCALE: i32 = 53;
export const A_SOFTCAP: i32 = 54;
export const A_DROPOUT_P: i32 = 55;
export const A_DROPOUT_SEED: i32 = 56;
export const A_BLOCK_ROWS: i32 = 57;
export const A_BLOCK_COLS: i32 = 58;
export const A_DECODE_SPLITS: i32 = 59;
export const ATTENTION_PARAMS_COUNT: i32 = 60;

export const R_INPUT: i32 = 0;
export const R_OUTPUT: i32 = 1;
export const R_COS: i32 = 2;
export const R_SIN: i32 = 3;
export const R_POSITIONS: i32 = 4;
export const R_BATCH: i32 = 5;
export const R_NUM_HEADS: i32 = 6;
export const R_SEQ_LENGTH: i32 = 7;
export const R_HEAD_DIM: i32 = 8;
export const R_ROTARY_DIM: i32 = 9;
export const R_INTERLEAVED: i32 = 10;
export const R_POSITION_OFFSET: i32 = 11;
export const R_POSITIONS_STRIDE_BATCH: i32 = 12;
export const R_TABLE_STRIDE: i32 = 13;
export const R_INPUT_STRIDE_BATCH: i32 = 14;
export const R_INPUT_STRIDE_HEAD: i32 = 15;
export const R_INPUT_STRIDE_ROW: i32 = 16;
export const R_OUTPUT_STRIDE_BATCH: i32 = 17;
export const R_OUTPUT_STRIDE_HEAD: i32 = 18;
export const R_OUTPUT_STRIDE_ROW: i32 = 19;
export const ROTARY_PARAMS_COUNT: i32 = 20;

export const MASK_NONE: i32 = 0;
export const MASK_BOOL: i32 = 1;
export const MASK_ADDITIVE: i32 = 2;

/** Stores the attention field indices, in the TS declaration order, at out; returns their count. */
export function writeAttentionLayout(out: usize): i32 {
  store<i32>(out, A_QUERY, 0);
  store<i32>(out, A_KEY, 4);
  store<i32>(out, A_VALUE, 8);
  store<i32>(out, A_OUTPUT, 12);
  store<i32>(out, A_LOG_SUM_EXP, 16);
  store<i32>(out, A_GRAD_OUTPUT, 20);
  store<i32>(out, A_GRAD_QUERY, 24);
  store<i32>(out, A_GRAD_KEY, 28);
  store<i32>(out, A_GRAD_VALUE, 32);
  store<i32>(out, A_MASK, 36);
  store<i32>(out, A_ALIBI_SLOPES, 40);
  store<i32>(out, A_SCRATCH, 44);
  store<i32>(out, A_SCRATCH_STRIDE, 48);
  store<i32>(out, A_PARTIALS, 52);
  store<i32>(out, A_WEIGHTS, 56);
  store<i32>(out, A_BATCH, 60);
  store<i32>(out, A_NUM_HEADS, 64);
  store<i32>(out, A_NUM_KV_HEADS, 68);
  store<i32>(out, A_QUERY_LENGTH, 72);
  store<i32>(out, A_KEY_LENGTH, 76);
  store<i32>(out, A_HEAD_DIM, 80);
  store<i32>(out, A_QUERY_STRIDE_BATCH, 84);
  store<i32>(out, A_QUERY_STRIDE_HEAD, 88);
  store<i32>(out, A_QUERY_STRIDE_ROW, 92);
  store<i32>(out, A_KEY_STRIDE_BATCH, 96);
  store<i32>(out, A_KEY_STRIDE_HEAD, 100);
  store<i32>(out, A_KEY_STRIDE_ROW, 104);
  store<i32>(out, A_VALUE_STRIDE_BATCH, 108);
  store<i32>(out, A_VALUE_STRIDE_HEAD, 112);
  store<i32>(out, A_VALUE_STRIDE_ROW, 116);
  store<i32>(out, A_OUTPUT_STRIDE_BATCH, 120);
  store<i32>(out, A_OUTPUT_STRIDE_HEAD, 124);
  store<i32>(out, A_OUTPUT_STRIDE_ROW, 128);
  store<i32>(out, A_GRAD_OUTPUT_STRIDE_BATCH, 132);
  store<i32>(out, A_GRAD_OUTPUT_STRIDE_HEAD, 136);
  store<i32>(out, A_GRAD_OUTPUT_STRIDE_ROW, 140);
  store<i32>(out, A_GRAD_QUERY_STRIDE_BATCH, 144);
  store<i32>(out, A_GRAD_QUERY_STRIDE_HEAD, 148);
  store<i32>(out, A_GRAD_QUERY_STRIDE_ROW, 152);
  store<i32>(out, A_GRAD_KEY_STRIDE_BATCH, 156);
  store<i32>(out, A_GRAD_KEY_STRIDE_HEAD, 160);
  store<i32>(out, A_GRAD_KEY_STRIDE_ROW, 164);
  store<i32>(out, A_GRAD_VALUE_STRIDE_BATCH, 168);
  store<i32>(out, A_GRAD_VALUE_STRIDE_HEAD, 172);
  store<i32>(out, A_GRAD_VALUE_STRIDE_ROW, 176);
  store<i32>(out, A_MASK_KIND, 180);
  store<i32>(out, A_MASK_STRIDE_BATCH, 184);
  store<i32>(out, A_MASK_STRIDE_HEAD, 188);
  store<i32>(out, A_MASK_STRIDE_QUERY, 192);
  store<i32>(out, A_MASK_STRIDE_KEY, 196);
  store<i32>(out, A_CAUSAL, 200);
  store<i32>(out, A_WINDOW_LEFT, 204);
  store<i32>(out, A_WINDOW_RIGHT, 208);
  store<i32>(out, A_SCALE, 212);
  store<i32>(out, A_SOFTCAP, 216);
  store<i32>(out, A_DROPOUT_P, 220);
  store<i32>(out, A_DROPOUT_SEED, 224);
  store<i32>(out, A_BLOCK_ROWS, 228);
  store<i32>(out, A_BLOCK_COLS, 232);
  store<i32>(out, A_DECODE_SPLITS, 236);
  return ATTENTION_PARAMS_COUNT;
}

/** Stores the rotary field indices, in the TS declaration order, at out; returns their count. */
export function writeRotaryLayout(out: usize): i32 {
  store<i32>(out, R_INPUT, 0);
  store<i32>(out, R_OUTPUT, 4);
  store<i32>(out, R_COS, 8);
  store<i32>(out, R_SIN, 12);
  store<i32>(out, R_POSITIONS, 16);
  store<i32>(out, R_BATCH, 20);
  store<i32>(out, R_NUM_HEADS, 24);
  store<i32>(out, R_SEQ_LENGTH, 28);
  store<i32>(out, R_HEAD_DIM, 32);
  store<i32>(out, R_ROTARY_DIM, 36);
  store<i32>(out, R_INTERLEAVED, 40);
  store<i32>(out, R_POSITION_OFFSET, 44);
  store<i32>(out, R_POSITIONS_STRIDE_BATCH, 48);
  store<i32>(out, R_TABLE_STRIDE, 52);
  store<i32>(out, R_INPUT_STRIDE_BATCH, 56);
  store<i32>(out, R_INPUT_STRIDE_HEAD, 60);
  store<i32>(out, R_INPUT_STRIDE_ROW, 64);
  store<i32>(out, R_OUTPUT_STRIDE_BATCH, 68);
  store<i32>(out, R_OUTPUT_STRIDE_HEAD, 72);
  store<i32>(out, R_OUTPUT_STRIDE_ROW, 76);
  return ROTARY_PARAMS_COUNT;
}

// @ts-ignore: decorator
@inline export function paramI32(p: usize, field: i32): i32 {
  return load<i32>(p + (<usize>field << 2));
}

// @ts-ignore: decorator
@inline export function paramF32(p: usize, field: i32): f32 {
  return load<f32>(p + (<usize>field << 2));
}

// @ts-ignore: decorator
@inline export function paramPtr(p: usize, field: i32): usize {
  return <usize>load<u32>(p + (<usize>field << 2));
}
