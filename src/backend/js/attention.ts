// The readable reference for scaled dot-product attention, forward and
// backward. It materializes the Nq × Nk scores of each (batch, head) and does
// everything the obvious way, in float64 arithmetic, over Float32Array or
// Float64Array (float64 for finite-difference checks). The wasm kernels
// (assembly/attention*.ts) are tested against it.
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim
// q [B, H, Nq, D] · k, v [B, Hk, keyCapacity, D] (rows ≥ Nk unread) · o [B, H, Nq, D] · logSumExp [B, H, Nq]
// (with layout 'bnhd': q, o [B, Nq, H, D] and k, v [B, keyCapacity, Hk, D]; queryRow and keyRow read either)
// Parameters: the schema every backend reads (src/backend/attention-schema.ts).
//
// Query row i sits at key position i' = i + Nk − Nq (bottom-right alignment,
// as FlashAttention and KV-cache decoding need: the last query row lines up
// with the last key). For each (b, h, i, j):
//   s = scale·q_i·k_j
//   s = c·tanh(s / c)                        softcap c > 0
//   s = s − slope_h·|i' − j|                 ALiBi (= slope·(j − i') for every key a causal row sees)
//   s = s + mask | −∞ where the keep-mask is 0
//   s = −∞ unless lo ≤ j ≤ hi                causal: j ≤ i'; window: i' − left ≤ j ≤ i' + right
// P = softmax_j(s) (a row with no visible key gives P = 0, LSE = −∞),
// Pd = P∘Z/(1 − p) with Z the dropout keep mask, O = Pd·V.

import type { AttentionProblem } from '../attention-schema.js';

export type FloatArray = Float32Array | Float64Array;

/**
 * The reference's parameters: the schema's AttentionProblem (the same object
 * every backend's kernels take) with the mask and ALiBi slopes as arrays.
 * k and v hold keyCapacity rows per (b, kv head), of which keyLength are read.
 */
export type ReferenceAttentionParams = AttentionProblem<Uint8Array | FloatArray>;

export interface AttentionInputs<T extends FloatArray> {
  /** [B, H, Nq, D] */
  query: T;
  /** [B, Hk, keyCapacity, D] */
  key: T;
  /** [B, Hk, keyCapacity, D] */
  value: T;
}

export interface AttentionForwardResult<T extends FloatArray> {
  /** [B, H, Nq, D] */
  output: T;
  /** [B, H, Nq]: log Σⱼ e^(sⱼ); −∞ for a fully masked row. */
  logSumExp: T;
  /** [B, H, Nq, Nk]: the softmax probabilities P (before dropout). */
  weights: T;
}

export interface AttentionBackwardInputs<T extends FloatArray> extends AttentionInputs<T> {
  /** [B, H, Nq, D] */
  gradOutput: T;
}

export interface AttentionGradients<T extends FloatArray> {
  /** [B, H, Nq, D] */
  gradQuery: T;
  /** [B, Hk, keyCapacity, D] (rows past keyLength stay 0) */
  gradKey: T;
  gradValue: T;
}

// ---------------------------------------------------------------------------
// Dropout hash (mirrored bit for bit by assembly/attention-tile.ts)
// ---------------------------------------------------------------------------

/** MurmurHash3's 32-bit finalizer. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The hash of attention weight (b, h, i, j) under `seed`: a u32, independent of tiling and threads. */
export function attentionDropoutHash(seed: number, b: number, h: number, i: number, j: number): number {
  let key = fmix32((seed ^ 0x9e3779b9) >>> 0);
  key = fmix32((key + b) >>> 0);
  key = fmix32((key + h) >>> 0);
  key = fmix32((key + i) >>> 0);
  return fmix32((key + Math.imul(j, 0x9e3779b9)) >>> 0);
}

/** floor(p·2^24) with p rounded to float32 as the kernels see it; weight kept when (hash >>> 8) ≥ this. */
export function attentionDropoutThreshold(p: number): number {
  const p32 = Math.fround(p);
  return p32 <= 0 ? 0 : p32 >= 1 ? 0x1000000 : Math.floor(p32 * 16777216);
}

/** Does dropout with probability p keep weight (b, h, i, j)? */
export function attentionDropoutKeeps(seed: number, p: number, b: number, h: number, i: number, j: number): boolean {
  return attentionDropoutHash(seed, b, h, i, j) >>> 8 >= attentionDropoutThreshold(p);
}

// ---------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------

/** The keys query row i sees by position: [lo, hi] (empty when lo > hi). */
function visibleKeys(p: ReferenceAttentionParams, i: number): [number, number] {
  const iKey = i + p.keyLength - p.queryLength;
  let lo = 0;
  let hi = p.keyLength - 1;
  if (p.windowLeft >= 0) lo = Math.max(lo, iKey - p.windowLeft);
  if (p.causal) hi = Math.min(hi, iKey);
  if (p.windowRight >= 0) hi = Math.min(hi, iKey + p.windowRight);
  return [lo, hi];
}

