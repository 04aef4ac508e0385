// The native backend's kernel settings: defaults, keys and candidate values
// of every tunable kernel, in one registry (src/backend/settings.ts) that the
// wrappers read on each call and the autotuner writes. Every candidate gives
// the same results (the tiles change the order of no sum but the online
// softmax's, which the tests bound).
//
// threads: 0 = as many as the work allows at `grain` flops per thread; n > 0 = exactly n.

import { nodeModule } from '../platform.js';
import { attentionKey, KernelSettings, matmulKey, type SettingsSpace, type TunableKernel } from '../settings.js';

function threadChoices(threads: number): number[] {
  return [0, ...Array.from({ length: threads }, (_, i) => i + 1)];
}

// Query-row tiles are rounded up to the micro-kernel's 32 (AVX-512) or 16 (AVX2) columns.
const rowTiles = [32, 64, 96, 128];
const keyTiles = [32, 48, 64, 96, 128, 192, 256];

const attentionForward: TunableKernel<never> = {
  // Br × Bc = 96 × 128: a 48 KiB Sᵀ tile, Qᵀ and the O accumulator in L1/L2 (48 KiB / 1 MiB on Zen 5);
  // 96 is a multiple of both micro-kernel sides (32 query columns, 12 rows), so no tile is padded.
  // One thread, N = 2048, D = 64: 64 × 64 was 10–15% slower, 64 × 128 3–5% (thread CPU time, a busy machine).
  defaults: { blockRows: 96, blockCols: 128, threads: 0, grain: 1 << 20 },
  key: attentionKey,
  space: (threads): SettingsSpace => ({ blockRows: rowTiles, blockCols: keyTiles, threads: threadChoices(threads) }),
};

const attentionBackward: TunableKernel<never> = {
  // 96 × 96: no padded micro-tile in any of the five products; 3–6% ahead of 64 × 128 at N = 2048.
  defaults: { blockRows: 96, blockCols: 96, threads: 0, grain: 1 << 20 },
  key: attentionKey,
  space: (threads): SettingsSpace => ({ blockRows: rowTiles, blockCols: keyTiles, threads: threadChoices(threads) }),
};

const attentionDecode: TunableKernel<never> = {
  // Split a (batch, kv head)'s keys into chunks of at least decodeChunk rows when threads need the work.
  defaults: { decodeChunk: 512, threads: 0, grain: 1 << 18 },
  key: attentionKey,
  space: (threads): SettingsSpace => ({ decodeChunk: [128, 256, 512, 1024, 2048], threads: threadChoices(threads) }),
};

const matmul: TunableKernel<never> = {
  // Zen 5 (48 KiB L1d, 1 MiB L2): a kc × 32 B micro-panel in L1, the mc × kc A block in L2;
  // 1024³ within a few % for kc 256–512 and mc 96–240 (a busy machine).
  defaults: { mc: 144, kc: 384, nc: 4096, threads: 0, grain: 4_000_000 },
  key: matmulKey,
  space: (threads): SettingsSpace => ({
    mc: [48, 96, 144, 192, 288],
    kc: [128, 256, 384, 512],
    nc: [512, 1024, 2048, 4096],
    threads: threadChoices(threads),
  }),
};

/** The row kernels' (softmax, norms) elements per extra thread: one device-wide record, no key. */
const rows: TunableKernel<never> = {
  defaults: { grain: 1 << 15 },
  key: () => '*',
  space: (): SettingsSpace => ({ grain: [1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 17] }),
};

export const NATIVE_TUNABLE_KERNELS = { attentionForward, attentionBackward, attentionDecode, matmul, rows } as const;
export type NativeTunableKernel = keyof typeof NATIVE_TUNABLE_KERNELS;

export function nativeKernelSettings(build: string, threads: () => number): KernelSettings {
  return new KernelSettings('native', build, NATIVE_TUNABLE_KERNELS, threads);
}

/** The loaded build: its ISA and the stamp of the sources it was compiled from (native/build/stamp). */
export function nativeBuildId(isa: string): string {
  const fs = nodeModule<{ readFileSync(p: URL, e: 'utf8'): string }>('node:fs');
  try {
    const stamp = fs?.readFileSync(new URL('../../../native/build/stamp', import.meta.url), 'utf8').trim() ?? '';
    return stamp ? `native-${isa}@${stamp.slice(0, 16)}` : `native-${isa}`;
  } catch {
    return `native-${isa}`;
  }
}
