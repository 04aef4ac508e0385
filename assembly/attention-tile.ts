// Building blocks of the attention kernels besides the GEMM tiles
// (attention-gemm.ts): the softmax passes, the score modifiers (softcap,
// ALiBi, mask, causal/window), the dropout hash, and params access.
// Legend as in attention.ts:
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
import {
  A_ALIBI_SLOPES,
  A_BLOCK_COLS,
  A_BLOCK_ROWS,
  A_LOG_SUM_EXP,
  A_NUM_HEADS,
  A_SCRATCH,
  A_SCRATCH_STRIDE,
  A_KEY_LENGTH,
  A_MASK,
  A_MASK_KIND,
  A_MASK_STRIDE_BATCH,
  A_MASK_STRIDE_HEAD,
  A_MASK_STRIDE_KEY,
  A_MASK_STRIDE_QUERY,
  A_QUERY_LENGTH,
  A_SOFTCAP,
  MASK_ADDITIVE,
  MASK_BOOL,
  MASK_NONE,
  paramF32,
  paramI32,
  paramPtr,
} from './attention-params';
import { align64, roundUp4 } from './attention-gemm';
import { exp2x4, fma, hsum, tanh4 } from './simd';

/** log2(e) and ln(2): the kernels keep logits in base 2 (see exp2x4). */
export const LOG2E: f32 = 1.4426950408889634;
export const LN2: f32 = 0.6931471805599453;

// ---------------------------------------------------------------------------
// Softmax passes
// ---------------------------------------------------------------------------

/** max over the lanes (pmax skips NaN: softmaxStep looks for NaN where it matters). */
// @ts-ignore: decorator
@inline function lanesMax(v: v128): f32 {
  const t = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.pmax(t, i32x4.shuffle(t, t, 1, 0, 3, 2)), 0);
}

/**
 * One online-softmax step over rows r < rows of the tile S of base-2 logits
 * (rows ldS bytes apart, n % 4 == 0 columns), with the running max m[r] and sum l[r]:
 *   m' = max(m, maxⱼ S),  alpha = 2^(m − m'),  S ← 2^(S − m'),  l ← alpha·l + Σⱼ S,  m ← m'.
 * A row that has seen no key yet (m' = −∞) gets S ← 0 and alpha = 1.
 * Two passes (all maxima, then all exponentials) so that one row's exp
 * chain overlaps the next row's instead of waiting on its max reduction.
 */
export function softmaxStep(S: usize, ldS: usize, rows: i32, n: i32, m: usize, l: usize, alpha: usize): void {
  for (let r = 0; r < rows; r++) {
    const s = S + <usize>r * ldS;
    const ro = <usize>r << 2;
    let m0 = f32x4.splat(-Infinity);
    let m1 = m0;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      m0 = f32x4.pmax(m0, v128.load(s + (<usize>j << 2)));
      m1 = f32x4.pmax(m1, v128.load(s + (<usize>j << 2), 16));
    }
    if (j < n) m0 = f32x4.pmax(m0, v128.load(s + (<usize>j << 2)));
    const mOld = load<f32>(m + ro);
    const mx = lanesMax(f32x4.pmax(m0, m1));
    // a NaN m stays NaN (mx > NaN is false); NaN scores under a finite max
    // become NaN through exp2x4; only a row of NaN and −∞ needs a look (rare)
    let mNew = mx > mOld ? mx : mOld;
    if (mNew == -Infinity && rowHasNaN(s, n)) mNew = NaN;
    // alpha = 2^(m − m'): 0 when m = −∞; 1 (O is still 0) when m' = −∞
    store<f32>(alpha + ro, mNew == -Infinity ? 1 : f32x4.extract_lane(exp2x4(f32x4.splat(mOld - mNew)), 0));
    store<f32>(m + ro, mNew);
  }
  for (let r = 0; r < rows; r++) {
    const s = S + <usize>r * ldS;
    const ro = <usize>r << 2;
    const mNew = load<f32>(m + ro);
    if (mNew == -Infinity) {
      memory.fill(s, 0, <usize>n << 2);
      continue;
    }
    store<f32>(l + ro, load<f32>(l + ro) * load<f32>(alpha + ro) + expRowSum(s, n, mNew));
  }
}

