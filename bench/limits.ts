// This machine's per-core SIMD ceiling, to quote kernels as "% of the limit":
// the 128-bit FMA peak from ../shared/tools/simd-peak when it is there,
// else ATTUNE_SIMD_PEAK (GFLOP/s), else unknown.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SimdLimit {
  gflopsPerCore: number;
  source: string;
}

export function simdLimit(): SimdLimit | null {
  const tool = fileURLToPath(new URL('../../shared/tools/simd-peak', import.meta.url));
  if (existsSync(tool)) {
    const out = execFileSync(tool, { encoding: 'utf8', timeout: 60_000 });
    const fma = /128-bit FMA\s+([\d.]+) GFLOP\/s/.exec(out);
    const clock = /clock\s+([\d.]+) GHz/.exec(out);
    if (fma)
      return { gflopsPerCore: Number(fma[1]), source: `simd-peak: 128-bit FMA ${fma[1]} GFLOP/s per core at ${clock?.[1] ?? '?'} GHz` };
  }
  const env = Number(process.env.ATTUNE_SIMD_PEAK);
  return Number.isFinite(env) && env > 0 ? { gflopsPerCore: env, source: 'ATTUNE_SIMD_PEAK' } : null;
}

/** The native ceiling: simd-peak's 512-bit FMA line (what the native kernels are quoted against), else ATTUNE_NATIVE_PEAK. */
export function nativeSimdLimit(): SimdLimit | null {
  const tool = fileURLToPath(new URL('../../shared/tools/simd-peak', import.meta.url));
  if (existsSync(tool)) {
    const out = execFileSync(tool, { encoding: 'utf8', timeout: 60_000 });
    const fma = /512-bit FMA\s+([\d.]+) GFLOP\/s/.exec(out);
    if (fma) return { gflopsPerCore: Number(fma[1]), source: `simd-peak: 512-bit FMA ${fma[1]} GFLOP/s per core` };
  }
  const env = Number(process.env.ATTUNE_NATIVE_PEAK);
  return Number.isFinite(env) && env > 0 ? { gflopsPerCore: env, source: 'ATTUNE_NATIVE_PEAK' } : null;
}
