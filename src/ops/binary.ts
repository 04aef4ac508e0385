// Broadcasting arithmetic. The backward of a broadcast input sums the
// gradient over the dimensions it was stretched along (sumToShape).

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import type { BinaryOp } from '../backend/kernels.js';
import { broadcastShapes, broadcastStrides, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkSameDtype } from './checks.js';
import { sumToShape } from './reduce.js';
import { neg, rsubScalar, square } from './unary.js';

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkInputs(op, { a, b });
  checkSameDtype(op, a, b);
  const outShape = broadcastShapes(a.shape, b.shape, op);
  const out = Tensor.empty(outShape, a.dtype);
  kernelFor('binary', [a, b])(a, b, out, {
    op,
    outShape,
    stridesA: broadcastStrides(a.shape, outShape),
    stridesB: broadcastStrides(b.shape, outShape),
  });
  return out;
}

function reduceTo(g: Tensor, like: Tensor): Tensor {
  return shapesEqual(g.shape, like.shape) ? g : sumToShape(g, like.shape);
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record('add', [a, b], binaryForward('add', a, b), (g) => [reduceTo(g, a), reduceTo(g, b)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record('sub', [a, b], binaryForward('sub', a, b), (g) => [reduceTo(g, a), reduceTo(neg(g), b)]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record('mul', [a, b], binaryForward('mul', a, b), (g) => [
    reduceTo(binaryForward('mul', g, b), a),
    reduceTo(binaryForward('mul', g, a), b),
  ]);
}

/** d(a/b)/da = 1/b, d(a/b)/db = −a/b². */
export function div(a: Tensor, b: Tensor): Tensor {
  return record('div', [a, b], binaryForward('div', a, b), (g) => [
    reduceTo(binaryForward('div', g, b), a),
    reduceTo(neg(binaryForward('div', binaryForward('mul', g, a), square(b))), b),
  ]);
}

/** Elementwise max; ties send the gradient to a. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return record('maximum', [a, b], binaryForward('maximum', a, b), (g) => {
    const aWins = binaryForward('equal', binaryForward('maximum', a, b), a);
    return [reduceTo(binaryForward('mul', g, aWins), a), reduceTo(binaryForward('mul', g, rsubScalar(aWins, 1)), b)];
  });
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return record('minimum', [a, b], binaryForward('minimum', a, b), (g) => {
    const aWins = binaryForward('equal', binaryForward('minimum', a, b), a);
    return [reduceTo(binaryForward('mul', g, aWins), a), reduceTo(binaryForward('mul', g, rsubScalar(aWins, 1)), b)];
  });
}

/** 1 where a == b, else 0 (not differentiable). */
export function equal(a: Tensor, b: Tensor): Tensor {
  return binaryForward('equal', a, b);
}
