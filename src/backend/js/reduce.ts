import type { Tensor } from '../../tensor/tensor.js';
import type { AxisParams, ReduceParams } from '../kernels.js';

export function reduce(x: Tensor, out: Tensor, p: ReduceParams): void {
  const X = x.view();
  const Y = out.view();
  const { outer, axisSize, inner } = p;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = p.op === 'sum' ? 0 : Number.NEGATIVE_INFINITY;
      for (let k = 0; k < axisSize; k++) {
        const v = X[(o * axisSize + k) * inner + i];
        acc = p.op === 'sum' ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
      }
      Y[o * inner + i] = acc;
    }
  }
}

/** Numerically stable: subtract the row max before exp. */
export function softmax(x: Tensor, out: Tensor, p: AxisParams & { log: boolean }): void {
  const X = x.view();
  const Y = out.view();
  const { outer, axisSize, inner } = p;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * axisSize + k) * inner + i;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < axisSize; k++) max = Math.max(max, X[at(k)]);
      if (max === Number.NEGATIVE_INFINITY) max = 0;
      let sum = 0;
      for (let k = 0; k < axisSize; k++) sum += Math.exp(X[at(k)] - max);
      const logSum = Math.log(sum);
      for (let k = 0; k < axisSize; k++) {
        Y[at(k)] = p.log ? X[at(k)] - max - logSum : Math.exp(X[at(k)] - max) / sum;
      }
    }
  }
}

/** softmax: dx = y∘(dy − Σ dy∘y);  log-softmax: dx = dy − exp(y)·Σ dy. */
export function softmaxGrad(y: Tensor, dy: Tensor, dx: Tensor, p: AxisParams & { log: boolean }): void {
  const Y = y.view();
  const DY = dy.view();
  const DX = dx.view();
  const { outer, axisSize, inner } = p;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * axisSize + k) * inner + i;
      let dot = 0;
      for (let k = 0; k < axisSize; k++) dot += p.log ? DY[at(k)] : DY[at(k)] * Y[at(k)];
      for (let k = 0; k < axisSize; k++) {
        DX[at(k)] = p.log ? DY[at(k)] - Math.exp(Y[at(k)]) * dot : Y[at(k)] * (DY[at(k)] - dot);
      }
    }
  }
}
