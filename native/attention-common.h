// What the attention kernels share: which keys a query row sees, the score
// modifications (softcap, ALiBi, mask) in the reference's order, and the
// dropout hash (bit for bit the one in src/backend/js/attention.ts).
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
//
// The tiles hold Sᵀ: one row per key, one column per query row, so the
// online softmax runs down columns with whole vectors (no horizontal maxima).
// Scores are kept in log2 units (· log2 e) and exponentiated with exp2.
#ifndef ATTUNE_ATTENTION_COMMON_H
#define ATTUNE_ATTENTION_COMMON_H

#include <cmath>
#include <cstdint>

#include "kernels.h"

static const float LOG2E = 1.4426950408889634f;
static const float LN2 = 0.6931471805599453f;
static const float NEG_INF = -__builtin_inff();

static inline uint32_t fmix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x;
}

/** The hash chain of weight (b, h, i, ·) up to the key: attentionDropoutHash without its last step. */
static inline uint32_t dropout_row_key(uint32_t seed, int b, int h, int i) {
  uint32_t key = fmix32(seed ^ 0x9e3779b9u);
  key = fmix32(key + (uint32_t)b);
  key = fmix32(key + (uint32_t)h);
  return fmix32(key + (uint32_t)i);
}

static inline int dropout_keeps(uint32_t rowKey, int j, uint32_t threshold) {
  return (fmix32(rowKey + (uint32_t)j * 0x9e3779b9u) >> 8) >= threshold;
}

/** floor(p·2^24): a weight is kept when (hash >> 8) ≥ this. */
static inline uint32_t dropout_threshold(float p) {
  return p <= 0 ? 0u : p >= 1 ? 0x1000000u : (uint32_t)floorf(p * 16777216.0f);
}

/** Keys row i sees by position: [lo, hi] (empty when lo > hi). */
static inline void visible_keys(const AttnParams *p, int i, int *lo, int *hi) {
  int iKey = i + p->Nk - p->Nq;
  int l = 0, h = p->Nk - 1;
  if (p->windowLeft >= 0 && iKey - p->windowLeft > l) l = iKey - p->windowLeft;
  if (p->causal && iKey < h) h = iKey;
  if (p->windowRight >= 0 && iKey + p->windowRight < h) h = iKey + p->windowRight;
  *lo = l;
  *hi = h;
}

/** Does anything beyond visibility change the scores (softcap, ALiBi, a mask)? */
static inline int has_modifiers(const AttnParams *p) { return p->softcap > 0 || p->alibi != nullptr || p->maskKind != MASK_NONE; }

/**
 * The reference's modifications of scaled score s of (b, h, i, j): softcap,
 * ALiBi, mask. Writes d(softcapped)/d(s) = 1 − tanh² to *capGrad when given.
 */
static inline float modify_score(const AttnParams *p, float s, int b, int h, int i, int j, float *capGrad) {
  if (p->softcap > 0) {
    float t = tanhf(s / p->softcap);
    s = p->softcap * t;
    if (capGrad) *capGrad = 1.0f - t * t;
  }
  if (p->alibi) s -= p->alibi[h] * fabsf((float)(i + p->Nk - p->Nq - j));
  if (p->maskKind != MASK_NONE) {
    int64_t at = b * p->maskStride[0] + h * p->maskStride[1] + i * p->maskStride[2] + j * p->maskStride[3];
    if (p->maskKind == MASK_ADDITIVE)
      s += ((const float *)p->mask)[at];
    else if (((const uint8_t *)p->mask)[at] == 0)
      s = NEG_INF;
  }
  return s;
}

/** How a Br × Bc block relates to the visible band: 0 nothing visible, 1 all visible, 2 partly. */
static inline int block_visibility(const AttnParams *p, int i0, int br, int j0, int bc) {
  int loFirst, hiFirst, loLast, hiLast;
  visible_keys(p, i0, &loFirst, &hiFirst);
  visible_keys(p, i0 + br - 1, &loLast, &hiLast);
  if (hiLast < j0 || loFirst > j0 + bc - 1) return 0;
  if (loLast <= j0 && hiFirst >= j0 + bc - 1) return 1;
  return 2;
}

#endif
