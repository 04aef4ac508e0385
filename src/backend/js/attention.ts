// The readable reference for scaled dot-product attention, forward and
// backward. It materializes the Nq × Nk scores of each (batch, head) and does
// everything the obvious way, in float64 arithmetic, over Float32Array or
// Float64Array (float64 for finite-difference checks). The wasm kernels
// (assembly/attention*.ts) are tested against it.
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim
// q [B, H, Nq, D] · k, v [B, Hk, Nk, D] · o [B, H, Nq, D] · logSumExp [B, H, Nq]
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

export type FloatArray = Float32Array | Float64Array;
export type AttentionMaskKind = 'none' | 'bool' | 'additive';

export interface AttentionShape {
  batch: number;
  numHeads: number;
  numKvHeads: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
}

export interface AttentionOptions {
  /** Multiplies q·k; default 1/√headDim. */
  scale?: number;
  /** Boolean keep-mask (1 = keep) or additive float mask, broadcast over (b, h, i, j) by maskStrides. */
  mask?: Uint8Array | FloatArray;
  /** Default: 'bool' for a Uint8Array mask, 'additive' for a float one, 'none' without a mask. */
  maskKind?: AttentionMaskKind;
  /** Element strides of the mask over (b, h, i, j), 0 where it broadcasts. Default: [Nq, Nk] or [B, H, Nq, Nk] by length. */
  maskStrides?: readonly [number, number, number, number];
  /** Bottom-right aligned: row i sees keys j ≤ i + Nk − Nq. */
  causal?: boolean;
  /** Row i sees keys j ≥ i + Nk − Nq − windowLeft; −1 (default) = unbounded. */
  windowLeft?: number;
  /** Row i sees keys j ≤ i + Nk − Nq + windowRight; −1 (default) = unbounded. */
  windowRight?: number;
  /** One slope per query head. */
  alibiSlopes?: ArrayLike<number>;
  /** Scores s → c·tanh(s/c) after scaling, before bias and mask; 0 (default) = off. */
  softcap?: number;
  /** Dropout probability on the attention weights; 0 (default) = off. */
  dropoutP?: number;
  /** Seed of the dropout hash (u32). */
  dropoutSeed?: number;
}

