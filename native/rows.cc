// Row kernels training spends time in: softmax and log-softmax over the last
// axis (and their gradients), LayerNorm / RMSNorm (and their gradients).
// Rows are split over threads; dγ and dβ are summed per thread, then added.
// The formulas are the js reference's (src/backend/js/reduce.ts, norm.ts).
#include <cmath>
#include <atomic>
#include <cstring>

#include "kernels.h"
#include "pool.h"
#include "scratch.h"
#include "vec.h"

#define MAX_THREADS 256

namespace {

inline float row_sum(const float *x, int n) {
  vf acc0 = vzero(), acc1 = vzero();
  int i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 = vadd(acc0, vload(x + i));
    acc1 = vadd(acc1, vload(x + i + W));
  }
  for (; i + W <= n; i += W) acc0 = vadd(acc0, vload(x + i));
  if (i < n) acc1 = vadd(acc1, vload_n(x + i, n - i));
  return vsum(vadd(acc0, acc1));
}

inline float row_dot(const float *x, const float *y, int n) {
  vf acc0 = vzero(), acc1 = vzero();
  int i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    acc0 = vfma(vload(x + i), vload(y + i), acc0);
    acc1 = vfma(vload(x + i + W), vload(y + i + W), acc1);
  }
  for (; i + W <= n; i += W) acc0 = vfma(vload(x + i), vload(y + i), acc0);
  if (i < n) acc1 = vfma(vload_n(x + i, n - i), vload_n(y + i, n - i), acc1);
  return vsum(vadd(acc0, acc1));
}

/** max of x[0..n), NaN when any element is NaN (as Math.max). */
inline float row_max_nan(const float *x, int n) {
  vf m = vset1(-__builtin_inff());
  vf bad = vzero(); /* x − x: 0 for finite and NaN for NaN or ±∞; only NaN matters */
  int i = 0;
  for (; i + W <= n; i += W) {
    vf v = vload(x + i);
    m = vmax(v, m);
    bad = vadd(bad, vsub(v, v));
  }
  float result = vhmax(m);
  for (; i < n; i++) {
    if (x[i] != x[i]) return x[i];
    if (x[i] > result) result = x[i];
  }
  if (vsum(bad) != vsum(bad)) /* a NaN or an infinity was seen: look for the NaN */
    for (int j = 0; j < n; j++)
      if (x[j] != x[j]) return x[j];
  return result;
}

struct RowJob {
  const RowParams *p;
  float *partials; /* normGrad: per thread [2][cols] (dγ, dβ), zeroed by the caller */
  int chunk;       /* rows per work item */
  std::atomic<int> next;
};

void softmax_rows(const RowParams *p, int r0, int r1) {
  const int n = p->cols;
  for (int r = r0; r < r1; r++) {
    const float *x = p->x + (size_t)r * n;
    float *y = p->y + (size_t)r * n;
    float max = row_max_nan(x, n);
    if (max == -__builtin_inff()) max = 0.0f;
    const vf mv = vset1(max);
    /* the sum in double: 1 + Σ of terms below float's ε still moves log(sum) (log-softmax's max entry) */
    double sum = 0.0;
    for (int i = 0; i < n; i += W) {
      const int m = n - i < W ? n - i : W;
      const vf e = vkeep_n(vexp(vsub(vload_n(x + i, m), mv)), m);
      if (!p->flag) vstore_n(y + i, e, m);
      sum += vsum_to_double(e);
    }
    const vf logSum = vset1((float)std::log(sum)), inv = vset1((float)(1.0 / sum));
    for (int i = 0; i < n; i += W) {
      const int m = n - i < W ? n - i : W;
      vstore_n(y + i, p->flag ? vsub(vsub(vload_n(x + i, m), mv), logSum) : vmul(vload_n(y + i, m), inv), m);
    }
  }
}

/** softmax: dx = y∘(dy − Σ dy∘y);  log-softmax: dx = dy − exp(y)·Σ dy. */
void softmax_grad_rows(const RowParams *p, int r0, int r1) {
  const int n = p->cols;
  for (int r = r0; r < r1; r++) {
    const float *y = p->y + (size_t)r * n, *dy = p->dy + (size_t)r * n;
    float *dx = p->dx + (size_t)r * n;
    const vf dot = vset1(p->flag ? row_sum(dy, n) : row_dot(dy, y, n));
    int i = 0;
    for (; i + W <= n; i += W) {
      vf yv = vload(y + i), g = vload(dy + i);
      vstore(dx + i, p->flag ? vsub(g, vmul(vexp(yv), dot)) : vmul(yv, vsub(g, dot)));
    }
    if (i < n) {
      vf yv = vload_n(y + i, n - i), g = vload_n(dy + i, n - i);
      vstore_n(dx + i, p->flag ? vsub(g, vmul(vexp(yv), dot)) : vmul(yv, vsub(g, dot)), n - i);
    }
  }
}

