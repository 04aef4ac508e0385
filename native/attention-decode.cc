// Decode: a few query rows (Nq ≤ 4, say) against a long key sequence. The keys
// of each (b, kv head) are split into chunks; a task runs every query row of
// the GQA group (G = H/Hk heads × Nq rows) over one chunk, so K and V are
// read once per group, and leaves a partial (m, l, O) per row; a merge then
// combines the chunks: O = Σ 2^(m_s − M)·O_s / Σ 2^(m_s − M)·l_s.
#include <atomic>
#include <cstring>

#include "attention-common.h"
#include "pool.h"
#include "scratch.h"
#include "vec.h"

#define MAX_THREADS 256
#define KEYS 64 /* keys per inner block */

namespace {

struct DecodeJob {
  const AttnParams *p;
  int splits, chunk, rows, Dp, modifiers;
  float qScale;
  uint32_t threshold;
  std::atomic<int> next;
  float *partials; /* [B·Hk][splits][rows][2 + Dp]: m (log2 units), l, O */
  float *scratch[MAX_THREADS];
};

inline float dot(const float *a, const float *b, int D) {
  vf acc = vzero();
  int d = 0;
  for (; d + W <= D; d += W) acc = vfma(vload(a + d), vload(b + d), acc);
  if (d < D) acc = vfma(vload_n(a + d, D - d), vload_n(b + d, D - d), acc);
  return vsum(acc);
}

/** max of s[0..n), NaN or not: a NaN score turns its weight, hence l and O, into NaN anyway. */
inline float row_max(const float *s, int n) {
  vf m = vset1(NEG_INF);
  int j = 0;
  for (; j + W <= n; j += W) m = vmax(vload(s + j), m);
  float result = vhmax(m);
  for (; j < n; j++)
    if (s[j] > result) result = s[j];
  return result;
}

/** s[j] = q·k_j for the n ≤ KEYS rows of k: W keys at a time, one accumulator each, summed by a transpose tree. */
template <int NCHUNK> /* D = NCHUNK·W, or 0: any D */
inline void scores_of(const float *q, const float *k, int n, int D, float *s) {
  const int chunks = NCHUNK > 0 ? NCHUNK : D / W;
  int j0 = 0;
  for (; j0 + W <= n; j0 += W) {
    vf acc[W];
#pragma GCC unroll 16
    for (int t = 0; t < W; t++) acc[t] = vzero();
    for (int c = 0; c < chunks; c++) {
      const vf qv = vload(q + c * W);
#pragma GCC unroll 16
      for (int t = 0; t < W; t++) acc[t] = vfma(qv, vload(k + (size_t)(j0 + t) * D + c * W), acc[t]);
    }
    if (NCHUNK == 0 && D % W) {
      const int d = chunks * W;
      const vf qv = vload_n(q + d, D - d);
#pragma GCC unroll 16
      for (int t = 0; t < W; t++) acc[t] = vfma(qv, vload_n(k + (size_t)(j0 + t) * D + d, D - d), acc[t]);
    }
    vstore(s + j0, vsum_lanes(acc));
  }
  for (; j0 < n; j0++) s[j0] = dot(q, k + (size_t)j0 * D, D);
}

inline void scores(const float *q, const float *k, int n, int D, float *s) {
  switch (D) {
    case 2 * W: return scores_of<2>(q, k, n, D, s);
    case 4 * W: return scores_of<4>(q, k, n, D, s);
    case 8 * W: return scores_of<8>(q, k, n, D, s);
    default: return scores_of<0>(q, k, n, D, s);
  }
}

/** o[0..NVEC·W) += Σ_{j<n} p[j]·v[j·D ..] with o in registers (D = NVEC·W). */
template <int NVEC>
inline void accumulate_fixed(float *o, const float *p, const float *v, int n, int D) {
  vf acc[NVEC];
#pragma GCC unroll 16
  for (int c = 0; c < NVEC; c++) acc[c] = vload(o + c * W);
  for (int j = 0; j < n; j++) {
    const vf pj = vset1(p[j]);
    const float *vj = v + (size_t)j * D;
#pragma GCC unroll 16
    for (int c = 0; c < NVEC; c++) acc[c] = vfma(pj, vload(vj + c * W), acc[c]);
  }
#pragma GCC unroll 16
  for (int c = 0; c < NVEC; c++) vstore(o + c * W, acc[c]);
}

/** o[0..D) += Σ_{j<n} p[j]·v[j·D ..]. */
inline void accumulate_values(float *o, const float *p, const float *v, int n, int D) {
  switch (D) {
    case W: return accumulate_fixed<1>(o, p, v, n, D);
    case 2 * W: return accumulate_fixed<2>(o, p, v, n, D);
    case 4 * W: return accumulate_fixed<4>(o, p, v, n, D);
    case 8 * W: return accumulate_fixed<8>(o, p, v, n, D);
    default: break;
  }
  const int full = D / W, tail = D % W;
  for (int j = 0; j < n; j++) {
    const vf pj = vset1(p[j]);
    const float *vj = v + (size_t)j * D;
    for (int c = 0; c < full; c++) vstore(o + c * W, vfma(pj, vload(vj + c * W), vload(o + c * W)));
    if (tail) vstore_n(o + full * W, vfma(pj, vload_n(vj + full * W, tail), vload_n(o + full * W, tail)), tail);
  }
}

void decode_task(void *ctx, int thread, int) {
  DecodeJob *job = (DecodeJob *)ctx;
  const AttnParams *p = job->p;
  const int D = p->D, Dp = job->Dp, R = job->rows, G = p->H / p->Hk, Nq = p->Nq;
  const int record = 2 + Dp;
  float *qs = job->scratch[thread];       /* [R][Dp] scaled query rows */
  float *sc = qs + (size_t)R * Dp;        /* [R][KEYS] scores, then weights */
  float *o = sc + (size_t)R * KEYS;       /* [R][Dp] */
  float *m = o + (size_t)R * Dp, *l = m + R;
  int *lo = (int *)(l + R), *hi = lo + R;
  uint32_t *rowKey = (uint32_t *)(hi + R);
  const int tasks = p->B * p->Hk * job->splits;
  for (int task; (task = job->next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
    const int bhk = task / job->splits, split = task % job->splits, b = bhk / p->Hk, hk = bhk % p->Hk;
    const int js = split * job->chunk, je = js + job->chunk < p->Nk ? js + job->chunk : p->Nk;
    const float *kh = p->k + (size_t)bhk * p->keyCapacity * D, *vh = p->v + (size_t)bhk * p->keyCapacity * D;
    for (int r = 0; r < R; r++) {
      const int h = hk * G + r / Nq, i = r % Nq;
      const float *q = p->q + (((size_t)b * p->H + h) * Nq + i) * D;
      for (int d = 0; d < D; d++) qs[(size_t)r * Dp + d] = q[d] * job->qScale;
      visible_keys(p, i, &lo[r], &hi[r]);
      if (p->dropoutP > 0) rowKey[r] = dropout_row_key(p->dropoutSeed, b, h, i);
      m[r] = NEG_INF;
      l[r] = 0.0f;
    }
    memset(o, 0, (size_t)R * Dp * sizeof(float));
    for (int j0 = js; j0 < je; j0 += KEYS) {
      const int bk = je - j0 < KEYS ? je - j0 : KEYS;
      for (int r = 0; r < R; r++) {
        const int h = hk * G + r / Nq, i = r % Nq;
        float *row = sc + (size_t)r * KEYS;
        scores(qs + (size_t)r * Dp, kh + (size_t)j0 * D, bk, D, row);
        if (job->modifiers)
          for (int j = 0; j < bk; j++) row[j] = modify_score(p, row[j], b, h, i, j0 + j, nullptr) * LOG2E;
        for (int j = 0; j < bk && j0 + j < lo[r]; j++) row[j] = NEG_INF;
        for (int j = bk - 1; j >= 0 && j0 + j > hi[r]; j--) row[j] = NEG_INF;
        const float blockMax = row_max(row, bk);
        const float mNew = blockMax > m[r] || blockMax != blockMax ? blockMax : m[r];
        const float mUse = mNew == NEG_INF ? 0.0f : mNew;
        const vf mv = vset1(mUse);
        vf sum = vzero();
        int j = 0;
        for (; j + W <= bk; j += W) {
          vf pj = vexp2(vsub(vload(row + j), mv));
          vstore(row + j, pj);
          sum = vadd(sum, pj);
        }
        if (j < bk) {
          vf pj = vexp2(vsub(vload_n(row + j, bk - j), mv));
          vstore_n(row + j, pj, bk - j);
          sum = vadd(sum, vload_n(row + j, bk - j)); /* the stored lanes only */
        }
        const float alpha = exp2f(m[r] - mUse);
        l[r] = l[r] * alpha + vsum(sum);
        m[r] = mNew;
        if (j0 != js) {
          vf a = vset1(alpha);
          for (int d = 0; d < Dp; d += W) vstore(o + (size_t)r * Dp + d, vmul(vload(o + (size_t)r * Dp + d), a));
        }
        if (p->dropoutP > 0)
          for (int jj = 0; jj < bk; jj++) row[jj] *= dropout_keeps(rowKey[r], j0 + jj, job->threshold) ? p->dropoutKeepScale : 0.0f;
      }
      /* O_r += Σⱼ P_rj·V_j: the row's O in registers across the block (V rows stay in L1 for the next row) */
      for (int r = 0; r < R; r++) accumulate_values(o + (size_t)r * Dp, sc + (size_t)r * KEYS, vh + (size_t)j0 * D, bk, D);
    }
    float *part = job->partials + ((size_t)bhk * job->splits + split) * R * record;
    for (int r = 0; r < R; r++) {
      part[(size_t)r * record] = m[r];
      part[(size_t)r * record + 1] = l[r];
      memcpy(part + (size_t)r * record + 2, o + (size_t)r * Dp, (size_t)D * sizeof(float));
    }
  }
}

/** One thread per row group: combine the chunks' (m, l, O) of every row. */
void merge_task(void *ctx, int thread, int threads) {
  DecodeJob *job = (DecodeJob *)ctx;
  const AttnParams *p = job->p;
  const int D = p->D, R = job->rows, G = p->H / p->Hk, Nq = p->Nq, record = 2 + job->Dp, S = job->splits;
  for (int bhk = thread; bhk < p->B * p->Hk; bhk += threads) {
    const int b = bhk / p->Hk, hk = bhk % p->Hk;
    const float *base = job->partials + (size_t)bhk * S * R * record;
    for (int r = 0; r < R; r++) {
      const int h = hk * G + r / Nq, i = r % Nq;
      float *out = p->o + (((size_t)b * p->H + h) * Nq + i) * D;
      float M = NEG_INF;
      for (int s = 0; s < S; s++) {
        float ms = base[((size_t)s * R + r) * record];
        if (ms > M || ms != ms) M = ms;
        if (M != M) break;
      }
      const float mUse = M == NEG_INF ? 0.0f : M;
      float L = 0.0f;
      for (int d = 0; d < D; d++) out[d] = 0.0f;
      for (int s = 0; s < S; s++) {
        const float *rec = base + ((size_t)s * R + r) * record;
        const float w = exp2f(rec[0] - mUse);
        L += w * rec[1];
        for (int d = 0; d < D; d++) out[d] += w * rec[2 + d];
      }
      const float inv = L == 0.0f ? 0.0f : 1.0f / L;
      for (int d = 0; d < D; d++) out[d] *= inv;
      if (p->lse) p->lse[((size_t)b * p->H + h) * Nq + i] = L == 0.0f ? NEG_INF : (M + log2f(L)) * LN2;
    }
  }
}

}  // namespace

int SUFFIX(attention_decode)(const AttnParams *p) {
  static Scratch scratch[MAX_THREADS];
  static Scratch partials;
  DecodeJob job;
  job.p = p;
  job.rows = (p->H / p->Hk) * p->Nq;
  job.Dp = ((p->D + W - 1) / W) * W;
  job.modifiers = has_modifiers(p);
  job.qScale = job.modifiers ? p->scale : p->scale * LOG2E;
  job.threshold = dropout_threshold(p->dropoutP);
  int threads = p->threads < 1 ? 1 : p->threads;
  if (threads > pool_size()) threads = pool_size();
  const int groups = p->B * p->Hk;
  if (groups == 0 || job.rows == 0) return 0;
  /* Split the keys only as far as the threads need work (two items each): every split costs a record and a merge. */
  const int chunkMin = p->decodeChunk > 0 ? p->decodeChunk : 512;
  int splits = (2 * threads + groups - 1) / groups;
  if (threads == 1) splits = 1;
  const int maxSplits = p->Nk / chunkMin > 1 ? p->Nk / chunkMin : 1;
  if (splits > maxSplits) splits = maxSplits;
  job.splits = splits;
  job.chunk = (p->Nk + splits - 1) / splits;
  job.next.store(0);
  const size_t record = 2 + (size_t)job.Dp;
  if (!(job.partials = scratch_get(&partials, (size_t)groups * splits * job.rows * record))) return -1;
  const size_t floats = (size_t)job.rows * (2 * job.Dp + 64 + 5) + 64;
  int tasks = groups * splits;
  int used = threads < tasks ? threads : tasks;
  for (int t = 0; t < used; t++)
    if (!(job.scratch[t] = scratch_get(&scratch[t], floats))) return -1;
  pool_run_dynamic(decode_task, &job, used);
  pool_run(merge_task, &job, 1);
  return 0;
}
