// The js backend: every kernel, written the obvious way. It is the
// reference every other backend is tested against, and runs float64 for
// finite-difference gradient checks.

import type { Backend } from '../backend.js';
import { attentionBackward, attentionDecode, attentionForward, attentionWeights, rotary } from './attention-kernels.js';
import { copy } from './copy.js';
import { crossEntropy } from './cross-entropy.js';
import { dropout } from './dropout.js';
import { binary, unary, unaryGrad } from './elementwise.js';
import { embedding, embeddingGrad } from './embedding.js';
import { matmul } from './matmul.js';
import { norm, normGrad } from './norm.js';
import { reduce, softmax, softmaxGrad } from './reduce.js';

export const jsBackend: Backend = {
  name: 'js',
  threads: 1,
  attentionLayouts: ['bhnd', 'bnhd'],
  setThreads() {},
  kernels: {
    matmul,
    binary,
    unary,
    unaryGrad,
    reduce,
    copy,
    softmax,
    softmaxGrad,
    norm,
    normGrad,
    embedding,
    embeddingGrad,
    crossEntropy,
    dropout,
    attentionForward,
    attentionBackward,
    attentionWeights,
    attentionDecode,
    rotary,
  },
};
