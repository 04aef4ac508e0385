// AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay,
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//   p ← p − lr·(m̂/(√v̂ + ε) + λ·p),  m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
// (PyTorch's torch.optim.AdamW computes the same: p·(1−lr·λ) − lr/(1−β1ᵗ)·m/(√v/√(1−β2ᵗ) + ε).)

import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type ParamGroup, type ResolvedGroup } from './optimizer.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Default for groups that set none (0.01, PyTorch's default). */
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(params: readonly Tensor[] | readonly ParamGroup[], options: AdamWOptions = {}) {
    super('AdamW', params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0.01 });
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new Error(`AdamW: betas must lie in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    }
  }

  protected hyperparameters(): Record<string, unknown> {
    return { betas: [this.beta1, this.beta2], eps: this.eps };
  }

  protected update(p: Tensor, grad: Tensor, group: ResolvedGroup): void {
    const { beta1, beta2, eps } = this;
    const { lr, weightDecay } = group;
    const m = this.buffer(p, 'exp_avg');
    const v = this.buffer(p, 'exp_avg_sq');
    const c1 = 1 - beta1 ** this.stepCount;
    const c2 = 1 - beta2 ** this.stepCount;
    const P = p.view();
    const G = grad.view();
    const M = m.view();
    const V = v.view();
    for (let i = 0; i < P.length; i++) {
      const g = G[i]!;
      const mi = (M[i] = beta1 * M[i]! + (1 - beta1) * g);
      const vi = (V[i] = beta2 * V[i]! + (1 - beta2) * g * g);
      P[i] -= lr * (mi / c1 / (Math.sqrt(vi / c2) + eps) + weightDecay * P[i]!);
    }
  }
}
