// Scaled dot-product attention, Attention(Q, K, V) = softmax(QKᵀ·scale + bias)·V,
// fused: the forward keeps only the row log-sum-exp, the backward recomputes
// the scores tile by tile (FlashAttention-2), so extra memory is O(N·D).
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim
//
//   forward:  S = scale·QKᵀ (→ softcap → + ALiBi → + mask / causal / window),
//             P = softmax(S), O = dropout(P)·V,  LSE = log Σⱼ e^S
//   backward: D = rowsum(dO∘O),  P recomputed from LSE,
//             dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P∘(dP − D),  dQ = dS·K·scale,  dK = dSᵀ·Q·scale
//             (dK, dV summed over the query heads that share a kv head)

import { needsGrad, record } from '../autograd/tape.js';
import type { AttentionLayout } from '../backend/attention-schema.js';
import { getBackend, kernelFor, withBackend } from '../backend/backend.js';
import type { AttentionParams } from '../backend/kernels.js';
import { routeFor } from '../backend/settings.js';
import { tensor } from '../tensor/create.js';
import { rngFor } from '../tensor/random.js';
import { broadcastStrides, formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFinite, checkInputs, checkOptions, checkSameDtype, isCheckingNumerics, type OptionKeys, optionKeys } from './checks.js';
import { permute } from './shape.js';

export type { AttentionLayout };

export interface AttentionOptions {
  /** Multiplies QKᵀ; default 1/√headDim. */
  scale?: number;
  /**
   * bool keep-mask (true = attend) or float additive mask, any shape that
   * broadcasts to [B, H, Nq, Nk]: [Nq, Nk], [B, 1, Nq, Nk], [B, H, Nq, Nk], ...
   */
  mask?: Tensor;
  /**
   * Causal masking aligned bottom-right: query row i sees keys j ≤ i + Nk − Nq,
   * so the last query lines up with the last key (FlashAttention's convention,
   * and what decoding against a KV cache needs). With Nq = Nk it is the usual lower triangle.
   */
  causal?: boolean;
  /** Sliding window, relative to the same diagonal: [left, right] keys, or one number for both; −1 = unbounded. */
  window?: number | readonly [number, number];
  /** ALiBi: one slope per query head (see alibiSlopes() for the standard ones); adds −slope·|i' − j|. */
  alibiSlopes?: Tensor | readonly number[];
  /** Gemma-style score capping s → c·tanh(s/c), applied after scaling. */
  softcap?: number;
  /** Dropout probability on the attention weights (training only). */
  dropout?: number;
  /** Seed of the dropout mask; the backward regenerates the same mask. */
  seed?: number;
  /** false turns dropout off (evaluation). Default true. */
  training?: boolean;
  /**
   * How q, k, v (and the output) are laid out: 'bhnd' [B, H, N, D] (default),
   * or 'bnhd' [B, N, H, D] — a [B, N, H·D] projection reshaped, with no permute
   * copies (FlashAttention's flash_attn_func layout). Not for a KV cache.
   */
  layout?: AttentionLayout;
}

const ATTENTION_KEYS: OptionKeys<AttentionOptions> = {
  scale: true,
  mask: true,
  causal: true,
  window: true,
  alibiSlopes: true,
  softcap: true,
  dropout: true,
  seed: true,
  training: true,
  layout: true,
};
/** The option keys attention knows (also KVCache.attend's). */
export const attentionOptionKeys = optionKeys<AttentionOptions>(ATTENTION_KEYS);
const WITH_WEIGHTS_KEYS = [...attentionOptionKeys, 'returnWeights'];

/** Checks the options object, and with numerics checking on, q, k, v and the scale for NaN and infinities. */
function checkAttentionInputs(q: Tensor, k: Tensor, v: Tensor, options: object, known: readonly string[], cache = false): void {
  checkOptions('attention', options, known);
  const layout = (options as AttentionOptions).layout;
  if (layout !== undefined && layout !== 'bhnd' && layout !== 'bnhd')
    throw new Error(`attention: layout must be 'bhnd' or 'bnhd', got ${JSON.stringify(layout)}`);
  if (cache && layout === 'bnhd') throw new Error("attention: a KV cache holds [B, Hk, capacity, D]; layout 'bnhd' is not for it");
  checkShapes(q, k, v, layout ?? 'bhnd');
  if (!isCheckingNumerics()) return;
  // a cache's buffers hold unwritten rows past its length: its appends were checked instead
  checkFinite('attention', cache ? { query: q } : { query: q, key: k, value: v });
  const scale = (options as AttentionOptions).scale;
  if (scale !== undefined && !Number.isFinite(scale)) throw new Error(`attention: scale is ${scale}; a finite number is needed`);
}

export interface AttentionWithWeights {
  output: Tensor;
  /** softmax probabilities [B, H, Nq, Nk] before dropout; not differentiable. */
  weights: Tensor;
}

