import type { Tensor } from '../../tensor/tensor.js';
import type { DropoutParams } from '../kernels.js';
import { dropoutKeep } from '../kernels.js';

export function dropout(x: Tensor, out: Tensor, p: DropoutParams): void {
  const X = x.view();
  const Y = out.view();
  const scale = 1 / (1 - p.p);
  for (let i = 0; i < X.length; i++) Y[i] = dropoutKeep(p.seed, i, p.p) ? X[i] * scale : 0;
}
