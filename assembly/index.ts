// The one wasm module: every kernel family re-exported. Kernels take byte
// offsets into the shared memory, their sizes, and (tid, nthreads) last: each
// call computes thread tid's share. Nothing here allocates.
export * from './elementwise';
export * from './gemm';
export * from './gemv';
export * from './attention';
export * from './attention-short';
export * from './rotary';
export * from './reduce';
export * from './softmax';
export * from './norm';
export * from './gather';
export * from './cross-entropy';
export * from './layout';
