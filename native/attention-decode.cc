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
        float blockMax = NEG_INF;
        for (int j = 0; j < bk; j++) {
          float s = dot(qs + (size_t)r * Dp, kh + (size_t)(j0 + j) * D, D);
          if (job->modifiers) s = modify_score(p, s, b, h, i, j0 + j, nullptr) * LOG2E;
          if (j0 + j < lo[r] || j0 + j > hi[r]) s = NEG_INF;
          row[j] = s;
          if (s > blockMax || s != s) blockMax = s;
        }
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
      /* O_r += Σⱼ P_rj·V_j: each V row is loaded once for the whole group */
      for (int j = 0; j < bk; j++) {
        const float *vj = vh + (size_t)(j0 + j) * D;
        int d = 0;
        for (; d + W <= D; d += W) {
          vf vv = vload(vj + d);
          for (int r = 0; r < R; r++) vstore(o + (size_t)r * Dp + d, vfma(vset1(sc[(size_t)r * KEYS + j]), vv, vload(o + (size_t)r * Dp + d)));
        }
        if (d < D) {
          vf vv = vload_n(vj + d, D - d);
          for (int r = 0; r < R; r++) vstore(o + (size_t)r * Dp + d, vfma(vset1(sc[(size_t)r * KEYS + j]), vv, vload(o + (size_t)r * Dp + d)));
        }
      }
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
  pool_run(decode_task, &job, used);
  pool_run(merge_task, &job, 1);
  return 0;
}
