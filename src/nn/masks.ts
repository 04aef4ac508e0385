// Attention masks. Convention (DESIGN.md): bool true = attend, or an additive
// float mask. A key-padding mask is bool [B, Nk], true at real tokens and
// false at padding.

import { tensor } from '../tensor/create.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Checks a key-padding mask and views it as [B, 1, 1, Nk]. */
export function checkKeyPaddingMask(mask: Tensor, batch: number, keyLength: number, where: string): void {
  if (mask.dtype !== 'bool' || mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== keyLength) {
    throw new Error(
      `${where}: keyPaddingMask must be bool [batch, keys] = [${batch}, ${keyLength}] (true = real token), got ${mask.dtype} ${formatShape(mask.shape)}`,
    );
  }
}

/**
 * One mask broadcastable to [B, H, Nq, Nk] from an optional attention mask
 * (any shape broadcastable to [B, H, Nq, Nk]) and an optional key-padding
 * mask [B, Nk]. Two masks are merged into a [B, 1 or H, Nq, Nk] tensor:
 * bool when the attention mask is bool (logical and), else additive float.
 */
export function combineMasks(
  mask: Tensor | undefined,
  keyPadding: Tensor | undefined,
  shape: { batch: number; numHeads: number; queryLength: number; keyLength: number },
): Tensor | undefined {
  if (!keyPadding) return mask;
  const { batch: B, queryLength: Nq, keyLength: Nk } = shape;
  const padding = keyPadding.view();
  if (!mask) return keyPadding.reshapeView([B, 1, 1, Nk]);
  const dims = [...new Array(Math.max(0, 4 - mask.rank)).fill(1), ...mask.shape] as number[];
  const H = dims[1] === 1 ? 1 : shape.numHeads;
  const full = [B, shape.numHeads, Nq, Nk];
  if (mask.rank > 4 || dims.some((d, i) => d !== 1 && d !== full[i])) {
    throw new Error(`attention: mask ${formatShape(mask.shape)} does not broadcast to [B, H, Nq, Nk] = ${formatShape(full)}`);
  }
  const strides = [0, 0, 0, 0];
  for (let i = 3, s = 1; i >= 0; i--) {
    strides[i] = dims[i] === 1 ? 0 : s;
    s *= dims[i] as number;
  }
  const m = mask.view();
  const isBool = mask.dtype === 'bool';
  const out = new (isBool ? Uint8Array : Float64Array)(B * H * Nq * Nk);
  let o = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Nq; i++)
        for (let j = 0; j < Nk; j++, o++) {
          const value = m[b * strides[0] + h * strides[1] + i * strides[2] + j * strides[3]] as number;
          const keep = padding[b * Nk + j] !== 0;
          out[o] = isBool ? (keep && value !== 0 ? 1 : 0) : keep ? value : Number.NEGATIVE_INFINITY;
        }
  return tensor(isBool ? out : out, [B, H, Nq, Nk], isBool ? 'bool' : mask.dtype);
}
