// Attention forward (FlashAttention-2 tiling, online softmax) and split-K
// decode. Legend and the Sᵀ tile layout: attention-common.h.
//
// Forward, per task (b, h, block of Br query rows):
//   Qᵀ packed once, scaled (by scale·log2 e when nothing but visibility modifies scores)
//   for each block of Bc keys the rows can see:
//     Sᵀ = K_blk·Qᵀ                       (micro-kernel: keys × query rows)
//     modifications, −∞ outside the band
//     m' = max(m, maxⱼ Sᵀ), α = 2^(m − m'), Pᵀ = 2^(Sᵀ − m'), l = α·l + Σⱼ Pᵀ
//     O = α·O + Pᵀᵀ·V (after dropout)     (micro-kernel: query rows × D)
//   O /= l, LSE = (m + log2 l)·ln 2; a row that saw no key gives O = 0, LSE = −∞.
#include <atomic>
#include <cstring>

#include "attention-common.h"
#include "microkernel.h"
#include "pool.h"
#include "scratch.h"

#define MAX_THREADS 256
#define ROUND_UP(x, m) ((((x) + (m) - 1) / (m)) * (m))

namespace {

struct ForwardJob {
  const AttnParams *p;
  int Br, Bc, Dp;
  int blocksPerHead, tasks;
  int modifiers;
  float qScale;
  uint32_t threshold;
  std::atomic<int> next;
  float *scratch[MAX_THREADS];
  size_t scratchFloats;
};

/* Per-thread scratch of the forward: Qᵀ, Sᵀ, O accumulator, V block, K tail, row statistics. */
struct ForwardScratch {
  float *qt, *st, *oacc, *vpad, *kpad, *m, *l, *alpha;
  int *lo, *hi;
  uint32_t *rowKey;
};

ForwardScratch forward_scratch(const ForwardJob *job, float *base) {
  const int Br = job->Br, Bc = job->Bc, Dp = job->Dp, D = job->p->D;
  ForwardScratch s;
  s.qt = base;
  s.st = s.qt + (size_t)Br * D;
  s.oacc = s.st + (size_t)(Bc + 1) * Br + MR;
  s.vpad = s.oacc + (size_t)(Br + MR) * Dp;
  s.kpad = s.vpad + (size_t)Bc * Dp;
  s.m = s.kpad + (size_t)MR * D;
  s.l = s.m + Br;
  s.alpha = s.l + Br;
  s.lo = (int *)(s.alpha + Br);
  s.hi = s.lo + Br;
  s.rowKey = (uint32_t *)(s.hi + Br);
  return s;
}

size_t forward_scratch_floats(int Br, int Bc, int Dp, int D) {
  return (size_t)Br * D + (size_t)(Bc + 1) * Br + MR + (size_t)(Br + MR) * Dp + (size_t)Bc * Dp + (size_t)MR * D + 6 * (size_t)Br + 64;
}

/** Qᵀ in NR-column panels [panel][d][NR], times qScale, zero past the br rows. */
void pack_query_transposed(const float *q, int br, int D, int panels, float qScale, float *qt) {
  for (int panel = 0; panel < panels; panel++) {
    float *dst = qt + (size_t)panel * D * NR;
    for (int c = 0; c < NR; c++) {
      int row = panel * NR + c;
      if (row < br) {
        const float *src = q + (size_t)row * D;
        for (int d = 0; d < D; d++) dst[d * NR + c] = src[d] * qScale;
      } else {
        for (int d = 0; d < D; d++) dst[d * NR + c] = 0.0f;
      }
    }
  }
}

/** Sᵀ[bc][ld] = K rows [j0, j0 + bc) · Qᵀ (columns in `panels` panels of NR). */
void scores_transposed(const float *k, int bc, int D, const float *qt, int panels, float *st, int ld, float *kpad) {
  for (int r0 = 0; r0 < bc; r0 += MR) {
    int mr = bc - r0 < MR ? bc - r0 : MR;
    const float *ka = k + (size_t)r0 * D;
    if (mr < MR) { /* the last keys: copy so the micro-kernel never reads past the tensor */
      memcpy(kpad, ka, (size_t)mr * D * sizeof(float));
      memset(kpad + (size_t)mr * D, 0, (size_t)(MR - mr) * D * sizeof(float));
      ka = kpad;
    }
    for (int panel = 0; panel < panels; panel++)
      microkernel(D, ka, D, 1, qt + (size_t)panel * D * NR, NR, st + (size_t)r0 * ld + panel * NR, ld, mr, NR, 0);
  }
}

void forward_task(void *ctx, int thread, int) {
  ForwardJob *job = (ForwardJob *)ctx;
  const AttnParams *p = job->p;
  const int Br = job->Br, Bc = job->Bc, Dp = job->Dp, D = p->D, G = p->H / p->Hk;
  ForwardScratch s = forward_scratch(job, job->scratch[thread]);
  for (int task; (task = job->next.fetch_add(1, std::memory_order_relaxed)) < job->tasks;) {
    const int bh = task / job->blocksPerHead, b = bh / p->H, h = bh % p->H, hk = h / G;
    const int i0 = (task % job->blocksPerHead) * Br, br = p->Nq - i0 < Br ? p->Nq - i0 : Br;
    const int panels = (br + NR - 1) / NR, brW = ROUND_UP(br, W);
    const float *q = p->q + ((size_t)bh * p->Nq + i0) * D;
    const float *kh = p->k + ((size_t)b * p->Hk + hk) * p->keyCapacity * D;
    const float *vh = p->v + ((size_t)b * p->Hk + hk) * p->keyCapacity * D;
    pack_query_transposed(q, br, D, panels, job->qScale, s.qt);
    int jStart = p->Nk, jEnd = 0;
    for (int c = 0; c < Br; c++) {
      if (c < br) {
        visible_keys(p, i0 + c, &s.lo[c], &s.hi[c]);
        if (s.lo[c] <= s.hi[c]) {
          if (s.lo[c] < jStart) jStart = s.lo[c];
          if (s.hi[c] + 1 > jEnd) jEnd = s.hi[c] + 1;
        }
        if (p->dropoutP > 0) s.rowKey[c] = dropout_row_key(p->dropoutSeed, b, h, i0 + c);
      }
      s.m[c] = NEG_INF;
      s.l[c] = 0.0f;
    }
    memset(s.oacc, 0, (size_t)Br * Dp * sizeof(float));
    for (int j0 = jStart; j0 < jEnd; j0 += Bc) {
      const int bc = jEnd - j0 < Bc ? jEnd - j0 : Bc;
      scores_transposed(kh + (size_t)j0 * D, bc, D, s.qt, panels, s.st, Br, s.kpad);
      const int visibility = block_visibility(p, i0, br, j0, bc);
      if (job->modifiers) {
        for (int j = 0; j < bc; j++) {
          float *row = s.st + (size_t)j * Br;
          for (int c = 0; c < br; c++) row[c] = modify_score(p, row[c], b, h, i0 + c, j0 + j, nullptr) * LOG2E;
        }
      }
      if (visibility != 1) {
        for (int j = 0; j < bc; j++) {
          float *row = s.st + (size_t)j * Br;
          for (int c = 0; c < br; c++)
            if (j0 + j < s.lo[c] || j0 + j > s.hi[c]) row[c] = NEG_INF;
        }
      }
      /* online softmax down each column */
      for (int c0 = 0; c0 < brW; c0 += W) {
        vf blockMax = vset1(NEG_INF);
        for (int j = 0; j < bc; j++) blockMax = vmax(vload(s.st + (size_t)j * Br + c0), blockMax);
        vf mOld = vload(s.m + c0);
        vf mNew = vmax(blockMax, mOld);
        vf mUse = vneginf_to_zero(mNew);
        vf alpha = vexp2(vsub(mOld, mUse));
        vf sum = vzero();
        for (int j = 0; j < bc; j++) {
          float *at = s.st + (size_t)j * Br + c0;
          vf pj = vexp2(vsub(vload(at), mUse));
          vstore(at, pj);
          sum = vadd(sum, pj);
        }
        vstore(s.l + c0, vfma(vload(s.l + c0), alpha, sum));
        vstore(s.m + c0, mNew);
        vstore(s.alpha + c0, alpha);
      }
      if (j0 != jStart) {
        for (int c = 0; c < br; c++) {
          vf a = vset1(s.alpha[c]);
          float *o = s.oacc + (size_t)c * Dp;
          for (int d = 0; d < Dp; d += W) vstore(o + d, vmul(vload(o + d), a));
        }
      }
      if (p->dropoutP > 0) {
        for (int j = 0; j < bc; j++) {
          float *row = s.st + (size_t)j * Br;
          for (int c = 0; c < br; c++) row[c] *= dropout_keeps(s.rowKey[c], j0 + j, job->threshold) ? p->dropoutKeepScale : 0.0f;
        }
      }
      /* O += P·V: A(i, j) = Pᵀ[j][i] */
      const float *vb = vh + (size_t)j0 * D;
      long ldv = D;
      if (D != Dp) {
        for (int j = 0; j < bc; j++) {
          memcpy(s.vpad + (size_t)j * Dp, vb + (size_t)j * D, (size_t)D * sizeof(float));
          memset(s.vpad + (size_t)j * Dp + D, 0, (size_t)(Dp - D) * sizeof(float));
        }
        vb = s.vpad;
        ldv = Dp;
      }
      for (int d0 = 0; d0 < Dp; d0 += NR)
        for (int r0 = 0; r0 < br; r0 += MR)
          microkernel(bc, s.st + r0, 1, Br, vb + d0, ldv, s.oacc + (size_t)r0 * Dp + d0, Dp, br - r0 < MR ? br - r0 : MR, NR, 1);
    }
    float *o = p->o + ((size_t)bh * p->Nq + i0) * D;
    float *lse = p->lse ? p->lse + (size_t)bh * p->Nq + i0 : nullptr;
    for (int c = 0; c < br; c++) {
      const float l = s.l[c];
      const float inv = l == 0.0f ? 0.0f : 1.0f / l;
      const float *src = s.oacc + (size_t)c * Dp;
      for (int d = 0; d < D; d++) o[(size_t)c * D + d] = src[d] * inv;
      if (lse) lse[c] = l == 0.0f ? NEG_INF : (s.m[c] + log2f(l)) * LN2;
    }
  }
}

}  // namespace

int SUFFIX(attention_forward)(const AttnParams *p) {
  static Scratch scratch[MAX_THREADS];
  ForwardJob job;
  job.p = p;
  job.Br = ROUND_UP(p->blockRows > 0 ? p->blockRows : 96, NR);
  job.Bc = p->blockCols > 0 ? p->blockCols : 128;
  job.Dp = ROUND_UP(p->D, NR);
  job.blocksPerHead = (p->Nq + job.Br - 1) / job.Br;
  job.tasks = p->B * p->H * job.blocksPerHead;
  job.modifiers = has_modifiers(p);
  job.qScale = job.modifiers ? p->scale : p->scale * LOG2E;
  job.threshold = dropout_threshold(p->dropoutP);
  job.next.store(0);
  if (job.tasks == 0) return 0;
  int threads = p->threads < 1 ? 1 : p->threads;
  if (threads > pool_size()) threads = pool_size();
  if (threads > job.tasks) threads = job.tasks;
  size_t floats = forward_scratch_floats(job.Br, job.Bc, job.Dp, p->D);
  for (int t = 0; t < threads; t++)
    if (!(job.scratch[t] = scratch_get(&scratch[t], floats))) return -1;
  pool_run_dynamic(forward_task, &job, threads);
  return 0;
}
