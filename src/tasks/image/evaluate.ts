// Classification accuracy of a model over (part of) an ImageSet, in batches, without gradients.

import { noGrad } from '../../autograd/tape.js';
import type { ImageSet } from '../../data/fashion-mnist.js';
import type { VisionTransformer } from '../../nn/vision-transformer.js';
import { tidy } from '../../tensor/scope.js';
import { imageTensor } from './data.js';

/** The index of the largest logit of each row of a [B, C] block. */
export function argmaxRows(logits: ArrayLike<number>, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of `indices` (default all) the model labels correctly. */
export function accuracy(model: VisionTransformer, set: ImageSet, indices?: Int32Array, batchSize = 500): number {
  const rows = indices ?? Int32Array.from({ length: set.count }, (_, i) => i);
  const wasTraining = model.training;
  model.eval();
  let right = 0;
  try {
    for (let start = 0; start < rows.length; start += batchSize) {
      const part = rows.subarray(start, start + batchSize);
      right += tidy(() =>
        noGrad(() => {
          const logits = model.forward(imageTensor(set, part));
          const predicted = argmaxRows(logits.view(), part.length, model.config.numClasses);
          let n = 0;
          for (let i = 0; i < part.length; i++) if (predicted[i] === set.labels[part[i]!]) n++;
          return n;
        }),
      );
    }
  } finally {
    model.train(wasTraining);
  }
  return right / rows.length;
}