interface HeadScores {
  /** [Nq, Nk] logits after every modification (−∞ where masked). */
  logits: Float64Array;
  /** [Nq, Nk] d(softcapped)/d(scaled score) = 1 − tanh², or 1 without softcap. */
  softcapGrad: Float64Array;
}

/** Element offset of key row j of (b, kv head hk) in k or v (and their gradients). */
function keyRow(p: ReferenceAttentionParams, b: number, hk: number, j: number): number {
  const row = p.layout === 'bnhd' ? (b * p.keyCapacity + j) * p.numKvHeads + hk : (b * p.numKvHeads + hk) * p.keyCapacity + j;
  return row * p.headDim;
}

/** Element offset of query row i of (b, head h) in q, o and their gradients. */
function queryRow(p: ReferenceAttentionParams, b: number, h: number, i: number): number {
  const row = p.layout === 'bnhd' ? (b * p.queryLength + i) * p.numHeads + h : (b * p.numHeads + h) * p.queryLength + i;
  return row * p.headDim;
}

/** The logits of head (b, h) — the same steps, in the same order, as the kernels' modifyRow. */
function headScores(p: ReferenceAttentionParams, x: AttentionInputs<FloatArray>, b: number, h: number): HeadScores {
  const { numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D, softcap: cap, mask } = p;
  const hk = Math.floor(h / (H / Hk));
  const logits = new Float64Array(Nq * Nk);
  const softcapGrad = new Float64Array(Nq * Nk).fill(1);
  const [sb, sh, si, sj] = p.maskStrides;
  for (let i = 0; i < Nq; i++) {
    const [lo, hi] = visibleKeys(p, i);
    const q = queryRow(p, b, h, i);
    for (let j = 0; j < Nk; j++) {
      const k = keyRow(p, b, hk, j);
      let s = 0;
      for (let d = 0; d < D; d++) s += x.query[q + d] * x.key[k + d];
      s *= p.scale;
      if (cap > 0) {
        const t = Math.tanh(s / cap);
        s = cap * t;
        softcapGrad[i * Nk + j] = 1 - t * t;
      }
      if (p.alibiSlopes) s -= p.alibiSlopes[h] * Math.abs(i + Nk - Nq - j);
      if (mask && p.maskKind !== 'none') {
        const m = mask[b * sb + h * sh + i * si + j * sj];
        if (p.maskKind === 'additive') s += m;
        else if (m === 0) s = -Infinity;
      }
      if (j < lo || j > hi) s = -Infinity;
      logits[i * Nk + j] = s;
    }
  }
  return { logits, softcapGrad };
}

/** Row-wise softmax of [Nq, Nk] logits: P and LSE; a row of −∞ gives P = 0 and LSE = −∞. */
function softmaxRows(logits: Float64Array, Nq: number, Nk: number): { probs: Float64Array; logSumExp: Float64Array } {
  const probs = new Float64Array(Nq * Nk);
  const logSumExp = new Float64Array(Nq);
  for (let i = 0; i < Nq; i++) {
    let max = -Infinity;
    for (let j = 0; j < Nk; j++) max = Math.max(max, logits[i * Nk + j]);
    if (max === -Infinity) {
      logSumExp[i] = -Infinity;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < Nk; j++) sum += Math.exp(logits[i * Nk + j] - max);
    for (let j = 0; j < Nk; j++) probs[i * Nk + j] = Math.exp(logits[i * Nk + j] - max) / sum;
    logSumExp[i] = max + Math.log(sum);
  }
  return { probs, logSumExp };
}

/** Z/(1 − p) for head (b, h): 1/(1 − p) where the dropout hash keeps the weight, else 0 (all 1 without dropout). */
function dropoutFactors(p: ReferenceAttentionParams, b: number, h: number): Float64Array {
  const { queryLength: Nq, keyLength: Nk, dropoutP } = p;
  const factors = new Float64Array(Nq * Nk).fill(1);
  if (dropoutP <= 0) return factors;
  const seed = p.dropoutSeed >>> 0;
  const keepScale = dropoutP < 1 ? 1 / (1 - dropoutP) : 0;
  for (let i = 0; i < Nq; i++) {
    for (let j = 0; j < Nk; j++) factors[i * Nk + j] = attentionDropoutKeeps(seed, dropoutP, b, h, i, j) ? keepScale : 0;
  }
  return factors;
}

function zerosLike<T extends FloatArray>(like: T, length: number): T {
  return (like instanceof Float64Array ? new Float64Array(length) : new Float32Array(length)) as T;
}