/** Does s[0..n) (n % 4 == 0) hold a NaN? */
function rowHasNaN(s: usize, n: i32): bool {
  let any = i32x4.splat(0);
  for (let j = 0; j < n; j += 4) {
    const v = v128.load(s + (<usize>j << 2));
    any = v128.or(any, f32x4.ne(v, v));
  }
  return v128.any_true(any);
}

/** 1/l for the final normalisation: 0 for a row that saw no key (l = 0), NaN stays NaN. */
// @ts-ignore: decorator
@inline export function inverseSum(l: f32): f32 {
  return l == 0 ? 0 : 1 / l;
}

/** s[j] = 2^(s[j] − m) in place for j < n (n % 4 == 0); returns Σ_j s[j]. */
// @ts-ignore: decorator
@inline export function expRowSum(s: usize, n: i32, m: f32): f32 {
  const ms = f32x4.splat(m);
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const p = s + (<usize>j << 2);
    const e0 = exp2x4(f32x4.sub(v128.load(p), ms));
    const e1 = exp2x4(f32x4.sub(v128.load(p, 16), ms));
    v128.store(p, e0);
    v128.store(p, e1, 16);
    a0 = f32x4.add(a0, e0);
    a1 = f32x4.add(a1, e1);
  }
  if (j < n) {
    const p = s + (<usize>j << 2);
    const e0 = exp2x4(f32x4.sub(v128.load(p), ms));
    v128.store(p, e0);
    a0 = f32x4.add(a0, e0);
  }
  return hsum(f32x4.add(a0, a1));
}

// ---------------------------------------------------------------------------
// Dropout: a counter-based hash of (seed, b, h, i, j), independent of tiling
// and threads. Mirrors dropoutHash in src/backend/js/attention.ts bit for bit:
//   rowKey = fmix(fmix(fmix(fmix(seed ^ 0x9E3779B9) + b) + h) + i)
//   hash   = fmix(rowKey + j·0x9E3779B9)
//   keep   ⇔ (hash >>> 8) ≥ floor(p·2^24)   (kept values scaled by 1/(1 − p))
// fmix is MurmurHash3's 32-bit finalizer.
// ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function fmix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x85ebca6b;
  x ^= x >>> 13;
  x *= 0xc2b2ae35;
  x ^= x >>> 16;
  return x;
}

export function dropoutRowKey(seed: u32, b: i32, h: i32, i: i32): u32 {
  let k = fmix32(seed ^ 0x9e3779b9);
  k = fmix32(k + <u32>b);
  k = fmix32(k + <u32>h);
  return fmix32(k + <u32>i);
}

/** Hashes of keys j..j+3 of the row whose key is rowKey. */
// @ts-ignore: decorator
@inline export function dropoutHash4(rowKey: u32, j: i32): v128 {
  const golden = i32x4.splat(0x9e3779b9);
  let x = i32x4.add(i32x4.splat(rowKey), i32x4.mul(i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3)), golden));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x85ebca6b));
  x = v128.xor(x, i32x4.shr_u(x, 13));
  x = i32x4.mul(x, i32x4.splat(0xc2b2ae35));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** floor(p·2^24): a key is kept when (hash >>> 8) ≥ this. */
// @ts-ignore: decorator
@inline export function dropoutThreshold(p: f32): i32 {
  return p <= 0 ? 0 : p >= 1 ? 0x1000000 : <i32>Math.floor(<f64>p * 16777216.0);
}

/** Per-lane multiplier: keepScale where key j0+jj.. is kept, 0 where dropped. */
// @ts-ignore: decorator
@inline export function dropoutFactor4(rowKey: u32, j: i32, threshold: i32, keepScale: v128): v128 {
  const keep = i32x4.ge_s(i32x4.shr_u(dropoutHash4(rowKey, j), 8), i32x4.splat(threshold));
  return v128.and(keepScale, keep);
}

/** s[jj] *= keepScale or 0 as the dropout hash of key j0 + jj decides (jj < n, n % 4 == 0). */
export function dropoutRow(s: usize, n: i32, rowKey: u32, j0: i32, threshold: i32, keepScale: f32): void {
  const ks = f32x4.splat(keepScale);
  for (let j = 0; j < n; j += 4) {
    const p = s + (<usize>j << 2);
    v128.store(p, f32x4.mul(v128.load(p), dropoutFactor4(rowKey, j0 + j, threshold, ks)));
  }
}