/** LayerNorm y = (x − μ)·rstd·γ + β, or RMSNorm y = x·rstd·γ, rstd = 1/√(var + ε). */
void norm_rows(const RowParams *p, int r0, int r1) {
  const int n = p->cols;
  for (int r = r0; r < r1; r++) {
    const float *x = p->x + (size_t)r * n;
    float *y = p->y + (size_t)r * n;
    /* μ in double, split into hi + lo floats: x − hi is exact for x near μ, so x − μ keeps its digits at any offset */
    const double mu = p->flag ? 0.0 : vsum_double(x, n) / n;
    const float hi = (float)mu, lo = (float)(mu - (double)hi);
    const vf hv = vset1(hi), lv = vset1(lo);
    vf acc = vzero();
    for (int i = 0; i < n; i += W) {
      const int m = n - i < W ? n - i : W;
      const vf d = vkeep_n(vsub(vsub(vload_n(x + i, m), hv), lv), m);
      acc = vfma(d, d, acc);
    }
    const float rs = (float)(1.0 / std::sqrt((double)vsum(acc) / n + (double)p->eps));
    p->mean[r] = hi;
    p->rstd[r] = rs;
    const vf rv = vset1(rs);
    for (int i = 0; i < n; i += W) {
      const int m = n - i < W ? n - i : W;
      vf v = vmul(vmul(vsub(vsub(vload_n(x + i, m), hv), lv), rv), vload_n(p->gamma + i, m));
      if (p->beta) v = vadd(v, vload_n(p->beta + i, m));
      vstore_n(y + i, v, m);
    }
  }
}

/**
 * With x̂ = (x − μ)·rstd: dγ += dy∘x̂, dβ += dy (into this thread's partials),
 * dx = rstd·(dy∘γ − mean(dy∘γ) − x̂·mean(dy∘γ∘x̂)) (RMSNorm drops the mean(dy∘γ) term).
 */
void norm_grad_rows(const RowParams *p, int r0, int r1, float *dg, float *db) {
  const int n = p->cols;
  for (int r = r0; r < r1; r++) {
    const float *x = p->x + (size_t)r * n, *dy = p->dy + (size_t)r * n;
    float *dx = p->dx + (size_t)r * n;
    const float mu = p->mean[r], rs = p->rstd[r];
    const vf mv = vset1(mu), rv = vset1(rs);
    vf sumG = vzero(), sumGX = vzero();
    for (int i = 0; i < n; i += W) {
      const int m = n - i < W ? n - i : W;
      vf xh = vmul(vsub(vload_n(x + i, m), mv), rv);
      vf g = vload_n(dy + i, m);
      vf gg = vmul(g, vload_n(p->gamma + i, m));
      sumG = vadd(sumG, gg);
      sumGX = vfma(gg, xh, sumGX);
      vstore_n(dg + i, vfma(g, xh, vload_n(dg + i, m)), m);
      if (db) vstore_n(db + i, vadd(g, vload_n(db + i, m)), m);
    }
    const vf meanG = vset1(p->flag ? 0.0f : vsum(sumG) / (float)n), meanGX = vset1(vsum(sumGX) / (float)n);
    for (int i = 0; i < n; i += W) {
      const int m = n - i < W ? n - i : W;
      vf xh = vmul(vsub(vload_n(x + i, m), mv), rv);
      vf gg = vmul(vload_n(dy + i, m), vload_n(p->gamma + i, m));
      vstore_n(dx + i, vmul(rv, vsub(vsub(gg, meanG), vmul(xh, meanGX))), m);
    }
  }
}

void row_task(void *ctx, int thread, int) {
  RowJob *job = (RowJob *)ctx;
  const RowParams *p = job->p;
  float *dg = job->partials ? job->partials + (size_t)thread * 2 * p->cols : nullptr;
  for (int r0; (r0 = job->next.fetch_add(job->chunk, std::memory_order_relaxed)) < p->rows;) {
    const int r1 = r0 + job->chunk < p->rows ? r0 + job->chunk : p->rows;
    switch (p->op) {
      case ROW_SOFTMAX: softmax_rows(p, r0, r1); break;
      case ROW_SOFTMAX_GRAD: softmax_grad_rows(p, r0, r1); break;
      case ROW_NORM: norm_rows(p, r0, r1); break;
      case ROW_NORM_GRAD: norm_grad_rows(p, r0, r1, dg, p->dbeta ? dg + p->cols : nullptr); break;
      default: break;
    }
  }
}

}  // namespace

int SUFFIX(row_kernel)(const RowParams *p) {
  static Scratch partials;
  if (p->rows <= 0 || p->cols <= 0) return 0;
  int threads = p->threads < 1 ? 1 : p->threads;
  if (threads > pool_size()) threads = pool_size();
  if (threads > p->rows) threads = p->rows;
  RowJob job;
  job.p = p;
  job.partials = nullptr;
  job.chunk = p->rows / (8 * threads) > 1 ? p->rows / (8 * threads) : 1;
  job.next.store(0);
  if (p->op == ROW_NORM_GRAD) {
    job.partials = scratch_get(&partials, (size_t)threads * 2 * p->cols);
    if (!job.partials) return -1;
    memset(job.partials, 0, (size_t)threads * 2 * p->cols * sizeof(float));
  }
  pool_run_dynamic(row_task, &job, threads);
  if (p->op == ROW_NORM_GRAD) {
    for (int c = 0; c < p->cols; c++) {
      float g = 0.0f, b = 0.0f;
      for (int t = 0; t < threads; t++) {
        g += job.partials[(size_t)t * 2 * p->cols + c];
        b += job.partials[(size_t)t * 2 * p->cols + p->cols + c];
      }
      p->dgamma[c] = g;
      if (p->dbeta) p->dbeta[c] = b;
    }
  }
  return 0;
}
