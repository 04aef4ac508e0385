// Global-norm gradient clipping (PyTorch's clip_grad_norm_): the L2 norm of
// all gradients together; when it exceeds maxNorm every gradient is scaled
// by maxNorm / (norm + 1e-6).

import type { Tensor } from '../tensor/tensor.js';

/** Clips in place and returns the norm before clipping (Infinity or NaN when a gradient is not finite; nothing is scaled then). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = gradNorm(params);
  if (!Number.isFinite(norm) || norm <= maxNorm) return norm;
  const scale = maxNorm / (norm + 1e-6);
  for (const p of params) {
    if (!p.grad) continue;
    const g = p.grad.view();
    for (let i = 0; i < g.length; i++) g[i] *= scale;
  }
  return norm;
}

/** The L2 norm of all gradients together, summed in float64. */
export function gradNorm(params: readonly Tensor[]): number {
  let sum = 0;
  for (const p of params) {
    if (!p.grad) continue;
    const g = p.grad.view();
    for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  }
  return Math.sqrt(sum);
}