// ---------------------------------------------------------------------------
// Which keys a query row sees (bottom-right aligned, i' = i + Nk − Nq):
//   lo(i) = max(0, i' − windowLeft)        (0 when windowLeft = −1)
//   hi(i) = min(Nk − 1, i' if causal, i' + windowRight if windowRight ≥ 0)
// Both are non-decreasing in i, so a block of rows i0..i1−1 sees keys within
// [lo(i0), hi(i1 − 1)], and every row sees all of [lo(i1−1), hi(i0)].
// ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline export function rowLo(i: i32, offset: i32, windowLeft: i32): i32 {
  return windowLeft >= 0 ? max(0, i + offset - windowLeft) : 0;
}

// @ts-ignore: decorator
@inline export function rowHi(i: i32, offset: i32, causal: bool, windowRight: i32, Nk: i32): i32 {
  let hi = Nk - 1;
  if (causal) hi = min(hi, i + offset);
  if (windowRight >= 0) hi = min(hi, i + offset + windowRight);
  return hi;
}

/** The first query row that sees key j (< Nk): hi(i) ≥ j; a lower bound to clamp (i32.MIN_VALUE when every row does). */
// @ts-ignore: decorator
@inline export function firstRowSeeing(j: i32, offset: i32, causal: bool, windowRight: i32): i32 {
  let i = i32.MIN_VALUE;
  if (causal) i = j - offset;
  if (windowRight >= 0) i = max(i, j - offset - windowRight);
  return i;
}

/** The last query row that sees key j: lo(i) ≤ j; an upper bound to clamp (i32.MAX_VALUE when every row does). */
// @ts-ignore: decorator
@inline export function lastRowSeeing(j: i32, offset: i32, windowLeft: i32): i32 {
  return windowLeft >= 0 ? j - offset + windowLeft : i32.MAX_VALUE;
}

/** Does the params block ask for score changes beyond the positional mask (softcap, ALiBi, mask)? */
export function hasScoreModifiers(p: usize): bool {
  return paramF32(p, A_SOFTCAP) > 0 || paramPtr(p, A_ALIBI_SLOPES) != 0 || (paramI32(p, A_MASK_KIND) != MASK_NONE && paramPtr(p, A_MASK) != 0);
}

/**
 * Turns the n (% 4 == 0) scores s[jj] = log2(e)·scale·q_i·k_{j0+jj} of query
 * row (b, h, i) into the (base-2) logits the softmax sees, in this order
 * (every step in natural units times log2 e):
 *   softcap  s ← c·tanh(s/c)              (g[jj] ← 1 − tanh², the derivative, when g ≠ 0)
 *   ALiBi    s ← s − slope_h·|i' − j|      (= slope·(j − i') on every key a causal row sees)
 *   mask     s ← s + mask  |  s ← −∞ where the keep-mask is 0
 *   window   s ← −∞ for j < lo or j > hi  (only when `positional`; also masks padding columns)
 */
