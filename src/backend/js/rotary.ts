// The readable reference for rotary position embeddings (RoPE) over
// x [B, H, N, D]. Row (b, h, n) sits at position pos = positions[b][n] (or
// positions[n], or positionOffset + n) and each pair of its first rotaryDim
// dims is rotated by the angle pos·θ_k, θ_k = base^(−2k / rotaryDim):
//   rotate-half (GPT-NeoX, Llama; default): pairs (k, k + rotaryDim/2)
//   interleaved (GPT-J):                    pairs (2k, 2k + 1)
//   y₁ = x₁·cos − x₂·sin,  y₂ = x₂·cos + x₁·sin
// Dims from rotaryDim on pass through. The backward rotates by −θ.

import type { FloatArray } from './attention.js';

export interface RotaryTables<T extends FloatArray> {
  /** [maxPositions, rotaryDim/2]: cos(pos·θ_k) */
  cos: T;
  /** [maxPositions, rotaryDim/2]: sin(pos·θ_k) */
  sin: T;
}

/** cos/sin of pos·θ_k for pos < maxPositions, k < rotaryDim/2, computed in float64. */
export function rotaryTables(
  maxPositions: number,
  rotaryDim: number,
  options: { base?: number; float64?: boolean } = {},
): RotaryTables<FloatArray> {
  if (rotaryDim % 2 !== 0) throw new Error(`rotary: rotaryDim must be even, got ${rotaryDim}`);
  const base = options.base ?? 10000;
  const half = rotaryDim / 2;
  const make = (n: number): FloatArray => (options.float64 ? new Float64Array(n) : new Float32Array(n));
  const cos = make(maxPositions * half);
  const sin = make(maxPositions * half);
  for (let pos = 0; pos < maxPositions; pos++) {
    for (let k = 0; k < half; k++) {
      const angle = pos * base ** ((-2 * k) / rotaryDim);
      cos[pos * half + k] = Math.cos(angle);
      sin[pos * half + k] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

export interface RotaryArgs<T extends FloatArray> extends RotaryTables<T> {
  /** [B, H, N, D] (the gradient of the output, for the backward) */
  input: T;
  batch: number;
  numHeads: number;
  seqLength: number;
  headDim: number;
  /** Even, ≤ headDim; default headDim. */
  rotaryDim?: number;
  /** GPT-J pairs (2k, 2k+1) instead of rotate-half (k, k + rotaryDim/2). */
  interleaved?: boolean;
  /** Position of row n is positionOffset + n (decode: the cache length so far); default 0. */
  positionOffset?: number;
  /** Explicit positions, [N] or [B, N]; overrides positionOffset. */
  positions?: Int32Array;
}

function rotate<T extends FloatArray>(args: RotaryArgs<T>, direction: 1 | -1): T {
  const { input, batch: B, numHeads: H, seqLength: N, headDim: D } = args;
  const rotaryDim = args.rotaryDim ?? D;
  if (rotaryDim % 2 !== 0 || rotaryDim > D) throw new Error(`rotary: rotaryDim must be even and ≤ headDim ${D}, got ${rotaryDim}`);
  const half = rotaryDim / 2;
  const out = (input instanceof Float64Array ? new Float64Array(input.length) : new Float32Array(input.length)) as T;
  out.set(input);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let n = 0; n < N; n++) {
        const pos = args.positions ? args.positions[args.positions.length === N ? n : b * N + n] : (args.positionOffset ?? 0) + n;
        const row = ((b * H + h) * N + n) * D;
        for (let k = 0; k < half; k++) {
          const c = args.cos[pos * half + k];
          const s = direction * args.sin[pos * half + k];
          const [i1, i2] = args.interleaved ? [2 * k, 2 * k + 1] : [k, k + half];
          const x1 = input[row + i1];
          const x2 = input[row + i2];
          out[row + i1] = x1 * c - x2 * s;
          out[row + i2] = x2 * c + x1 * s;
        }
      }
    }
  }
  return out;
}

/** y = RoPE(x). */
export function applyRotaryReference<T extends FloatArray>(args: RotaryArgs<T>): T {
  return rotate(args, 1);
}

/** dx from dy (args.input = dy): the rotation by −θ. */
export function applyRotaryBackwardReference<T extends FloatArray>(args: RotaryArgs<T>): T {
  return rotate(args, -1);
}