export interface AttentionInputs<T extends FloatArray> extends AttentionShape, AttentionOptions {
  query: T;
  key: T;
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
  gradQuery: T;
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

/** Element strides over (b, h, i, j) of a mask shaped [Nq, Nk], [1|B, 1|H, Nq, Nk] (or any rank-2..4 broadcastable shape). */
export function broadcastMaskStrides(maskShape: readonly number[], shape: AttentionShape): [number, number, number, number] {
  const full = [shape.batch, shape.numHeads, shape.queryLength, shape.keyLength];
  if (maskShape.length < 2 || maskShape.length > 4) throw new Error(`attention: mask must have rank 2 to 4, got shape [${maskShape}]`);
  const dims = [...Array(4 - maskShape.length).fill(1), ...maskShape];
  const strides: [number, number, number, number] = [0, 0, 0, 0];
  let stride = 1;
  for (let axis = 3; axis >= 0; axis--) {
    if (dims[axis] !== 1 && dims[axis] !== full[axis]) {
      throw new Error(`attention: mask shape [${maskShape}] does not broadcast to [${full}] (axis ${axis} is ${dims[axis]})`);
    }
    strides[axis] = dims[axis] === 1 ? 0 : stride;
    stride *= dims[axis];
  }
  return strides;
}

function resolveMask(args: AttentionShape & AttentionOptions): { kind: AttentionMaskKind; strides: readonly number[] } {
  const { mask } = args;
  if (!mask) return { kind: 'none', strides: [0, 0, 0, 0] };
  const kind = args.maskKind ?? (mask instanceof Uint8Array ? 'bool' : 'additive');
  if (args.maskStrides) return { kind, strides: args.maskStrides };
  const { batch, numHeads, queryLength: Nq, keyLength: Nk } = args;
  if (mask.length === Nq * Nk) return { kind, strides: [0, 0, Nk, 1] };
  if (mask.length === batch * numHeads * Nq * Nk) return { kind, strides: [numHeads * Nq * Nk, Nq * Nk, Nk, 1] };
  throw new Error(`attention: mask has ${mask.length} elements; give maskStrides for shapes other than [Nq, Nk] or [B, H, Nq, Nk]`);
}

/** The keys query row i sees by position: [lo, hi] (empty when lo > hi). */
function visibleKeys(args: AttentionShape & AttentionOptions, i: number): [number, number] {
  const iKey = i + args.keyLength - args.queryLength;
  const left = args.windowLeft ?? -1;
  const right = args.windowRight ?? -1;
  let lo = 0;
  let hi = args.keyLength - 1;
  if (left >= 0) lo = Math.max(lo, iKey - left);
  if (args.causal) hi = Math.min(hi, iKey);
  if (right >= 0) hi = Math.min(hi, iKey + right);
  return [lo, hi];
}

interface HeadScores {
  /** [Nq, Nk] logits after every modification (−∞ where masked). */
  logits: Float64Array;
  /** [Nq, Nk] d(softcapped)/d(scaled score) = 1 − tanh², or 1 without softcap. */
  softcapGrad: Float64Array;
}

/** The logits of head (b, h) — the same steps, in the same order, as the kernels' modifyRow. */
function headScores<T extends FloatArray>(args: AttentionInputs<T>, b: number, h: number): HeadScores {
  const { numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D } = args;
  const scale = args.scale ?? 1 / Math.sqrt(D);
  const cap = args.softcap ?? 0;
  const hk = Math.floor(h / (H / Hk));
  const mask = resolveMask(args);
  const logits = new Float64Array(Nq * Nk);
  const softcapGrad = new Float64Array(Nq * Nk).fill(1);
  for (let i = 0; i < Nq; i++) {
    const [lo, hi] = visibleKeys(args, i);
    const q = ((b * H + h) * Nq + i) * D;
    for (let j = 0; j < Nk; j++) {
      const k = ((b * Hk + hk) * Nk + j) * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += args.query[q + d] * args.key[k + d];
      s *= scale;
      if (cap > 0) {
        const t = Math.tanh(s / cap);
        s = cap * t;
        softcapGrad[i * Nk + j] = 1 - t * t;
      }
      if (args.alibiSlopes) s -= args.alibiSlopes[h] * Math.abs(i + Nk - Nq - j);
      if (mask.kind !== 'none' && args.mask) {
        const [sb, sh, si, sj] = mask.strides;
        const m = args.mask[b * sb + h * sh + i * si + j * sj];
        if (mask.kind === 'additive') s += m;
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
function dropoutFactors(args: AttentionOptions & AttentionShape, b: number, h: number): Float64Array {
  const { queryLength: Nq, keyLength: Nk } = args;
  const p = args.dropoutP ?? 0;
  const factors = new Float64Array(Nq * Nk).fill(1);
  if (p <= 0) return factors;
  const seed = (args.dropoutSeed ?? 0) >>> 0;
  const keepScale = p < 1 ? 1 / (1 - p) : 0;
  for (let i = 0; i < Nq; i++) {
    for (let j = 0; j < Nk; j++) factors[i * Nk + j] = attentionDropoutKeeps(seed, p, b, h, i, j) ? keepScale : 0;
  }
  return factors;
}

function zerosLike<T extends FloatArray>(like: T, length: number): T {
  return (like instanceof Float64Array ? new Float64Array(length) : new Float32Array(length)) as T;
}

function checkShapes<T extends FloatArray>(args: AttentionInputs<T>): void {
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D } = args;
  if (H % Hk !== 0) throw new Error(`attention: key has ${Hk} heads, query ${H}; numKvHeads must divide numHeads`);
  if (args.query.length !== B * H * Nq * D)
    throw new Error(`attention: query has ${args.query.length} elements, expected B·H·Nq·D = ${B * H * Nq * D}`);
  if (args.key.length !== B * Hk * Nk * D)
    throw new Error(`attention: key has ${args.key.length} elements, expected B·Hk·Nk·D = ${B * Hk * Nk * D}`);
  if (args.value.length !== B * Hk * Nk * D)
    throw new Error(`attention: value has ${args.value.length} elements, expected B·Hk·Nk·D = ${B * Hk * Nk * D}`);
}

// ---------------------------------------------------------------------------
// Forward and backward
// ---------------------------------------------------------------------------

export function attentionForwardReference<T extends FloatArray>(args: AttentionInputs<T>): AttentionForwardResult<T> {
  checkShapes(args);
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D } = args;
  const output = zerosLike(args.query, B * H * Nq * D);
  const logSumExp = zerosLike(args.query, B * H * Nq);
  const weights = zerosLike(args.query, B * H * Nq * Nk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hk));
      const { logits } = headScores(args, b, h);
      const { probs, logSumExp: lse } = softmaxRows(logits, Nq, Nk);
      const z = dropoutFactors(args, b, h);
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        logSumExp[row] = lse[i];
        for (let j = 0; j < Nk; j++) weights[row * Nk + j] = probs[i * Nk + j];
        // O = Pd·V
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < Nk; j++) acc += probs[i * Nk + j] * z[i * Nk + j] * args.value[((b * Hk + hk) * Nk + j) * D + d];
          output[row * D + d] = acc;
        }
      }
    }
  }
  return { output, logSumExp, weights };
}

export function attentionBackwardReference<T extends FloatArray>(args: AttentionBackwardInputs<T>): AttentionGradients<T> {
  checkShapes(args);
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D } = args;
  const scale = args.scale ?? 1 / Math.sqrt(D);
  const dO = args.gradOutput;
  const gradQuery = zerosLike(args.query, B * H * Nq * D);
  const gradKey = zerosLike(args.query, B * Hk * Nk * D);
  const gradValue = zerosLike(args.query, B * Hk * Nk * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hk));
      const { logits, softcapGrad } = headScores(args, b, h);
      const { probs } = softmaxRows(logits, Nq, Nk);
      const z = dropoutFactors(args, b, h);
      const qRow = (i: number) => ((b * H + h) * Nq + i) * D;
      const kRow = (j: number) => ((b * Hk + hk) * Nk + j) * D;
      for (let i = 0; i < Nq; i++) {
        // dPd = dO·Vᵀ and dV += Pdᵀ·dO   (forward: O = Pd·V)
        const dP = new Float64Array(Nk);
        for (let j = 0; j < Nk; j++) {
          const pd = probs[i * Nk + j] * z[i * Nk + j];
          let acc = 0;
          for (let d = 0; d < D; d++) {
            acc += dO[qRow(i) + d] * args.value[kRow(j) + d];
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
            gradQuery[qRow(i) + d] += scale * dS * args.key[kRow(j) + d];
            gradKey[kRow(j) + d] += scale * dS * args.query[qRow(i) + d];
          }
        }
      }
    }
  }
  return { gradQuery, gradKey, gradValue };
}