export function modifyRow(p: usize, s: usize, g: usize, b: i32, h: i32, i: i32, j0: i32, n: i32, lo: i32, hi: i32, positional: bool): void {
  const Nk = paramI32(p, A_KEY_LENGTH);
  const cap = paramF32(p, A_SOFTCAP) * LOG2E;
  if (cap > 0) {
    const cs = f32x4.splat(cap);
    const inv = f32x4.splat(1 / cap);
    for (let j = 0; j < n; j += 4) {
      const o = <usize>j << 2;
      const t = tanh4(f32x4.mul(v128.load(s + o), inv));
      v128.store(s + o, f32x4.mul(t, cs));
      if (g) v128.store(g + o, f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)));
    }
  }
  const slopes = paramPtr(p, A_ALIBI_SLOPES);
  if (slopes) {
    const negSlope = f32x4.splat(-LOG2E * load<f32>(slopes + (<usize>h << 2)));
    const iq = f32x4.splat(<f32>(i + Nk - paramI32(p, A_QUERY_LENGTH)));
    let jv = f32x4.add(f32x4.splat(<f32>j0), f32x4(0, 1, 2, 3));
    for (let j = 0; j < n; j += 4) {
      const o = <usize>j << 2;
      v128.store(s + o, fma(negSlope, f32x4.abs(f32x4.sub(iq, jv)), v128.load(s + o)));
      jv = f32x4.add(jv, f32x4.splat(4));
    }
  }
  const kind = paramI32(p, A_MASK_KIND);
  const mask = paramPtr(p, A_MASK);
  if (kind != MASK_NONE && mask) {
    const sj = paramI32(p, A_MASK_STRIDE_KEY);
    const rowOffset =
      <usize>b * paramI32(p, A_MASK_STRIDE_BATCH) + <usize>h * paramI32(p, A_MASK_STRIDE_HEAD) + <usize>i * paramI32(p, A_MASK_STRIDE_QUERY);
    // only keys < Nk are read: the mask has no columns for the padding
    const nReal = min(n, Nk - j0);
    let j = 0;
    if (kind == MASK_ADDITIVE) {
      const m = mask + ((rowOffset + <usize>j0 * sj) << 2);
      const log2e = f32x4.splat(LOG2E);
      if (sj == 1) {
        for (; j + 4 <= nReal; j += 4) v128.store(s + (<usize>j << 2), fma(v128.load(m + (<usize>j << 2)), log2e, v128.load(s + (<usize>j << 2))));
      }
      for (; j < nReal; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) + LOG2E * load<f32>(m + ((<usize>j * sj) << 2)));
    } else if (kind == MASK_BOOL) {
      const m = mask + rowOffset + <usize>j0 * sj;
      const ninf = f32x4.splat(-Infinity);
      if (sj == 1) {
        for (; j + 4 <= nReal; j += 4) {
          const bytes = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(m + <usize>j)));
          const o = <usize>j << 2;
          v128.store(s + o, v128.bitselect(ninf, v128.load(s + o), i32x4.eq(bytes, i32x4.splat(0))));
        }
      }
      for (; j < nReal; j++) {
        if (load<u8>(m + <usize>j * sj) == 0) store<f32>(s + (<usize>j << 2), -Infinity);
      }
    }
  }
  if (positional) {
    // keys outside [lo, hi] (an empty range when hi < lo) become −∞
    const a = min(max(lo - j0, 0), n);
    const e = max(min(hi - j0 + 1, n), a);
    for (let j = 0; j < a; j++) store<f32>(s + (<usize>j << 2), -Infinity);
    for (let j = e; j < n; j++) store<f32>(s + (<usize>j << 2), -Infinity);
  }
}

// ---------------------------------------------------------------------------
// Params access shared by the kernels
// ---------------------------------------------------------------------------

/** Br: query rows per tile, a multiple of 4. */
// @ts-ignore: decorator
@inline export function tileRows(p: usize): i32 {
  return max(4, roundUp4(paramI32(p, A_BLOCK_ROWS)));
}

/** Bc: keys per tile, a multiple of 4. */
// @ts-ignore: decorator
@inline export function tileCols(p: usize): i32 {
  return max(4, roundUp4(paramI32(p, A_BLOCK_COLS)));
}

/** Thread tid's scratch region. */
// @ts-ignore: decorator
@inline export function threadScratch(p: usize, tid: i32): usize {
  return align64(paramPtr(p, A_SCRATCH) + <usize>tid * paramPtr(p, A_SCRATCH_STRIDE));
}

// @ts-ignore: decorator
@inline export function rowPtr(p: usize, tensor: i32, strideBatch: i32, b: i32, h: i32, i: i32): usize {
  const stride = <usize>paramI32(p, strideBatch) * b + <usize>paramI32(p, strideBatch + 1) * h + <usize>paramI32(p, strideBatch + 2) * i;
  return paramPtr(p, tensor) + (stride << 2);
}

// @ts-ignore: decorator
@inline export function lsePtr(p: usize, b: i32, h: i32, i: i32): usize {
  return paramPtr(p, A_LOG_SUM_EXP) + (<usize>((b * paramI32(p, A_NUM_HEADS) + h) * paramI32(p, A_QUERY_LENGTH) + i) << 2);
}