/** The standard ALiBi slopes for numHeads heads (Press et al.), interpolated when numHeads is not a power of two. */
export function alibiSlopes(numHeads: number): number[] {
  const powerOfTwo = (n: number) => Array.from({ length: n }, (_, i) => 2 ** ((-8 * (i + 1)) / n));
  const base = 2 ** Math.floor(Math.log2(numHeads));
  if (base === numHeads) return powerOfTwo(numHeads);
  const extra = powerOfTwo(2 * base)
    .filter((_, i) => i % 2 === 0)
    .slice(0, numHeads - base);
  return [...powerOfTwo(base), ...extra];
}

/** [batch, heads, seq, headDim] of a q/k/v tensor in `layout`. */
function dims(t: Tensor, layout: AttentionLayout): [number, number, number, number] {
  const [b, x, y, d] = t.shape as [number, number, number, number];
  return layout === 'bnhd' ? [b, y, x, d] : [b, x, y, d];
}

function checkShapes(q: Tensor, k: Tensor, v: Tensor, layout: AttentionLayout): void {
  checkInputs('attention', { query: q, key: k, value: v });
  checkSameDtype('attention', q, k);
  checkSameDtype('attention', q, v);
  const expected = layout === 'bnhd' ? '[batch, seq, heads, headDim]' : '[batch, heads, seq, headDim]';
  for (const [name, t] of [
    ['query', q],
    ['key', k],
    ['value', v],
  ] as const) {
    if (t.rank !== 4) throw new Error(`attention: ${name} must be ${expected}, got ${formatShape(t.shape)}`);
  }
  if (k.shape.some((d, i) => d !== v.shape[i])) {
    throw new Error(`attention: key ${formatShape(k.shape)} and value ${formatShape(v.shape)} must have the same shape`);
  }
  const [qb, qh, , qd] = dims(q, layout);
  const [kb, kh, , kd] = dims(k, layout);
  if (qb !== kb) throw new Error(`attention: query has batch ${qb}, key ${kb}`);
  if (qd !== kd) throw new Error(`attention: query has headDim ${qd}, key ${kd}`);
  if (kh === 0 || qh % kh !== 0) {
    throw new Error(`attention: key has ${kh} heads, query ${qh}; numKvHeads must divide numHeads`);
  }
}

function windowSizes(window: AttentionOptions['window']): [number, number] {
  if (window === undefined) return [-1, -1];
  const [left, right] = typeof window === 'number' ? [window, window] : window;
  for (const w of [left, right]) {
    if (!Number.isInteger(w) || w < -1)
      throw new Error(`attention: window sizes must be integers ≥ −1 (−1 = unbounded), got ${JSON.stringify(window)}`);
  }
  return [left, right];
}

/** Validates the options and builds the kernel parameters (keyCapacity = keyLength unless a cache says otherwise). */
export function attentionParams(q: Tensor, k: Tensor, options: AttentionOptions, keyLength?: number): AttentionParams {
  const layout = options.layout ?? 'bhnd';
  const [B, H, Nq, D] = dims(q, layout);
  const [, Hk, capacity] = dims(k, layout);
  keyLength ??= capacity;
  const shape = { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength, headDim: D };
  const mask = options.mask ?? null;
  if (mask) {
    checkInputs('attention', { mask }, ['bool', 'float32', 'float64']);
    if (mask.dtype !== 'bool' && mask.dtype !== q.dtype)
      throw new Error(`attention: an additive mask must be ${q.dtype}, got ${mask.dtype}`);
    const full = [B, H, Nq, keyLength];
    const dims = [...new Array(Math.max(0, 4 - mask.rank)).fill(1), ...mask.shape];
    if (mask.rank < 2 || mask.rank > 4 || dims.some((d, i) => d !== 1 && d !== full[i])) {
      throw new Error(`attention: mask ${formatShape(mask.shape)} does not broadcast to [B, H, Nq, Nk] = ${formatShape(full)}`);
    }
  }
  const dropoutP = options.training === false ? 0 : (options.dropout ?? 0);
  if (!(dropoutP >= 0 && dropoutP < 1)) throw new Error(`attention: dropout must be in [0, 1), got ${options.dropout}`);
  const softcap = options.softcap ?? 0;
  if (!(softcap >= 0)) throw new Error(`attention: softcap must be ≥ 0 (0 = off), got ${softcap}`);
  let slopes: Tensor | null = null;
  if (options.alibiSlopes) {
    slopes =
      options.alibiSlopes instanceof Tensor
        ? options.alibiSlopes
        : tensor(Float32Array.from(options.alibiSlopes), [options.alibiSlopes.length], q.dtype);
    if (slopes.size !== H) throw new Error(`attention: alibiSlopes has ${slopes.size} slopes for ${H} query heads`);
  }
  const [windowLeft, windowRight] = windowSizes(options.window);
  return {
    ...shape,
    keyCapacity: capacity,
    scale: options.scale ?? 1 / Math.sqrt(D),
    causal: options.causal ?? false,
    windowLeft,
    windowRight,
    softcap,
    dropoutP,
    dropoutSeed: dropoutP > 0 ? (options.seed ?? rngFor(undefined).nextU32()) >>> 0 : 0,
    mask,
    maskKind: mask ? (mask.dtype === 'bool' ? 'bool' : 'additive') : 'none',
    maskStrides: mask ? (broadcastStrides(mask.shape, [B, H, Nq, keyLength]) as [number, number, number, number]) : [0, 0, 0, 0],
    alibiSlopes: slopes,
    ...(layout === 'bnhd' && { layout }),
  };
}

