// Cross-entropy from logits and class indices, fused with log-softmax.
//   forward:  mean over non-ignored rows of −(1−ε)·log p_t − (ε/C)·Σ log p_c
//   backward: (p − smoothed one-hot) / (number of non-ignored rows), computed in the forward pass

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions, optionKeys } from './checks.js';

export interface CrossEntropyOptions {
  /** Rows whose target equals this are skipped (PyTorch's default: -100). */
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

const KEYS = optionKeys<CrossEntropyOptions>({ ignoreIndex: true, labelSmoothing: true, reduction: true });
const REDUCTIONS = ['mean', 'sum', 'none'];

export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkOptions('crossEntropy', options, KEYS);
  const reduction = options.reduction ?? 'mean';
  if (!REDUCTIONS.includes(reduction)) {
    throw new Error(
      `crossEntropy: reduction must be one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}, got ${JSON.stringify(reduction)}`,
    );
  }
  checkInputs('crossEntropy', { logits });
  checkInputs('crossEntropy', { targets }, ['int32']);
  const classes = logits.shape[logits.rank - 1] ?? 0;
  const rows = logits.size / Math.max(classes, 1);
  if (logits.rank < 1 || targets.size !== rows) {
    throw new Error(
      `crossEntropy: targets ${formatShape(targets.shape)} must hold one class per row of logits ${formatShape(logits.shape)} (${rows} rows)`,
    );
  }
  const p = { rows, classes, ignoreIndex: options.ignoreIndex ?? -100, labelSmoothing: options.labelSmoothing ?? 0 };
  if (p.labelSmoothing < 0 || p.labelSmoothing > 1)
    throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${p.labelSmoothing}`);
  const t = targets.view();
  let counted = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === p.ignoreIndex) continue;
    if (t[i] < 0 || t[i] >= classes) throw new Error(`crossEntropy: target ${t[i]} at row ${i} is out of range for ${classes} classes`);
    counted++;
  }
  const rowLoss = Tensor.empty([rows], logits.dtype);
  const dlogits = Tensor.empty(logits.shape, logits.dtype);
  kernelFor('crossEntropy', [logits])(logits, targets, rowLoss, dlogits, p);
  if (reduction === 'none') {
    const out = rowLoss.reshapeView(targets.shape);
    rowLoss.dispose();
    return record('crossEntropy', [logits], out, (g) => [scaleRows(dlogits, g.view(), classes)], [dlogits]);
  }
  let total = 0;
  for (const v of rowLoss.view()) total += v;
  rowLoss.dispose();
  const divisor = reduction === 'mean' ? Math.max(counted, 1) : 1;
  const out = Tensor.empty([], logits.dtype);
  out.view()[0] = counted === 0 && reduction === 'mean' ? 0 : total / divisor;
  return record(
    'crossEntropy',
    [logits],
    out,
    (g) => {
      const factor = g.view()[0] / divisor;
      const dx = Tensor.empty(logits.shape, logits.dtype);
      kernelFor('unary', [dlogits])(dlogits, dx, { op: 'mulScalar', alpha: factor });
      return [dx];
    },
    [dlogits],
  );
}

function scaleRows(d: Tensor, g: ArrayLike<number>, classes: number): Tensor {
  const dx = Tensor.empty(d.shape, d.dtype);
  const src = d.view();
  const dst = dx.view();
  for (let i = 0; i < src.length; i++) dst[i] = src[i] * g[Math.floor(i / classes)];
  return dx;
}
