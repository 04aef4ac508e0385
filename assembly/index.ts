// The one wasm module: every kernel family re-exported. Kernels take byte
// offsets into the shared memory, their sizes, and (tid, nthreads) last: each
// call computes thread tid's share. Nothing here allocates.
export * from './elementwise';
export * from './gemm';
