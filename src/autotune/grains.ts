// Tuning the thread grains of the non-GEMM kernels (the wasm backend's
// 'grains' settings: the work per thread below which a kernel does not wake
// another thread). For each kernel family an op is timed at growing sizes on
// one thread and on all of them; the grain is half the smallest size from
// which all threads win by more than `margin` (so the second thread joins
// there: threads = ⌊work / grain⌋). Sizes where threads never win keep the
// largest size tried as the grain. Device-wide: one entry, key '*'.

import { noGrad } from '../autograd/tape.js';
import { type Backend, withBackend } from '../backend/backend.js';
import { DEVICE_WIDE, type KernelSettings, type Settings } from '../backend/settings.js';
import { add } from '../ops/binary.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { dropout } from '../ops/dropout.js';
import { layerNorm } from '../ops/norm.js';
import { sum } from '../ops/reduce.js';
import { softmax } from '../ops/softmax.js';
import { ones, randn, tensor, zeros } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CacheEntry } from './cache.js';
import { measure, type TimingOptions } from './timing.js';

/** One call of an op whose kernel uses grain `family`, on about n units of work. */
type Probe = (n: number) => { run: () => void; dispose: () => void };

const COLS = 256;
const disposeAll = (...ts: Tensor[]) => {
  for (const t of ts) t.dispose();
};
const rows = (n: number) => Math.max(1, Math.round(n / COLS));

const probes: Record<string, Probe> = {
  elementwise: (n) => {
    const x = randn([n], { seed: 1 });
    return { run: () => tidy(() => void add(x, x)), dispose: () => x.dispose() };
  },
  dropout: (n) => {
    const x = randn([n], { seed: 1 });
    return { run: () => tidy(() => void dropout(x, { p: 0.1, seed: 3 })), dispose: () => x.dispose() };
  },
  reduce: (n) => {
    const x = randn([rows(n), COLS], { seed: 1 });
    return { run: () => tidy(() => void sum(x, 1)), dispose: () => x.dispose() };
  },
  softmax: (n) => {
    const x = randn([rows(n), COLS], { seed: 1 });
    return { run: () => tidy(() => void softmax(x)), dispose: () => x.dispose() };
  },
  norm: (n) => {
    const x = randn([rows(n), COLS], { seed: 1 });
    const gamma = ones([COLS]);
    const beta = zeros([COLS]);
    return {
      run: () => tidy(() => void layerNorm(x, gamma, beta)),
      dispose: () => disposeAll(x, gamma, beta),
    };
  },
  crossEntropy: (n) => {
    const x = randn([rows(n), COLS], { seed: 1 });
    const targets = tensor(
      Int32Array.from({ length: rows(n) }, (_, i) => (i * 7) % COLS),
      [rows(n)],
    );
    return {
      run: () => tidy(() => void crossEntropy(x, targets)),
      dispose: () => disposeAll(x, targets),
    };
  },
};

export interface GrainTuneOptions {
  timing: TimingOptions;
  /** Threads must be faster by this fraction to count as a win. */
  margin: number;
  /** Sizes tried: 2^minLog2 … 2^maxLog2 units of work. */
  minLog2: number;
  maxLog2: number;
}

export const defaultGrainOptions: GrainTuneOptions = {
  timing: { warmup: 2, repeats: 5, minSampleSeconds: 0.002 },
  margin: 0.05,
  minLog2: 12,
  maxLog2: 21,
};

/** The grain of one family: half the smallest size where all threads beat one. */
function tuneFamily(registry: KernelSettings, family: string, o: GrainTuneOptions): number {
  const probe = probes[family];
  for (let k = o.minLog2; k <= o.maxLog2; k++) {
    const n = 2 ** k;
    const p = probe(n);
    try {
      const time = (grain: number) => {
        registry.setDefaults('grains', { [family]: grain });
        return measure(p.run, o.timing);
      };
      const single = time(Number.MAX_SAFE_INTEGER);
      const all = time(1);
      if (all < single * (1 - o.margin)) return Math.max(1, Math.floor(n / 2));
    } finally {
      p.dispose();
    }
  }
  return 2 ** o.maxLog2;
}

/**
 * Tunes every grain family of `backend` (its registry must have a 'grains'
 * kernel) at its thread count (with one thread there is nothing to decide);
 * keeps the result as the registry's grains and returns the cache entry.
 */
export function tuneGrains(backend: Backend, registry: KernelSettings, options: Partial<GrainTuneOptions> = {}): CacheEntry {
  const o = { ...defaultGrainOptions, ...options };
  const before: Settings = { ...registry.defaults('grains') };
  const start = performance.now();
  const tuned: Record<string, number> = { ...before };
  try {
    // the probes are ops: run them with this backend active, so its kernels are the ones timed
    withBackend(backend.name, () =>
      noGrad(() => {
        for (const family of Object.keys(probes)) {
          if (family in before) tuned[family] = backend.threads > 1 ? tuneFamily(registry, family, o) : before[family];
        }
      }),
    );
  } finally {
    registry.setDefaults('grains', before);
  }
  registry.set('grains', DEVICE_WIDE, tuned);
  return {
    backend: registry.backend,
    build: registry.build,
    kernel: 'grains',
    key: '*',
    settings: tuned,
    seconds: 0,
    defaultSeconds: 0,
    evaluations: Object.keys(probes).length,
    searchSeconds: (performance.now() - start) / 1000,
    tunedAt: new Date().toISOString(),
  };
}
