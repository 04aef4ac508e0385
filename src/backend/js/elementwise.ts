import type { Tensor } from '../../tensor/tensor.js';
import type { BinaryOp, BinaryParams, UnaryOp, UnaryParams } from '../kernels.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erfc for x ≥ 0 by its continued fraction (Lentz); accurate where erfc is tiny. */
function erfcTail(x: number): number {
  if (x > 27) return 0;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = x + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = x + an / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * Math.sqrt(Math.PI));
}

/** erf by its Taylor series near 0 (~1e-16 relative); only for |x| < 2.5. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(x) = 1 − erf(x) in float64: series near 0, continued fraction in the tails (no cancellation). */
export function erfc(x: number): number {
  if (x >= 2.5) return erfcTail(x);
  if (x <= -2.5) return 2 - erfcTail(-x);
  return 1 - erfSeries(x);
}

export function unaryValue(op: UnaryOp, x: number, alpha: number): number {
  switch (op) {
    case 'neg':
      return -x;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'rsqrt':
      return 1 / Math.sqrt(x);
    case 'abs':
      return Math.abs(x);
    case 'square':
      return x * x;
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'relu':
      return x > 0 ? x : 0;
    case 'gelu':
      // 0.5·x·(1 + erf(x/√2)) written with erfc: no cancellation for x ≪ 0, and +∞ at +∞
      return 0.5 * x * erfc(-x / Math.SQRT2);
    case 'geluTanh':
      // 0.5·(1 + tanh u) = σ(2u), again without the cancellation
      return x / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'addScalar':
      return x + alpha;
    case 'mulScalar':
      return x * alpha;
    case 'powScalar':
      return x ** alpha;
    case 'rsubScalar':
      return alpha - x;
    case 'rdivScalar':
      return alpha / x;
  }
}

/** f'(x), given x and y = f(x). */
export function unaryDerivative(op: UnaryOp, x: number, y: number, alpha: number): number {
  switch (op) {
    case 'neg':
      return -1;
    case 'exp':
      return y;
    case 'log':
      return 1 / x;
    case 'sqrt':
      return 0.5 / y;
    case 'rsqrt':
      return -0.5 * y * y * y;
    case 'abs':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'square':
      return 2 * x;
    case 'tanh':
      return 1 - y * y;
    case 'sigmoid':
      return y * (1 - y);
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'gelu': {
      const cdf = 0.5 * erfc(-x / Math.SQRT2);
      return cdf + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    }
    case 'geluTanh': {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(u);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    }
    case 'silu': {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case 'addScalar':
      return 1;
    case 'mulScalar':
      return alpha;
    case 'powScalar':
      return alpha === 0 ? 0 : alpha * x ** (alpha - 1);
    case 'rsubScalar':
      return -1;
    case 'rdivScalar':
      return -alpha / (x * x);
  }
}

export function binaryValue(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'maximum':
      return a >= b ? a : b;
    case 'minimum':
      return a <= b ? a : b;
    case 'equal':
      return a === b ? 1 : 0;
  }
}

export function unary(x: Tensor, out: Tensor, p: UnaryParams): void {
  const X = x.view();
  const Y = out.view();
  for (let i = 0; i < X.length; i++) Y[i] = unaryValue(p.op, X[i] as number, p.alpha);
}

export function unaryGrad(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, p: UnaryParams): void {
  const X = x.view();
  const Y = y.view();
  const DY = dy.view();
  const DX = dx.view();
  for (let i = 0; i < X.length; i++) {
    DX[i] = (DY[i] as number) * unaryDerivative(p.op, X[i] as number, Y[i] as number, p.alpha);
  }
}

/** Walks the broadcast index space with an odometer over the output shape. */
export function binary(a: Tensor, b: Tensor, out: Tensor, p: BinaryParams): void {
  const A = a.view();
  const B = b.view();
  const C = out.view();
  const rank = p.outShape.length;
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < C.length; i++) {
    C[i] = binaryValue(p.op, A[ia] as number, B[ib] as number);
    for (let d = rank - 1; d >= 0; d--) {
      ia += p.stridesA[d];
      ib += p.stridesB[d];
      if (++idx[d] < p.outShape[d]) break;
      ia -= p.stridesA[d] * p.outShape[d];
      ib -= p.stridesB[d] * p.outShape[d];
      idx[d] = 0;
    }
  }
}
