// Batched matrix product with optional transposes and NumPy broadcasting of
// the batch dims (everything but the last two).
//   forward:  C = op(A)·op(B)
//   backward: d op(A) = dC·op(B)ᵀ,  d op(B) = op(A)ᵀ·dC, transposed back to
//             A's / B's stored layout and summed over broadcast batch dims.

import { record } from '../autograd/tape.js';
import { kernelFor } from '../backend/backend.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, checkOptions, checkSameDtype, optionKeys } from './checks.js';
import { broadcastTo, sumToShape } from './reduce.js';

export interface MatmulOptions {
  /** Use Aᵀ: a is stored [..., K, M]. */
  transposeA?: boolean;
  /** Use Bᵀ: b is stored [..., N, K]. */
  transposeB?: boolean;
}

/** Returns a batch stride for the kernel, expanding the operand when its batch dims are a partial broadcast. */
function batchOperand(t: Tensor, batchShape: number[]): { operand: Tensor; stride: number } {
  const own = t.shape.slice(0, -2);
  const matrix = t.shape.slice(-2);
  if (sizeOf(own) === 1) return { operand: t, stride: 0 };
  if (shapesEqual(own, batchShape)) return { operand: t, stride: matrix[0] * matrix[1] };
  return { operand: broadcastTo(t, [...batchShape, ...matrix]), stride: matrix[0] * matrix[1] };
}

function matmulForward(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const [M, K] = transA ? [aCols, aRows] : [aRows, aCols];
  const [K2, N] = transB ? [bCols, bRows] : [bRows, bCols];
  if (K !== K2) {
    throw new Error(
      `matmul: inner dimensions differ: a ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} has K=${K}, b ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} has K=${K2}`,
    );
  }
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  const A = batchOperand(a, batchShape);
  const B = batchOperand(b, batchShape);
  const out = Tensor.empty([...batchShape, M, N], a.dtype);
  kernelFor('matmul', [a, b])(A.operand, B.operand, out, {
    batch: sizeOf(batchShape),
    M,
    N,
    K,
    batchStrideA: A.stride,
    batchStrideB: B.stride,
    transA,
    transB,
    accumulate: false,
  });
  if (A.operand !== a) A.operand.dispose();
  if (B.operand !== b) B.operand.dispose();
  return out;
}

function reduceTo(g: Tensor, like: Tensor): Tensor {
  return shapesEqual(g.shape, like.shape) ? g : sumToShape(g, like.shape);
}

const KEYS = optionKeys<MatmulOptions>({ transposeA: true, transposeB: true });

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkOptions('matmul', options, KEYS);
  checkInputs('matmul', { a, b });
  checkSameDtype('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: both operands need rank >= 2, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  const transA = options.transposeA ?? false;
  const transB = options.transposeB ?? false;
  const out = matmulForward(a, b, transA, transB);
  return record('matmul', [a, b], out, (dC) => {
    const dA = transA ? matmulForward(b, dC, transB, true) : matmulForward(dC, b, false, !transB);
    const dB = transB ? matmulForward(dC, a, true, transA) : matmulForward(a, dC, !transA, false);
    return [reduceTo(dA, a), reduceTo(dB, b)];
  });
}
