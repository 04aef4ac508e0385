import type { Tensor } from '../../tensor/tensor.js';
import type { NormParams } from '../kernels.js';

/** LayerNorm y = (x − μ)·rstd·γ + β, or RMSNorm y = x·rstd·γ with rstd = 1/√(mean(x²) + ε). */
export function norm(x: Tensor, gamma: Tensor, beta: Tensor | null, out: Tensor, mean: Tensor, rstd: Tensor, p: NormParams): void {
  const X = x.view();
  const G = gamma.view();
  const Bt = beta?.view();
  const Y = out.view();
  const MU = mean.view();
  const RS = rstd.view();
  const { rows, cols, eps } = p;
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let mu = 0;
    if (!p.rms) {
      for (let c = 0; c < cols; c++) mu += X[row + c];
      mu /= cols;
    }
    let variance = 0;
    for (let c = 0; c < cols; c++) variance += (X[row + c] - mu) ** 2;
    variance /= cols;
    const rs = 1 / Math.sqrt(variance + eps);
    MU[r] = mu;
    RS[r] = rs;
    for (let c = 0; c < cols; c++) Y[row + c] = (X[row + c] - mu) * rs * G[c] + (Bt ? Bt[c] : 0);
  }
}

/**
 * With x̂ = (x − μ)·rstd (forward: y = x̂·γ + β):
 *   dβ = Σ_rows dy,  dγ = Σ_rows dy∘x̂,  dx̂ = dy∘γ,
 *   dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂∘x̂))   (RMSNorm drops the mean(dx̂) term).
 */
export function normGrad(
  x: Tensor,
  gamma: Tensor,
  mean: Tensor,
  rstd: Tensor,
  dy: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor | null,
  p: NormParams,
): void {
  const X = x.view();
  const G = gamma.view();
  const MU = mean.view();
  const RS = rstd.view();
  const DY = dy.view();
  const DX = dx.view();
  const DG = dgamma.view();
  const DB = dbeta?.view();
  const { rows, cols } = p;
  DG.fill(0);
  DB?.fill(0);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    const rs = RS[r];
    let meanDxhat = 0;
    let meanDxhatXhat = 0;
    for (let c = 0; c < cols; c++) {
      const xhat = (X[row + c] - MU[r]) * rs;
      const dxhat = DY[row + c] * G[c];
      meanDxhat += dxhat;
      meanDxhatXhat += dxhat * xhat;
      DG[c] += DY[row + c] * xhat;
      if (DB) DB[c] += DY[row + c];
    }
    meanDxhat = p.rms ? 0 : meanDxhat / cols;
    meanDxhatXhat /= cols;
    for (let c = 0; c < cols; c++) {
      const xhat = (X[row + c] - MU[r]) * rs;
      DX[row + c] = rs * (DY[row + c] * G[c] - meanDxhat - xhat * meanDxhatXhat);
    }
  }
}