/** The few-query-rows path: split over the key length, no saved statistics. */
function useDecodePath(p: AttentionParams, differentiable: boolean): boolean {
  return !differentiable && p.queryLength <= 4 && p.keyLength >= 128 && p.dropoutP === 0 && p.layout !== 'bnhd';
}

/**
 * Can the backends that will run this call's attention kernels read layout
 * 'bnhd'? The active backend's, or the one a kernel-settings route names
 * (float64 and bool inputs always take the js reference, which can).
 */
function takesLayout(p: AttentionParams, q: Tensor): boolean {
  if (q.dtype === 'float64') return true;
  const active = getBackend();
  return (['attentionForward', 'attentionBackward'] as const).every((kernel) => {
    const routed = routeFor(kernel, p, active.threads);
    const backend = routed && routed !== active.name ? withBackend(routed, getBackend) : active;
    return backend.attentionLayouts?.includes('bnhd') ?? false;
  });
}

/** Runs the forward; logSumExp is null on the decode path, which keeps no statistics. */
function forward(q: Tensor, k: Tensor, v: Tensor, p: AttentionParams, allowDecode: boolean): { out: Tensor; logSumExp: Tensor | null } {
  const out = Tensor.empty(q.shape, q.dtype);
  const differentiable = needsGrad(q) || needsGrad(k) || needsGrad(v);
  if (allowDecode && useDecodePath(p, differentiable)) {
    kernelFor('attentionDecode', [q, k])(q, k, v, out, p);
    return { out, logSumExp: null };
  }
  const logSumExp = Tensor.empty([p.batch, p.numHeads, p.queryLength], q.dtype);
  kernelFor('attentionForward', [q, k])(q, k, v, out, logSumExp, p);
  record(
    'scaledDotProductAttention',
    [q, k, v],
    out,
    (gradOut) => {
      const gq = Tensor.empty(q.shape, q.dtype);
      const gk = Tensor.empty(k.shape, k.dtype);
      const gv = Tensor.empty(v.shape, v.dtype);
      kernelFor('attentionBackward', [q, gradOut])(q, k, v, out, logSumExp, gradOut, gq, gk, gv, p);
      return [gq, gk, gv];
    },
    [logSumExp, p.mask, p.alibiSlopes],
  );
  return { out, logSumExp };
}

/**
 * Attention(Q, K, V) = softmax(QKᵀ·scale + bias)·V over q [B, H, Nq, D] and
 * k, v [B, Hk, Nk, D]; Hk < H is grouped-query (Hk = 1: multi-query) attention.
 * A fully masked row gives zeros and zero gradients. With returnWeights, the
 * probabilities are materialised too (O(N²): for pictures, not training).
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions & { returnWeights?: false }): Tensor;
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions & { returnWeights: true },
): AttentionWithWeights;
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions & { returnWeights?: boolean } = {},
): Tensor | AttentionWithWeights {
  checkAttentionInputs(q, k, v, options, WITH_WEIGHTS_KEYS);
  const p = attentionParams(q, k, options);
  if (p.layout === 'bnhd' && !takesLayout(p, q)) {
    // this backend reads [B, H, N, D] only: permute in, attend, permute out
    const swap = (t: Tensor) => permute(t, [0, 2, 1, 3]);
    const inner = { ...options, layout: 'bhnd' as const };
    if (!options.returnWeights) return swap(scaledDotProductAttention(swap(q), swap(k), swap(v), { ...inner, returnWeights: false }));
    const { output, weights } = scaledDotProductAttention(swap(q), swap(k), swap(v), { ...inner, returnWeights: true });
    return { output: swap(output), weights };
  }
  const { out, logSumExp } = forward(q, k, v, p, !options.returnWeights);
  if (!options.returnWeights || !logSumExp) return out;
  const weights = Tensor.empty([p.batch, p.numHeads, p.queryLength, p.keyLength], q.dtype);
  kernelFor('attentionWeights', [q, k])(q, k, logSumExp, weights, p);
  return { output: out, weights };
}

/** Attention against the first keyLength rows of k/v buffers with spare capacity (a KV cache); inference only. */
export function attentionAgainstCache(q: Tensor, keys: Tensor, values: Tensor, keyLength: number, options: AttentionOptions = {}): Tensor {
  checkAttentionInputs(q, keys, values, options, attentionOptionKeys, true);
  if (needsGrad(q) || needsGrad(keys) || needsGrad(values)) {
    throw new Error('attention: attending to a KV cache is for inference; train with scaledDotProductAttention (or wrap in noGrad)');
  }
  if (keyLength < 0 || keyLength > keys.shape[2])
    throw new Error(`attention: keyLength ${keyLength} exceeds the cache capacity ${keys.shape[2]}`);
  return forward(q, keys, values, attentionParams(q, keys, options, keyLength), true).out;
}
