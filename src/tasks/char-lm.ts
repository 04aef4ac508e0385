// A tiny character-level language model: token + position embeddings, one
// pre-norm causal self-attention block with a GELU MLP, trained with AdamW.
// It is the end-to-end demo (`npm start`): real text in, the loss falling
// out. Its pieces move into src/nn as layers once those exist.

import { noGrad } from '../autograd/tape.js';
import { add, crossEntropy, embedding, gelu, layerNorm, matmul, permute, reshape, scaledDotProductAttention, slice } from '../ops/index.js';
import { AdamW } from '../optim/adamw.js';
import { ones, randn, tensor, zeros } from '../tensor/create.js';
import { Rng } from '../tensor/random.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export interface CharLmOptions {
  steps?: number;
  context?: number;
  batch?: number;
  dim?: number;
  heads?: number;
  lr?: number;
  seed?: number;
  /** Called after every step with the step number (from 1) and its loss. */
  onStep?: (step: number, loss: number) => void;
}

export interface CharLmResult {
  vocabulary: string;
  losses: number[];
  parameters: number;
}

interface Params {
  tokens: Tensor;
  positions: Tensor;
  ln1Gamma: Tensor;
  ln1Beta: Tensor;
  qkv: Tensor;
  proj: Tensor;
  ln2Gamma: Tensor;
  ln2Beta: Tensor;
  up: Tensor;
  upBias: Tensor;
  down: Tensor;
  downBias: Tensor;
  lnfGamma: Tensor;
  lnfBeta: Tensor;
  head: Tensor;
}

function initParams(vocab: number, context: number, dim: number, seed: number): Params {
  const w = (shape: number[], i: number, std = 0.02) => keep(randn(shape, { seed: seed + i, std }));
  const z = (n: number) => keep(zeros([n]));
  const o = (n: number) => keep(ones([n]));
  return {
    tokens: w([vocab, dim], 1),
    positions: w([context, dim], 2),
    ln1Gamma: o(dim),
    ln1Beta: z(dim),
    qkv: w([dim, 3 * dim], 3),
    proj: w([dim, dim], 4),
    ln2Gamma: o(dim),
    ln2Beta: z(dim),
    up: w([dim, 4 * dim], 5),
    upBias: z(4 * dim),
    down: w([4 * dim, dim], 6),
    downBias: z(dim),
    lnfGamma: o(dim),
    lnfBeta: z(dim),
    head: w([dim, vocab], 7),
  };
}

function selfAttention(x: Tensor, p: Params, heads: number): Tensor {
  const [B, T, D] = x.shape;
  const qkv = permute(reshape(matmul(x, p.qkv), [B, T, 3, heads, D / heads]), [2, 0, 3, 1, 4]);
  const part = (i: number) => reshape(slice(qkv, [i], [1]), [B, heads, T, D / heads]);
  const out = scaledDotProductAttention(part(0), part(1), part(2), { causal: true });
  return matmul(reshape(permute(out, [0, 2, 1, 3]), [B, T, D]), p.proj);
}

function forwardLoss(p: Params, inputs: Tensor, targets: Tensor, heads: number): Tensor {
  let h = add(embedding(p.tokens, inputs), p.positions);
  h = add(h, selfAttention(layerNorm(h, p.ln1Gamma, p.ln1Beta), p, heads));
  const mlp = matmul(gelu(add(matmul(layerNorm(h, p.ln2Gamma, p.ln2Beta), p.up), p.upBias)), p.down);
  h = add(h, add(mlp, p.downBias));
  return crossEntropy(matmul(layerNorm(h, p.lnfGamma, p.lnfBeta), p.head), targets);
}

/** Trains on `text` and returns the loss of every step. */
export function trainCharLm(text: string, options: CharLmOptions = {}): CharLmResult {
  const { steps = 300, context = 32, batch = 32, dim = 64, heads = 4, lr = 3e-3, seed = 1 } = options;
  if (dim % heads !== 0) throw new Error(`trainCharLm: dim ${dim} must be a multiple of heads ${heads}`);
  if (text.length < context + 2)
    throw new Error(`trainCharLm: text of ${text.length} characters is shorter than the context ${context} + 2`);
  const vocabulary = [...new Set(text)].sort().join('');
  const ids = Int32Array.from(text, (c) => vocabulary.indexOf(c));
  const params = initParams(vocabulary.length, context, dim, seed);
  const list = Object.values(params).map((t) => t.setRequiresGrad());
  const optimizer = new AdamW(list, { lr, weightDecay: 0.01 });
  const rng = new Rng(seed);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const x = new Int32Array(batch * context);
    const y = new Int32Array(batch * context);
    for (let b = 0; b < batch; b++) {
      const start = Math.floor(rng.uniform() * (ids.length - context - 1));
      x.set(ids.subarray(start, start + context), b * context);
      y.set(ids.subarray(start + 1, start + context + 1), b * context);
    }
    const loss = tidy(() => {
      const l = forwardLoss(params, tensor(x, [batch, context]), tensor(y, [batch, context]), heads);
      l.backward();
      return l.item();
    });
    noGrad(() => optimizer.step());
    optimizer.zeroGrad();
    losses.push(loss);
    options.onStep?.(step, loss);
  }
  for (const t of list) t.dispose();
  return { vocabulary, losses, parameters: list.reduce((n, t) => n + t.size, 0) };
}
