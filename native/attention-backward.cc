// Attention backward (FlashAttention-2: recompute P from the saved LSE).
// A task owns one (b, kv head): its dK and dV rows, and dQ of the G query
// heads that share them, so threads need no atomics. Per query head:
//   D_i = rowsum(dO∘O)                              (= Σⱼ Pd_ij·dPd_ij)
//   for each key block, for each query block that sees it:
//     Sᵀ = K_blk·Qᵀ, Pᵀ = 2^(Sᵀ·log2e − LSE·log2e)  (forward: P = softmax(S))
//     dV += Pdᵀ·dO                                  (forward: O = Pd·V)
//     dPdᵀ = V_blk·dOᵀ                              (forward: O = Pd·V)
//     dSᵀ = Pᵀ∘(dPdᵀ∘Z − D_i)∘(1 − tanh²)·scale     (forward: P = softmax(S'), S' = c·tanh(S/c), S = scale·QKᵀ)
//     dK += dSᵀ·Q,  dQ += dS·K                      (forward: S = scale·Q·Kᵀ)
// Legend and the Sᵀ tile layout: attention-common.h.
#include <atomic>
#include <cstring>

#include "attention-common.h"
#include "microkernel.h"
#include "pool.h"
#include "scratch.h"

#define MAX_THREADS 256
#define ROUND_UP(x, m) ((((x) + (m) - 1) / (m)) * (m))

