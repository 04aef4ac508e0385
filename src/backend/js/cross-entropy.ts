import type { Tensor } from '../../tensor/tensor.js';
import type { CrossEntropyParams } from '../kernels.js';

/**
 * Per row r with target t and smoothing ε over C classes:
 *   loss = −(1−ε)·log p_t − (ε/C)·Σ_c log p_c,   dlogits = p − ((1−ε)·onehot(t) + ε/C).
 * Rows whose target is ignoreIndex give loss 0 and dlogits 0.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, loss: Tensor, dlogits: Tensor, p: CrossEntropyParams): void {
  const X = logits.view();
  const T = targets.view();
  const L = loss.view();
  const D = dlogits.view();
  const { rows, classes: C, labelSmoothing: eps } = p;
  for (let r = 0; r < rows; r++) {
    const row = r * C;
    const t = T[r];
    if (t === p.ignoreIndex) {
      L[r] = 0;
      for (let c = 0; c < C; c++) D[row + c] = 0;
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) max = Math.max(max, X[row + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(X[row + c] - max);
    // log p_c = (x_c − max) − log Σ: kept apart so a confident row keeps its tiny loss.
    const logSum = Math.log(sum);
    let sumLogP = 0;
    for (let c = 0; c < C; c++) {
      const logp = X[row + c] - max - logSum;
      sumLogP += logp;
      D[row + c] = Math.exp(logp) - eps / C - (c === t ? 1 - eps : 0);
    }
    // Without smoothing the Σ log p term is absent (not 0·(−∞) when a logit is −∞).
    L[r] = -(1 - eps) * (X[row + t] - max - logSum) - (eps > 0 ? (eps / C) * sumLogP : 0);
  }
}
