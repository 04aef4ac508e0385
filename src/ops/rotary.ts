// Rotary position embeddings (RoPE, Su et al.) over x [B, H, N, D]: each pair
// of the first rotaryDim dims of row n turns by pos·θ_k, θ_k = base^(−2k/rotaryDim).
//   backward: the same rotation by −θ (a rotation's transpose is its inverse)

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import type { DType } from '../tensor/dtype.js';
import { keep } from '../tensor/scope.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions, optionKeys } from './checks.js';

export interface RotaryOptions {
  /** Default 10000. */
  base?: number;
  /** Rotated dims (even, ≤ headDim); the rest pass through. Default headDim. */
  rotaryDim?: number;
  /** GPT-J pairs (2k, 2k+1) instead of rotate-half (k, k + rotaryDim/2; GPT-NeoX, Llama). */
  interleaved?: boolean;
  /** Position of row n is positionOffset + n (decoding: the cache length). Default 0. */
  positionOffset?: number;
  /** Explicit int32 positions, [N] or [B, N]; overrides positionOffset. */
  positions?: Tensor;
}

const KEYS = optionKeys<RotaryOptions>({ base: true, rotaryDim: true, interleaved: true, positionOffset: true, positions: true });

const tables = new Map<string, { cos: Tensor; sin: Tensor; maxPositions: number }>();

/** cos/sin tables [maxPositions, rotaryDim/2], computed in float64 and cached (grown by doubling). */
function rotaryTables(needed: number, rotaryDim: number, base: number, dtype: DType): { cos: Tensor; sin: Tensor } {
  const key = `${rotaryDim}:${base}:${dtype}`;
  const cached = tables.get(key);
  if (cached && cached.maxPositions >= needed) return cached;
  const maxPositions = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(needed, 1))));
  const half = rotaryDim / 2;
  const cos = keep(Tensor.empty([maxPositions, half], dtype));
  const sin = keep(Tensor.empty([maxPositions, half], dtype));
  const C = cos.view();
  const S = sin.view();
  for (let pos = 0; pos < maxPositions; pos++) {
    for (let k = 0; k < half; k++) {
      const angle = pos * base ** ((-2 * k) / rotaryDim);
      C[pos * half + k] = Math.cos(angle);
      S[pos * half + k] = Math.sin(angle);
    }
  }
  // A smaller table stays alive: a pending backward may still read it.
  const entry = { cos, sin, maxPositions };
  tables.set(key, entry);
  return entry;
}

export function applyRotary(x: Tensor, options: RotaryOptions = {}): Tensor {
  checkOptions('applyRotary', options, KEYS);
  checkInputs('applyRotary', { x });
  if (x.rank !== 4) throw new Error(`applyRotary: x must be [batch, heads, seq, headDim], got ${formatShape(x.shape)}`);
  const [B, H, N, D] = x.shape;
  const rotaryDim = options.rotaryDim ?? D;
  if (rotaryDim % 2 !== 0 || rotaryDim > D || rotaryDim <= 0) {
    throw new Error(`applyRotary: rotaryDim must be even and in [2, headDim ${D}], got ${rotaryDim}`);
  }
  const positions = options.positions ?? null;
  let maxPosition = (options.positionOffset ?? 0) + N - 1;
  if (positions) {
    checkInputs('applyRotary', { positions }, ['int32']);
    if (positions.size !== N && positions.size !== B * N) {
      throw new Error(`applyRotary: positions ${formatShape(positions.shape)} must be [${N}] or [${B}, ${N}]`);
    }
    const v = positions.view();
    maxPosition = 0;
    for (let i = 0; i < v.length; i++) {
      if (v[i] < 0) throw new Error(`applyRotary: position ${v[i]} at index ${i} is negative`);
      maxPosition = Math.max(maxPosition, v[i]);
    }
  }
  const { cos, sin } = rotaryTables(maxPosition + 1, rotaryDim, options.base ?? 10000, x.dtype);
  const p = {
    batch: B,
    numHeads: H,
    seqLength: N,
    headDim: D,
    rotaryDim,
    interleaved: options.interleaved ?? false,
    positionOffset: options.positionOffset ?? 0,
    inverse: false,
  };
  const y = Tensor.empty(x.shape, x.dtype);
  kernelFor('rotary', [x])(x, y, cos, sin, positions, p);
  return record(
    'applyRotary',
    [x],
    y,
    (dy) => {
      const dx = Tensor.empty(x.shape, x.dtype);
      kernelFor('rotary', [dy])(dy, dx, cos, sin, positions, { ...p, inverse: true });
      return [dx];
    },
    [cos, sin, positions],
  );
}
