// Cross-entropy from logits, fused with its log-softmax, per row
// (reference: src/backend/js/cross-entropy.ts). With target t, smoothing ε
// over C classes and log p = x − log Z:
//   loss = −(1−ε)·log p_t − (ε/C)·Σ_c log p_c
//   dlogits = p − ((1−ε)·onehot(t) + ε/C)       (0 and 0 on ignored rows)
// Elementwise work is float32; the row scalars (Σ e^{x−max}, Σ x, log Z,
// the loss) are float64, and the target's 1 − p_t is taken as
// Σ_{c≠t} p_c, so a confident row keeps its small loss and gradient.
// Threads split the rows.
import { at, loadN, storeN } from './lanes';
import { log64 } from './math';
import { expSumRow, rowMax, rowSum64 } from './rows';
import { shareStart } from './simd';

export function crossEntropy(
  logits: usize, targets: usize, loss: usize, dlogits: usize,
  rows: i32, classes: i32, ignoreIndex: i32, smoothing: f64, tid: i32, nthreads: i32,
): void {
  const C = classes;
  const epsC = smoothing / <f64>C;
  const vEpsC = f32x4.splat(<f32>epsC);
  const end = shareStart(rows, tid + 1, nthreads);
  for (let r = shareStart(rows, tid, nthreads); r < end; r++) {
    const x = at(logits, r * C);
    const d = at(dlogits, r * C);
    const t = load<i32>(at(targets, r));
    if (t == ignoreIndex) {
      store<f32>(at(loss, r), 0);
      memory.fill(d, 0, <usize>C << 2);
      continue;
    }
    const m = rowMax(x, C);
    // e = e^{x − max} into dlogits; Σ e and Σ x in float64
    const S = expSumRow(x, d, C, m);
    const SX = rowSum64(x, C);
    // log Z = max + log S, kept apart so that log p_t = (x_t − max) − log S keeps
    // a confident row's tiny loss; S ≥ 1 for finite logits, NaN or ±∞ give NaN
    const logS = S >= 1 && S < Infinity ? log64(S) : NaN;
    const sumLogP = (SX - <f64>C * <f64>m) - <f64>C * logS;
    const logPt = (<f64>load<f32>(at(x, t)) - <f64>m) - logS;
    // Without smoothing the Σ log p term is absent, not 0·(−∞) when a logit is −∞ (a masked class).
    const smoothed = smoothing > 0 ? epsC * sumLogP : 0;
    store<f32>(at(loss, r), <f32>(-(1 - smoothing) * logPt - smoothed));
    // dlogits = e/S − ε/C, then the target: p_t − 1 + ε − ε/C = −(S − e_t)/S + ε − ε/C
    const et = <f64>load<f32>(at(d, t));
    const inv = f32x4.splat(<f32>(1 / S));
    for (let c = 0; c < C; c += 4) {
      const count = C - c;
      if (count >= 4) v128.store(at(d, c), f32x4.sub(f32x4.mul(v128.load(at(d, c)), inv), vEpsC));
      else storeN(at(d, c), f32x4.sub(f32x4.mul(loadN(at(d, c), count), inv), vEpsC), count);
    }
    store<f32>(at(d, t), <f32>(-(S - et) / S + smoothing - epsC));
  }
}