namespace {

struct BackwardJob {
  const AttnParams *p;
  int Br, Bc, Dp, NqP, NkP;
  int modifiers;
  uint32_t threshold;
  std::atomic<int> next;
  float *scratch[MAX_THREADS];
};

struct BackwardScratch {
  float *kp, *vp, *dk, *dv;      /* [NkP][Dp] per (b, kv head) */
  float *kFinite;                /* kp with non-finite values as 0: the dQ product's operand */
  float *qp, *dop, *dq;          /* [NqP][Dp] per query head */
  float *qt, *dot;               /* [NqP/NR][D][NR] */
  float *rowDot, *lse2;          /* [NqP] */
  float *pt, *dpt, *capGrad;     /* [Bc + 1][Br] + MR tiles */
  int *lo, *hi;
  uint32_t *rowKey;
};

size_t tile_floats(int Br, int Bc) { return (size_t)(Bc + 1) * Br + MR + 16; }

size_t backward_scratch_floats(const BackwardJob *job) {
  const size_t k = (size_t)job->NkP * job->Dp, q = (size_t)job->NqP * job->Dp, t = tile_floats(job->Br, job->Bc);
  return 5 * k + 3 * q + 2 * (size_t)job->NqP * job->p->D + 2 * (size_t)job->NqP + 3 * t + 3 * (size_t)job->NqP + 64;
}

BackwardScratch backward_scratch(const BackwardJob *job, float *base) {
  const size_t k = (size_t)job->NkP * job->Dp, q = (size_t)job->NqP * job->Dp, t = tile_floats(job->Br, job->Bc);
  BackwardScratch s;
  s.kp = base;
  s.vp = s.kp + k;
  s.dk = s.vp + k;
  s.dv = s.dk + k;
  s.kFinite = s.dv + k;
  s.qp = s.kFinite + k;
  s.dop = s.qp + q;
  s.dq = s.dop + q;
  s.qt = s.dq + q;
  s.dot = s.qt + (size_t)job->NqP * job->p->D;
  s.rowDot = s.dot + (size_t)job->NqP * job->p->D;
  s.lse2 = s.rowDot + job->NqP;
  s.pt = s.lse2 + job->NqP;
  s.dpt = s.pt + t;
  s.capGrad = s.dpt + t;
  s.lo = (int *)(s.capGrad + t);
  s.hi = s.lo + job->NqP;
  s.rowKey = (uint32_t *)(s.hi + job->NqP);
  return s;
}

/** rows × D → rows × Dp, zero-padded to `padRows` rows. */
void copy_padded(const float *src, int rows, int D, int Dp, int padRows, float *dst) {
  for (int r = 0; r < rows; r++) {
    memcpy(dst + (size_t)r * Dp, src + (size_t)r * D, (size_t)D * sizeof(float));
    if (Dp > D) memset(dst + (size_t)r * Dp + D, 0, (size_t)(Dp - D) * sizeof(float));
  }
  if (padRows > rows) memset(dst + (size_t)rows * Dp, 0, (size_t)(padRows - rows) * Dp * sizeof(float));
}

/**
 * A copy with NaN and ±∞ as 0, for the operand of dQ += dS·K and dK += dSᵀ·Q:
 * a key (query) that a row cannot see must not reach that row's gradient
 * through 0·NaN, as in the reference; one it can see already made dS NaN.
 */
void zero_non_finite(const float *src, size_t n, float *dst) {
  for (size_t i = 0; i < n; i++) dst[i] = std::isfinite(src[i]) ? src[i] : 0.0f;
}

/** [rows][Dp] → [rows/NR panels][D][NR] (rows a multiple of NR). */
void pack_transposed(const float *src, int rows, int D, int Dp, float *dst) {
  for (int panel = 0; panel < rows / NR; panel++)
    for (int c = 0; c < NR; c++)
      for (int d = 0; d < D; d++) dst[((size_t)panel * D + d) * NR + c] = src[((size_t)panel * NR + c) * Dp + d];
}

/** Tile[bc][ld] = A rows (row stride lda, bc rows, padded) · packed panels over `width` columns. */
void tile_gemm(const float *a, long lda, int bc, int K, const float *panels, int width, float *tile, int ld) {
  for (int r0 = 0; r0 < bc; r0 += MR)
    for (int c0 = 0; c0 < width; c0 += NR)
      microkernel(K, a + (size_t)r0 * lda, lda, 1, panels + (size_t)(c0 / NR) * K * NR, NR, tile + (size_t)r0 * ld + c0, ld,
                  bc - r0 < MR ? bc - r0 : MR, NR, 0);
}

void head_backward(BackwardJob *job, BackwardScratch &s, int b, int h) {
  const AttnParams *p = job->p;
  const int Br = job->Br, Bc = job->Bc, Dp = job->Dp, D = p->D, Nq = p->Nq, Nk = p->Nk;
  const size_t qOff = ((size_t)b * p->H + h) * Nq;
  copy_padded(p->q + qOff * D, Nq, D, Dp, job->NqP, s.qp);
  copy_padded(p->dO + qOff * D, Nq, D, Dp, job->NqP, s.dop);
  pack_transposed(s.qp, job->NqP, D, Dp, s.qt);
  pack_transposed(s.dop, job->NqP, D, Dp, s.dot);
  zero_non_finite(s.qp, (size_t)job->NqP * Dp, s.qp); /* Qᵀ keeps the NaN the scores need */
  memset(s.dq, 0, (size_t)job->NqP * Dp * sizeof(float));
  for (int i = 0; i < job->NqP; i++) {
    if (i < Nq) {
      const float *o = p->o + (qOff + i) * D, *g = s.dop + (size_t)i * Dp;
      float acc = 0.0f;
      for (int d = 0; d < D; d++) acc += o[d] * g[d];
      s.rowDot[i] = acc;
      const float lse = p->lse[qOff + i];
      s.lse2[i] = lse == NEG_INF ? __builtin_inff() : lse * LOG2E; /* a row that saw no key: P = 0 */
      visible_keys(p, i, &s.lo[i], &s.hi[i]);
      if (p->dropoutP > 0) s.rowKey[i] = dropout_row_key(p->dropoutSeed, b, h, i);
    } else {
      s.rowDot[i] = 0.0f;
      s.lse2[i] = __builtin_inff();
      s.lo[i] = 1;
      s.hi[i] = 0;
    }
  }
  const float sLog2 = job->modifiers ? p->scale : p->scale * LOG2E;
  for (int j0 = 0; j0 < Nk; j0 += Bc) {
    const int bc = Nk - j0 < Bc ? Nk - j0 : Bc;
    for (int i0 = 0; i0 < Nq; i0 += Br) {
      const int br = Nq - i0 < Br ? Nq - i0 : Br, width = ROUND_UP(br, NR), brW = ROUND_UP(br, W);
      const int visibility = block_visibility(p, i0, br, j0, bc);
      if (visibility == 0) continue;
      /* Sᵀ, then Pᵀ in place */
      tile_gemm(s.kp + (size_t)j0 * Dp, Dp, bc, D, s.qt + (size_t)i0 * D, width, s.pt, Br);
      for (int j = 0; j < bc; j++) {
        float *row = s.pt + (size_t)j * Br;
        if (job->modifiers) {
          float *cg = s.capGrad + (size_t)j * Br;
          for (int c = 0; c < br; c++) row[c] = modify_score(p, row[c] * sLog2, b, h, i0 + c, j0 + j, cg + c) * LOG2E;
        } else {
          for (int c = 0; c < brW; c += W) vstore(row + c, vmul(vload(row + c), vset1(sLog2)));
        }
        if (visibility != 1)
          for (int c = 0; c < br; c++)
            if (j0 + j < s.lo[i0 + c] || j0 + j > s.hi[i0 + c]) row[c] = NEG_INF;
        for (int c = 0; c < brW; c += W) vstore(row + c, vexp2(vsub(vload(row + c), vload(s.lse2 + i0 + c))));
        for (int c = br; c < brW; c++) row[c] = 0.0f;
      }
      /* dV += Pdᵀ·dO (Pd = P∘Z/(1 − p); the dropped tile goes to dpt for now) */
      const float *pd = s.pt;
      if (p->dropoutP > 0) {
        for (int j = 0; j < bc; j++)
          for (int c = 0; c < brW; c++)
            s.dpt[(size_t)j * Br + c] = c < br && dropout_keeps(s.rowKey[i0 + c], j0 + j, job->threshold)
                                            ? s.pt[(size_t)j * Br + c] * p->dropoutKeepScale
                                            : 0.0f;
        pd = s.dpt;
      }
      for (int r0 = 0; r0 < bc; r0 += MR)
        for (int d0 = 0; d0 < Dp; d0 += NR)
          microkernel(br, pd + (size_t)r0 * Br, Br, 1, s.dop + (size_t)i0 * Dp + d0, Dp, s.dv + (size_t)(j0 + r0) * Dp + d0, Dp,
                      bc - r0 < MR ? bc - r0 : MR, NR, 1);
      /* dPdᵀ = V_blk·dOᵀ, then dSᵀ in place */
      tile_gemm(s.vp + (size_t)j0 * Dp, Dp, bc, D, s.dot + (size_t)i0 * D, width, s.dpt, Br);
      for (int j = 0; j < bc; j++) {
        float *dp = s.dpt + (size_t)j * Br;
        const float *pr = s.pt + (size_t)j * Br;
        if (p->dropoutP > 0)
          for (int c = 0; c < br; c++) dp[c] *= dropout_keeps(s.rowKey[i0 + c], j0 + j, job->threshold) ? p->dropoutKeepScale : 0.0f;
        for (int c = 0; c < brW; c += W)
          vstore(dp + c, vmul(vmul(vload(pr + c), vsub(vload(dp + c), vload(s.rowDot + i0 + c))), vset1(p->scale)));
        if (p->softcap > 0)
          for (int c = 0; c < br; c++) dp[c] *= s.capGrad[(size_t)j * Br + c];
        for (int c = br; c < brW; c++) dp[c] = 0.0f;
      }
      /* dK += dSᵀ·Q */
      for (int r0 = 0; r0 < bc; r0 += MR)
        for (int d0 = 0; d0 < Dp; d0 += NR)
          microkernel(br, s.dpt + (size_t)r0 * Br, Br, 1, s.qp + (size_t)i0 * Dp + d0, Dp, s.dk + (size_t)(j0 + r0) * Dp + d0, Dp,
                      bc - r0 < MR ? bc - r0 : MR, NR, 1);
      /* dQ += dS·K: A(i, j) = dSᵀ[j][i] */
      for (int r0 = 0; r0 < br; r0 += MR)
        for (int d0 = 0; d0 < Dp; d0 += NR)
          microkernel(bc, s.dpt + r0, 1, Br, s.kFinite + (size_t)j0 * Dp + d0, Dp, s.dq + (size_t)(i0 + r0) * Dp + d0, Dp,
                      br - r0 < MR ? br - r0 : MR, NR, 1);
    }
  }
  for (int i = 0; i < Nq; i++) memcpy(p->dQ + (qOff + i) * D, s.dq + (size_t)i * Dp, (size_t)D * sizeof(float));
}

void backward_task(void *ctx, int thread, int) {
  BackwardJob *job = (BackwardJob *)ctx;
  const AttnParams *p = job->p;
  const int D = p->D, Dp = job->Dp, G = p->H / p->Hk;
  BackwardScratch s = backward_scratch(job, job->scratch[thread]);
  for (int task; (task = job->next.fetch_add(1, std::memory_order_relaxed)) < p->B * p->Hk;) {
    const int b = task / p->Hk, hk = task % p->Hk;
    const size_t kOff = (size_t)task * p->keyCapacity * D;
    copy_padded(p->k + kOff, p->Nk, D, Dp, job->NkP, s.kp);
    copy_padded(p->v + kOff, p->Nk, D, Dp, job->NkP, s.vp);
    zero_non_finite(s.kp, (size_t)job->NkP * Dp, s.kFinite);
    memset(s.dk, 0, (size_t)job->NkP * Dp * sizeof(float));
    memset(s.dv, 0, (size_t)job->NkP * Dp * sizeof(float));
    for (int h = hk * G; h < (hk + 1) * G; h++) head_backward(job, s, b, h);
    for (int j = 0; j < p->keyCapacity; j++) {
      float *dk = p->dK + kOff + (size_t)j * D, *dv = p->dV + kOff + (size_t)j * D;
      if (j < p->Nk) {
        memcpy(dk, s.dk + (size_t)j * Dp, (size_t)D * sizeof(float));
        memcpy(dv, s.dv + (size_t)j * Dp, (size_t)D * sizeof(float));
      } else {
        memset(dk, 0, (size_t)D * sizeof(float));
        memset(dv, 0, (size_t)D * sizeof(float));
      }
    }
  }
}

}  // namespace

int SUFFIX(attention_backward)(const AttnParams *p) {
  static Scratch scratch[MAX_THREADS];
  BackwardJob job;
  job.p = p;
  job.Br = ROUND_UP(p->blockRows > 0 ? p->blockRows : 96, NR);
  job.Bc = p->blockCols > 0 ? p->blockCols : 96;
  job.Dp = ROUND_UP(p->D, NR);
  job.NqP = ROUND_UP(p->Nq, job.Br) + NR;
  job.NkP = ROUND_UP(p->Nk, job.Bc) + MR;
  job.modifiers = has_modifiers(p);
  job.threshold = dropout_threshold(p->dropoutP);
  job.next.store(0);
  const int tasks = p->B * p->Hk;
  if (tasks == 0) return 0;
  int threads = p->threads < 1 ? 1 : p->threads;
  if (threads > pool_size()) threads = pool_size();
  if (threads > tasks) threads = tasks;
  const size_t floats = backward_scratch_floats(&job);
  for (int t = 0; t < threads; t++)
    if (!(job.scratch[t] = scratch_get(&scratch[t], floats))) return -1;
  pool_run_dynamic(backward_task, &job, threads);
  return 0;
}
