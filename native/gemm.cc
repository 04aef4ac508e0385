// GEMM: C = A·B (or C += A·B) per batch matrix, A [M, K] or stored [K, M],
// B [K, N] or stored [N, K]. The loop nest of Goto / BLIS: a kc × nc slab of B
// is packed into NR-wide panels (shared, packed by all threads together), an
// mc × kc block of A into MR-high panels (per thread), and the micro-kernel
// runs MR × NR tiles of C from registers.
#include "kernels.h"
#include "microkernel.h"
#include "pool.h"
#include "scratch.h"

#define MAX_THREADS 256

static Scratch packedB;
static Scratch packedA[MAX_THREADS];

typedef struct {
  const GemmParams *p;
  int mc, kc, nc;
  float *bp;
  float **ap;
  int columnSplits;
} GemmJob;

/* Panels of NR columns: bp[panel][k][NR], columns past n zero. */
static void pack_b(const GemmParams *p, const float *b, int k0, int kc, int j0, int nc, float *bp, int thread, int threads) {
  int panels = (nc + NR - 1) / NR;
  for (int panel = thread; panel < panels; panel += threads) {
    float *dst = bp + (size_t)panel * kc * NR;
    int j = j0 + panel * NR;
    int n = nc - panel * NR < NR ? nc - panel * NR : NR;
    if (!p->transB) {
      for (int k = 0; k < kc; k++) {
        const float *src = b + (size_t)(k0 + k) * p->N + j;
        if (n == NR) {
          vstore(dst + k * NR, vload(src));
          vstore(dst + k * NR + W, vload(src + W));
        } else {
          for (int jj = 0; jj < NR; jj++) dst[k * NR + jj] = jj < n ? src[jj] : 0.0f;
        }
      }
    } else {
      if (n < NR) memset(dst, 0, (size_t)kc * NR * sizeof(float));
      for (int jj = 0; jj < n; jj++) {
        const float *src = b + (size_t)(j + jj) * p->K + k0;
        for (int k = 0; k < kc; k++) dst[k * NR + jj] = src[k];
      }
    }
  }
}

/* Panels of MR rows: ap[panel][k][MR], rows past m zero. */
static void pack_a(const GemmParams *p, const float *a, int i0, int mc, int k0, int kc, float *ap) {
  int panels = (mc + MR - 1) / MR;
  for (int panel = 0; panel < panels; panel++) {
    float *dst = ap + (size_t)panel * kc * MR;
    int i = i0 + panel * MR;
    int m = mc - panel * MR < MR ? mc - panel * MR : MR;
    if (p->transA) {
      for (int k = 0; k < kc; k++) {
        const float *src = a + (size_t)(k0 + k) * p->M + i;
        for (int r = 0; r < MR; r++) dst[k * MR + r] = r < m ? src[r] : 0.0f;
      }
    } else {
      if (m < MR) memset(dst, 0, (size_t)kc * MR * sizeof(float));
      for (int r = 0; r < m; r++) {
        const float *src = a + (size_t)(i + r) * p->K + k0;
        for (int k = 0; k < kc; k++) dst[k * MR + r] = src[k];
      }
    }
  }
}

static void gemm_task(void *ctx, int thread, int threads) {
  const GemmJob *job = (const GemmJob *)ctx;
  const GemmParams *p = job->p;
  const int mc = job->mc, kc = job->kc, nc = job->nc;
  float *ap = job->ap[thread];
  for (int batch = 0; batch < p->batch; batch++) {
    const float *a = p->a + batch * p->batchStrideA;
    const float *b = p->b + batch * p->batchStrideB;
    float *c = p->c + batch * p->batchStrideC;
    for (int j0 = 0; j0 < p->N; j0 += nc) {
      int ncur = p->N - j0 < nc ? p->N - j0 : nc;
      int panels = (ncur + NR - 1) / NR;
      int splits = job->columnSplits < panels ? job->columnSplits : panels;
      int blocksM = (p->M + mc - 1) / mc;
      for (int k0 = 0; k0 < p->K; k0 += kc) {
        int kcur = p->K - k0 < kc ? p->K - k0 : kc;
        int accumulate = p->accumulate || k0 > 0;
        pack_b(p, b, k0, kcur, j0, ncur, job->bp, thread, threads);
        pool_barrier(threads);
        int packedBlock = -1;
        for (int item = thread; item < blocksM * splits; item += threads) {
          int block = item / splits, split = item % splits;
          int i0 = block * mc;
          int mcur = p->M - i0 < mc ? p->M - i0 : mc;
          if (block != packedBlock) {
            pack_a(p, a, i0, mcur, k0, kcur, ap);
            packedBlock = block;
          }
          int firstPanel = (int)((long)panels * split / splits), endPanel = (int)((long)panels * (split + 1) / splits);
          for (int jp = firstPanel; jp < endPanel; jp++) {
            const float *bpanel = job->bp + (size_t)jp * kcur * NR;
            int nr = ncur - jp * NR < NR ? ncur - jp * NR : NR;
            for (int ir = 0; ir < mcur; ir += MR) {
              int mr = mcur - ir < MR ? mcur - ir : MR;
              microkernel(kcur, ap + (size_t)ir * kcur, 1, MR, bpanel, NR, c + (size_t)(i0 + ir) * p->N + j0 + jp * NR, p->N, mr, nr,
                          accumulate);
            }
          }
        }
        pool_barrier(threads);
      }
    }
  }
}

int SUFFIX(gemm)(const GemmParams *p) {
  if (p->M <= 0 || p->N <= 0 || p->batch <= 0) return 0;
  if (p->K <= 0) {
    if (!p->accumulate)
      for (int batch = 0; batch < p->batch; batch++) memset(p->c + batch * p->batchStrideC, 0, (size_t)p->M * p->N * sizeof(float));
    return 0;
  }
  GemmJob job;
  job.p = p;
  job.mc = p->mc > 0 ? ((p->mc + MR - 1) / MR) * MR : MR * 12;
  job.kc = p->kc > 0 ? p->kc : 256;
  job.nc = p->nc > 0 ? ((p->nc + NR - 1) / NR) * NR : NR * 128;
  int threads = p->threads < 1 ? 1 : p->threads > MAX_THREADS ? MAX_THREADS : p->threads;
  if (threads > pool_size()) threads = pool_size();
  int kc = p->K < job.kc ? p->K : job.kc;
  int nc = p->N < job.nc ? ((p->N + NR - 1) / NR) * NR : job.nc;
  int mc = p->M < job.mc ? ((p->M + MR - 1) / MR) * MR : job.mc;
  job.bp = scratch_get(&packedB, (size_t)kc * nc);
  if (!job.bp) return -1;
  float *aps[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    aps[t] = scratch_get(&packedA[t], (size_t)kc * mc);
    if (!aps[t]) return -1;
  }
  job.ap = aps;
  int blocksM = (p->M + job.mc - 1) / job.mc;
  /* Few row blocks for the threads: split the columns too (each thread then packs its A block once per split it takes). */
  job.columnSplits = blocksM >= 2 * threads ? 1 : (2 * threads + blocksM - 1) / blocksM;
  pool_run(gemm_task, &job, threads);
  return 0;
}