function checkShapes(p: ReferenceAttentionParams, x: AttentionInputs<FloatArray>): void {
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, keyCapacity: cap, headDim: D } = p;
  if (H % Hk !== 0) throw new Error(`attention: key has ${Hk} heads, query ${H}; numKvHeads must divide numHeads`);
  if (cap < Nk) throw new Error(`attention: keyCapacity ${cap} is less than keyLength ${Nk}`);
  if (x.query.length !== B * H * Nq * D)
    throw new Error(`attention: query has ${x.query.length} elements, expected B·H·Nq·D = ${B * H * Nq * D}`);
  for (const [name, t] of [
    ['key', x.key],
    ['value', x.value],
  ] as const) {
    if (t.length !== B * Hk * cap * D)
      throw new Error(`attention: ${name} has ${t.length} elements, expected B·Hk·keyCapacity·D = ${B * Hk * cap * D}`);
  }
  if (p.mask && p.maskKind === 'none') throw new Error("attention: a mask is given but maskKind is 'none'");
  if (p.alibiSlopes && p.alibiSlopes.length !== H)
    throw new Error(`attention: alibiSlopes has ${p.alibiSlopes.length} slopes for ${H} query heads`);
}

// ---------------------------------------------------------------------------
// Forward and backward
// ---------------------------------------------------------------------------

export function attentionForwardReference<T extends FloatArray>(
  p: ReferenceAttentionParams,
  x: AttentionInputs<T>,
): AttentionForwardResult<T> {
  checkShapes(p, x);
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D } = p;
  const output = zerosLike(x.query, B * H * Nq * D);
  const logSumExp = zerosLike(x.query, B * H * Nq);
  const weights = zerosLike(x.query, B * H * Nq * Nk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hk));
      const { logits } = headScores(p, x, b, h);
      const { probs, logSumExp: lse } = softmaxRows(logits, Nq, Nk);
      const z = dropoutFactors(p, b, h);
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        logSumExp[row] = lse[i];
        for (let j = 0; j < Nk; j++) weights[row * Nk + j] = probs[i * Nk + j];
        // O = Pd·V
        const o = queryRow(p, b, h, i);
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < Nk; j++) acc += probs[i * Nk + j] * z[i * Nk + j] * x.value[keyRow(p, b, hk, j) + d];
          output[o + d] = acc;
        }
      }
    }
  }
  return { output, logSumExp, weights };
}

export function attentionBackwardReference<T extends FloatArray>(
  p: ReferenceAttentionParams,
  x: AttentionBackwardInputs<T>,
): AttentionGradients<T> {
  checkShapes(p, x);
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, keyCapacity, headDim: D, scale } = p;
  const dO = x.gradOutput;
  const gradQuery = zerosLike(x.query, B * H * Nq * D);
  const gradKey = zerosLike(x.query, B * Hk * keyCapacity * D);
  const gradValue = zerosLike(x.query, B * Hk * keyCapacity * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hk));
      const { logits, softcapGrad } = headScores(p, x, b, h);
      const { probs } = softmaxRows(logits, Nq, Nk);
      const z = dropoutFactors(p, b, h);
      const qRow = (i: number) => queryRow(p, b, h, i);
      const kRow = (j: number) => keyRow(p, b, hk, j);
      for (let i = 0; i < Nq; i++) {
        // dPd = dO·Vᵀ and dV += Pdᵀ·dO   (forward: O = Pd·V)
        const dP = new Float64Array(Nk);
        for (let j = 0; j < Nk; j++) {
          const pd = probs[i * Nk + j] * z[i * Nk + j];
          let acc = 0;
          for (let d = 0; d < D; d++) {
            acc += dO[qRow(i) + d] * x.value[kRow(j) + d];
            gradValue[kRow(j) + d] += pd * dO[qRow(i) + d];
          }
          // dP = dPd∘Z/(1 − p)   (forward: Pd = P∘Z/(1 − p))
          dP[j] = acc * z[i * Nk + j];
        }
        // dS' = P∘(dP − Σⱼ Pⱼ·dPⱼ)   (forward: P = softmax(S'))
        let rowDot = 0;
        for (let j = 0; j < Nk; j++) rowDot += probs[i * Nk + j] * dP[j];
        for (let j = 0; j < Nk; j++) {
          // dS = dS'∘(1 − tanh²)   (forward: S' = c·tanh(S/c)); bias and mask pass the gradient through
          const dS = probs[i * Nk + j] * (dP[j] - rowDot) * softcapGrad[i * Nk + j];
          if (dS === 0) continue;
          // dQ += scale·dS·K, dK += scale·dSᵀ·Q   (forward: S = scale·Q·Kᵀ)
          for (let d = 0; d < D; d++) {
            gradQuery[qRow(i) + d] += scale * dS * x.key[kRow(j) + d];
            gradKey[kRow(j) + d] += scale * dS * x.query[qRow(i) + d];
          }
        }
      }
    }
  }
  return { gradQuery, gradKey, gradValue };
}
