// The wasm backend's kernel settings: defaults, keys and candidate values of
// every tunable kernel, in one registry (src/backend/settings.ts) that the
// wrappers read on each call and the autotuner writes.
//
// threads: 0 = as many as the work allows at `grain` units per thread (the
// built-in rule); n > 0 = exactly n (capped by the configured threads).

import { nodeModule } from '../platform.js';
import { attentionKey, KernelSettings, matmulKey, type SettingsSpace, type TunableKernel } from '../settings.js';
import { kernelGrains } from './grains.js';

/** 1 … n, and 0 (the grain rule). */
function threadChoices(threads: number): number[] {
  return [0, ...Array.from({ length: threads }, (_, i) => i + 1)];
}

const tiles = [16, 32, 48, 64, 96, 128];
const keyTiles = [16, 32, 64, 96, 128, 192, 256];
const shortLengths = [0, 16, 32, 64, 128];

const attentionForward: TunableKernel<never> = {
  // Br × Bc = 64 × 64: 16 KiB of scores per thread, with Q, O and a K/V tile all in L1/L2.
  // shortLength: Nq, Nk up to it take the untiled short-sequence kernels (assembly/attention-short.ts); 0 = never
  defaults: { blockRows: 64, blockCols: 64, shortLength: 64, threads: 0, grain: 1 << 18 },
  key: attentionKey,
  space: (threads): SettingsSpace => ({
    blockRows: tiles,
    blockCols: keyTiles,
    shortLength: shortLengths,
    threads: threadChoices(threads),
  }),
};

const attentionBackward: TunableKernel<never> = {
  defaults: { blockRows: 64, blockCols: 64, shortLength: 64, threads: 0, grain: 1 << 17 },
  key: attentionKey,
  space: (threads): SettingsSpace => ({ blockRows: tiles, blockCols: tiles, shortLength: shortLengths, threads: threadChoices(threads) }),
};

const attentionDecode: TunableKernel<never> = {
  // Split a (batch, kv head)'s keys into chunks of at least decodeChunk rows (when threads need the work).
  defaults: { decodeChunk: 512, blockCols: 64, threads: 0, grain: 1 << 16 },
  key: attentionKey,
  space: (threads): SettingsSpace => ({
    decodeChunk: [64, 128, 256, 512, 1024, 2048],
    blockCols: [32, 64, 128, 256],
    threads: threadChoices(threads),
  }),
};

const matmul: TunableKernel<never> = {
  // Measured on a Zen 4 (32 KiB L1d, 1 MiB L2 per core): one 8 KiB B micro-panel stays in L1, packed A
  // (128 KiB) in L2; sizes from 32 to 4096 came within 2% of each other at 512–2048³.
  // gemvRows: products with M up to it (2 when B is row-major) skip packing (assembly/gemv.ts); 0 = never
  defaults: { mc: 128, kc: 256, nc: 1024, gemvRows: 4, threads: 0, grain: 2_000_000 },
  key: matmulKey,
  space: (threads): SettingsSpace => ({
    gemvRows: [0, 1, 2, 4],
    mc: [16, 32, 64, 128, 256],
    kc: [64, 128, 256, 512],
    nc: [64, 256, 1024, 4096],
    threads: threadChoices(threads),
  }),
};

/** The non-GEMM kernels' thread grains (grains.ts): one device-wide record, no key. */
const grains: TunableKernel<never> = {
  defaults: kernelGrains,
  key: () => '*',
  space: (): SettingsSpace => Object.fromEntries(Object.entries(kernelGrains).map(([k, v]) => [k, [v / 4, v / 2, v, 2 * v, 4 * v]])),
};

export const WASM_TUNABLE_KERNELS = { attentionForward, attentionBackward, attentionDecode, matmul, grains } as const;
export type WasmTunableKernel = keyof typeof WASM_TUNABLE_KERNELS;

export function wasmKernelSettings(build: string, threads: () => number): KernelSettings {
  return new KernelSettings('wasm', build, WASM_TUNABLE_KERNELS, threads);
}

/** The loaded build: its variant and the stamp of the sources it was compiled from (wasm/build-stamp, in Node). */
export function wasmBuildId(variant: string): string {
  const fs = nodeModule<{ readFileSync(p: URL, e: 'utf8'): string }>('node:fs');
  try {
    const stamp = fs?.readFileSync(new URL('../../../wasm/build-stamp', import.meta.url), 'utf8').trim() ?? '';
    return stamp ? `${variant}@${stamp.slice(0, 16)}` : variant;
  } catch {
    return variant;
  }
}
