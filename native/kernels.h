// The kernels' parameter structs and the entry points each ISA build
// (kernels.c compiled as *_avx512 and *_avx2) provides.
//
// B batch · H query heads · Hk key/value heads (H % Hk == 0)
// Nq query rows · Nk key rows · D head dim · Br × Bc tile of the score matrix
#ifndef ATTUNE_KERNELS_H
#define ATTUNE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const float *a, *b;
  float *c;
  int batch, M, N, K;
  int64_t batchStrideA, batchStrideB, batchStrideC;
  int transA, transB, accumulate;
  int mc, kc, nc; /* cache blocking; 0 = default */
  int threads;
} GemmParams;

enum { MASK_NONE = 0, MASK_BOOL = 1, MASK_ADDITIVE = 2 };

typedef struct {
  const float *q, *k, *v;
  float *o, *lse;
  const float *dO;
  float *dQ, *dK, *dV;
  const void *mask;
  const float *alibi;
  int maskKind;
  int64_t maskStride[4]; /* (b, h, i, j) element strides, 0 broadcasts */
  int B, H, Hk, Nq, Nk, D;
  int keyCapacity; /* rows per (b, kv head) in k and v (and dK, dV), ≥ Nk */
  float scale, softcap, dropoutP;
  float dropoutKeepScale; /* 1/(1 − p) rounded from double, as the reference scales kept weights */
  uint32_t dropoutSeed;
  int causal, windowLeft, windowRight;
  int blockRows, blockCols; /* 0 = default */
  int decodeChunk;
  int threads;
} AttnParams;

enum { ROW_SOFTMAX = 0, ROW_SOFTMAX_GRAD = 1, ROW_NORM = 2, ROW_NORM_GRAD = 3 };

/* Row kernels over [rows, cols] (the last axis): softmax (flag: log-softmax) and its gradient,
   LayerNorm (flag: RMSNorm) and its gradient. Unused tensors are NULL. */
typedef struct {
  int op, rows, cols, flag;
  float eps;
  const float *x, *dy, *gamma, *beta;
  float *y, *dx, *mean, *rstd, *dgamma, *dbeta;
  int threads;
} RowParams;

/* Scratch is malloc'd by the kernels (kept between calls); each returns 0, or −1 when out of memory. */
#define ISA_DECLS(S)                                   \
  int gemm_##S(const GemmParams *p);                    \
  int attention_forward_##S(const AttnParams *p);     \
  int attention_backward_##S(const AttnParams *p);    \
  int attention_decode_##S(const AttnParams *p);  \
  int row_kernel_##S(const RowParams *p);

ISA_DECLS(avx512)
ISA_DECLS(avx2)

#endif
