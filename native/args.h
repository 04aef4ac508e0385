// The argument slots each addon entry point reads from its Float64Array:
// one list per kernel, in order. addon.c exports these names (`argLayouts`)
// and src/backend/native/args.ts must list the same (a test checks it).
// Tensor slots hold byte offsets into the heap passed with the call.
#ifndef ATTUNE_ARGS_H
#define ATTUNE_ARGS_H

#define GEMM_ARGS(X) \
  X(a) X(b) X(c) X(batch) X(M) X(N) X(K) X(batchStrideA) X(batchStrideB) X(transA) X(transB) X(accumulate) X(mc) X(kc) X(nc) X(threads)

#define ATTENTION_ARGS(X)                                                                                                   \
  X(query) X(key) X(value) X(output) X(logSumExp) X(gradOutput) X(gradQuery) X(gradKey) X(gradValue) X(mask) X(alibiSlopes) \
  X(maskKind) X(maskStrideBatch) X(maskStrideHead) X(maskStrideQuery) X(maskStrideKey) X(batch) X(numHeads) X(numKvHeads)    \
  X(queryLength) X(keyLength) X(keyCapacity) X(headDim) X(scale) X(softcap) X(dropoutP) X(dropoutSeed) X(causal)             \
  X(windowLeft) X(windowRight) X(blockRows) X(blockCols) X(decodeChunk) X(threads)

#define SLOT_ENUM(name) GEMM_##name,
enum GemmArg { GEMM_ARGS(SLOT_ENUM) GEMM_ARG_COUNT };
#undef SLOT_ENUM
#define SLOT_ENUM(name) ATT_##name,
enum AttentionArg { ATTENTION_ARGS(SLOT_ENUM) ATTENTION_ARG_COUNT };
#undef SLOT_ENUM

#endif
