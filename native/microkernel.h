// The register-blocked inner kernel every GEMM-shaped loop here runs:
// C[mr × nr] (= or +=) Σ_k A(r, k)·B(k, 0..NR), with A(r, k) at a[r·ars + k·aks]
// (packed panels, row-major or column-major tiles alike) and row k of B at
// b + k·ldb (NR floats, readable even past nr: packed or padded).
#ifndef ATTUNE_MICROKERNEL_H
#define ATTUNE_MICROKERNEL_H

#include <string.h>

#include "vec.h"

#if W == 16
#define MR 12 /* 12 × 2 zmm accumulators + 2 B vectors of 32 registers */
#else
#define MR 6 /* 6 × 2 ymm accumulators + 2 B vectors + 1 broadcast of 16 */
#endif
#define NV 2
#define NR (NV * W)

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE void microkernel(int K, const float *a, long ars, long aks, const float *b, long ldb, float *c, long ldc,
                                      int mr, int nr, int accumulate) {
  vf acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[r][v] = vzero();
  }
  for (int k = 0; k < K; k++) {
    const float *bk = b + k * ldb;
    vf b0 = vload(bk), b1 = vload(bk + W);
    const float *ak = a + k * aks;
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      vf ar = vset1(ak[r * ars]);
      acc[r][0] = vfma(ar, b0, acc[r][0]);
      acc[r][1] = vfma(ar, b1, acc[r][1]);
    }
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      float *cr = c + r * ldc;
      if (accumulate) {
        vstore(cr, vadd(vload(cr), acc[r][0]));
        vstore(cr + W, vadd(vload(cr + W), acc[r][1]));
      } else {
        vstore(cr, acc[r][0]);
        vstore(cr + W, acc[r][1]);
      }
    }
    return;
  }
  float tile[MR * NR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    vstore(tile + r * NR, acc[r][0]);
    vstore(tile + r * NR + W, acc[r][1]);
  }
  for (int r = 0; r < mr; r++) {
    float *cr = c + r * ldc;
    const float *tr = tile + r * NR;
    if (accumulate)
      for (int j = 0; j < nr; j++) cr[j] += tr[j];
    else
      memcpy(cr, tr, (size_t)nr * sizeof(float));
  }
}

#endif
