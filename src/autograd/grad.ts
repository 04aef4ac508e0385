// Functional gradients, JAX-style: valueAndGrad(f)(...inputs) runs f and
// backward in one tidy scope and returns the value and d value / d input.
// The value comes back without its graph (as after PyTorch's backward), so
// what the graph held is freed at once.

import { keep, tidy } from '../tensor/scope.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { backward } from './tape.js';

export function valueAndGrad(f: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  return (...inputs) => {
    const flags = inputs.map((t) => t.requiresGrad);
    const saved = inputs.map((t) => t.grad);
    for (const t of inputs) {
      t.grad = null;
      t.setRequiresGrad(true);
    }
    try {
      return tidy(() => {
        const value = f(...inputs);
        if (value.size !== 1) throw new Error(`valueAndGrad: f must return a scalar, got shape ${formatShape(value.shape)}`);
        backward(value);
        value.releaseGraph();
        const grads = inputs.map((t) => {
          if (t.grad) return t.grad;
          const zero = Tensor.empty(t.shape, t.dtype);
          zero.view().fill(0);
          return keep(zero);
        });
        return { value, grads };
      });
    } finally {
      inputs.forEach((t, i) => {
        t.setRequiresGrad(flags[i]);
        t.grad = saved[i];
      });
    }
  };
}

export function grad(f: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...inputs) => {
    const { value, grads } = vg(...inputs);
    value.dispose();
    return grads;
  };
}
