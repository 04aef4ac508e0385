// AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay,
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//   p ← p − lr·(m̂/(√v̂ + ε) + λ·p),  m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).

import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly moments = new Map<Tensor, { m: Tensor; v: Tensor }>();
  private t = 0;

  constructor(
    readonly params: readonly Tensor[],
    options: AdamWOptions = {},
  ) {
    this.lr = options.lr ?? 1e-3;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    for (const p of params) {
      if (!p.requiresGrad) throw new Error(`AdamW: parameter ${p} does not require a gradient`);
    }
  }

  /** Applies one update from each parameter's .grad (parameters without one are skipped). */
  step(): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const p of this.params) {
      if (!p.grad) continue;
      const { m, v } = this.state(p);
      const P = p.view();
      const G = p.grad.view();
      const Mv = m.view();
      const Vv = v.view();
      for (let i = 0; i < P.length; i++) {
        const g = G[i];
        Mv[i] = this.beta1 * Mv[i] + (1 - this.beta1) * g;
        Vv[i] = this.beta2 * Vv[i] + (1 - this.beta2) * g * g;
        P[i] -= this.lr * (Mv[i] / c1 / (Math.sqrt(Vv[i] / c2) + this.eps) + this.weightDecay * P[i]);
      }
    }
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  private state(p: Tensor): { m: Tensor; v: Tensor } {
    let s = this.moments.get(p);
    if (!s) {
      const m = keep(Tensor.empty(p.shape, p.dtype));
      const v = keep(Tensor.empty(p.shape, p.dtype));
      m.view().fill(0);
      v.view().fill(0);
      s = { m, v };
      this.moments.set(p, s);
    }
    return s;
  }
}
