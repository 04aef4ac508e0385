// The argument slots of the GEMM entry point's Float64Array, in order.
// addon.cc exports these names (`argLayouts`) and src/backend/native/args.ts
// must list the same (a test checks it). Tensor slots hold byte offsets into
// the heap passed with the call. (Attention reads the schema's block instead:
// attention-slots.h, generated.)
#ifndef ATTUNE_ARGS_H
#define ATTUNE_ARGS_H

#define GEMM_ARGS(X) \
  X(a) X(b) X(c) X(batch) X(M) X(N) X(K) X(batchStrideA) X(batchStrideB) X(transA) X(transB) X(accumulate) X(mc) X(kc) X(nc) X(threads)

/* The row kernels (softmax, norms and their gradients): tensors absent are 0. */
#define ROW_ARGS(X) \
  X(op) X(x) X(y) X(dy) X(dx) X(gamma) X(beta) X(mean) X(rstd) X(dgamma) X(dbeta) X(rows) X(cols) X(flag) X(eps) X(threads)

#define SLOT_ENUM(name) ROW_##name,
enum RowArg { ROW_ARGS(SLOT_ENUM) ROW_ARG_COUNT };
#undef SLOT_ENUM

#define SLOT_ENUM(name) GEMM_##name,
enum GemmArg { GEMM_ARGS(SLOT_ENUM) GEMM_ARG_COUNT };
#undef SLOT_ENUM

#endif
