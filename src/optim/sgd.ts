// Stochastic gradient descent with momentum (PyTorch's torch.optim.SGD):
//   g ← ∇ + λ·p                        (weight decay, coupled)
//   b ← g on the first step, else μ·b + (1−τ)·g   (τ = dampening)
//   g ← g + μ·b (Nesterov) or b
//   p ← p − lr·g

import type { Tensor } from '../tensor/tensor.js';
import { checkNonNegative, Optimizer, type ParamGroup, type ResolvedGroup } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Default for groups that set none (0). */
  weightDecay?: number;
}

export class SGD extends Optimizer {
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;

  constructor(params: readonly Tensor[] | readonly ParamGroup[], options: SGDOptions = {}) {
    super('SGD', params, { lr: options.lr ?? 1e-2, weightDecay: options.weightDecay ?? 0 });
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkNonNegative('SGD', 'momentum', this.momentum);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error(
        `SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`,
      );
    }
  }

  protected hyperparameters(): Record<string, unknown> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov };
  }

  protected update(p: Tensor, grad: Tensor, group: ResolvedGroup): void {
    const { momentum: mu, dampening, nesterov } = this;
    const { lr, weightDecay } = group;
    const first = mu !== 0 && !this.hasBuffer(p, 'momentum_buffer');
    const b = mu !== 0 ? this.buffer(p, 'momentum_buffer') : null;
    const P = p.view();
    const G = grad.view();
    const B = b?.view();
    for (let i = 0; i < P.length; i++) {
      let g = G[i]! + weightDecay * P[i]!;
      if (B) {
        const bi = (B[i] = first ? g : mu * B[i]! + (1 - dampening) * g);
        g = nesterov ? g + mu * bi : bi;
      }
      P[i] -= lr * g;
    }
  }
}
