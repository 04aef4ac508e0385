// The native kernels' tuning knobs, in one place the kernel autotuner can
// write: cache blocking of the GEMM, attention tiles, the decode split, and
// the work below which a kernel stays on one thread.

export interface NativeSettings {
  /** GEMM cache blocks: rows of A (L2), depth (L1 panel), columns of B (L3). */
  gemm: { mc: number; kc: number; nc: number };
  /** Attention tiles, query rows × keys (forward and backward), and the decode chunk (keys per split, at least). */
  attention: { blockRows: number; blockCols: number; backwardBlockRows: number; backwardBlockCols: number; decodeChunk: number };
  /** Work (flops) per extra thread below which a call stays on fewer threads. */
  grain: { gemm: number; attention: number; decode: number };
}

// Measured on a 2-core Zen 5 (48 KiB L1d, 1 MiB L2): 1024³ GEMM within a few
// % for kc 256-512 and mc 96-240 on a busy machine; the autotuner refines per shape.
export function defaultNativeSettings(): NativeSettings {
  return {
    gemm: { mc: 144, kc: 384, nc: 4096 },
    attention: { blockRows: 64, blockCols: 64, backwardBlockRows: 64, backwardBlockCols: 64, decodeChunk: 512 },
    grain: { gemm: 4_000_000, attention: 1 << 20, decode: 1 << 18 },
  };
}
