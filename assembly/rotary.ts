// Rotary position embedding (RoPE) over x [B, H, N, D], params block layout in
// src/backend/wasm/attention-params.ts (RotaryParam). Row (b, h, n) at
// position pos = positions ? positions[b][n] : positionOffset + n is rotated
// pair by pair by the angles pos·θ_k whose cos/sin the caller tabulates
// (cos[pos][k], sin[pos][k], k < rotaryDim/2):
//   rotate-half (GPT-NeoX, Llama): pairs (k, k + rotaryDim/2)
//   interleaved (GPT-J):           pairs (2k, 2k + 1)
//   y₁ = x₁·cos − x₂·sin,  y₂ = x₂·cos + x₁·sin;  dims ≥ rotaryDim pass through.
// The backward is the rotation by −θ (a rotation's transpose is its inverse):
//   dx₁ = dy₁·cos + dy₂·sin,  dx₂ = dy₂·cos − dy₁·sin.
// In place (output == input) is allowed. Rows split over threads.
import {
  paramI32,
  paramPtr,
  R_BATCH,
  R_COS,
  R_HEAD_DIM,
  R_INPUT,
  R_INPUT_STRIDE_BATCH,
  R_INTERLEAVED,
  R_NUM_HEADS,
  R_OUTPUT,
  R_OUTPUT_STRIDE_BATCH,
  R_POSITION_OFFSET,
  R_POSITIONS,
  R_POSITIONS_STRIDE_BATCH,
  R_ROTARY_DIM,
  R_SEQ_LENGTH,
  R_SIN,
  R_TABLE_STRIDE,
  writeRotaryLayout,
} from './attention-params';
import { fma, shareStart } from './simd';

/** Self-check: writes the rotary field indices in the order of src/backend/wasm/attention-params.ts; returns their count. */
export function rotaryParamsLayout(out: usize): i32 {
  return writeRotaryLayout(out);
}

export function applyRotary(p: usize, tid: i32, nthreads: i32): void {
  rotate(p, tid, nthreads, 1);
}

/** The gradient of applyRotary: dx from dy (params.input = dy, params.output = dx). */
export function applyRotaryBackward(p: usize, tid: i32, nthreads: i32): void {
  rotate(p, tid, nthreads, -1);
}

// @ts-ignore: decorator
@inline function rowAddress(p: usize, tensor: i32, strideBatch: i32, b: i32, h: i32, n: i32): usize {
  const off = <usize>paramI32(p, strideBatch) * b + <usize>paramI32(p, strideBatch + 1) * h + <usize>paramI32(p, strideBatch + 2) * n;
  return paramPtr(p, tensor) + (off << 2);
}

function rotate(p: usize, tid: i32, nthreads: i32, direction: f32): void {
  const H = paramI32(p, R_NUM_HEADS);
  const N = paramI32(p, R_SEQ_LENGTH);
  const D = paramI32(p, R_HEAD_DIM);
  const half = paramI32(p, R_ROTARY_DIM) >> 1;
  const interleaved = paramI32(p, R_INTERLEAVED) != 0;
  const positions = paramPtr(p, R_POSITIONS);
  const cosTable = paramPtr(p, R_COS);
  const sinTable = paramPtr(p, R_SIN);
  const ldt = <usize>paramI32(p, R_TABLE_STRIDE) << 2;
  const rows = paramI32(p, R_BATCH) * H * N;
  const end = shareStart(rows, tid + 1, nthreads);
  const dir = f32x4.splat(direction);
  for (let row = shareStart(rows, tid, nthreads); row < end; row++) {
    const n = row % N;
    const h = (row / N) % H;
    const b = row / (H * N);
    const pos = positions ? load<i32>(positions + (<usize>(b * paramI32(p, R_POSITIONS_STRIDE_BATCH) + n) << 2)) : paramI32(p, R_POSITION_OFFSET) + n;
    const c = cosTable + <usize>pos * ldt;
    const s = sinTable + <usize>pos * ldt;
    const x = rowAddress(p, R_INPUT, R_INPUT_STRIDE_BATCH, b, h, n);
    const y = rowAddress(p, R_OUTPUT, R_OUTPUT_STRIDE_BATCH, b, h, n);
    let k = 0;
    if (!interleaved) {
      const x2 = x + (<usize>half << 2);
      const y2 = y + (<usize>half << 2);
      for (; k + 4 <= half; k += 4) {
        const o = <usize>k << 2;
        const cv = v128.load(c + o);
        const sv = f32x4.mul(v128.load(s + o), dir);
        const a = v128.load(x + o);
        const bb = v128.load(x2 + o);
        v128.store(y + o, fma(f32x4.neg(bb), sv, f32x4.mul(a, cv)));
        v128.store(y2 + o, fma(a, sv, f32x4.mul(bb, cv)));
      }
      for (; k < half; k++) {
        const o = <usize>k << 2;
        const cv = load<f32>(c + o);
        const sv = direction * load<f32>(s + o);
        const a = load<f32>(x + o);
        const bb = load<f32>(x2 + o);
        store<f32>(y + o, a * cv - bb * sv);
        store<f32>(y2 + o, bb * cv + a * sv);
      }
    } else {
      // two pairs per vector: [x0, x1, x2, x3]·[c0, c0, c1, c1] + [x1, x0, x3, x2]·[−s0, s0, −s1, s1]
      const sign = f32x4.mul(f32x4(-1, 1, -1, 1), dir);
      for (; k + 2 <= half; k += 2) {
        const xv = v128.load(x + (<usize>k << 3));
        const cv = i32x4.shuffle(v128.load64_zero(c + (<usize>k << 2)), v128.load64_zero(c + (<usize>k << 2)), 0, 0, 1, 1);
        const sraw = v128.load64_zero(s + (<usize>k << 2));
        const sv = f32x4.mul(i32x4.shuffle(sraw, sraw, 0, 0, 1, 1), sign);
        v128.store(y + (<usize>k << 3), fma(i32x4.shuffle(xv, xv, 1, 0, 3, 2), sv, f32x4.mul(xv, cv)));
      }
      for (; k < half; k++) {
        const o = <usize>k << 3;
        const cv = load<f32>(c + (<usize>k << 2));
        const sv = direction * load<f32>(s + (<usize>k << 2));
        const a = load<f32>(x + o);
        const bb = load<f32>(x + o, 4);
        store<f32>(y + o, a * cv - bb * sv);
        store<f32>(y + o, bb * cv + a * sv, 4);
      }
    }
    if (x != y) {
      for (let d = half << 1; d < D; d++) store<f32>(y + (<usize>d << 2), load<f32>(x + (<usize>d << 2)));
    }
  }
}
