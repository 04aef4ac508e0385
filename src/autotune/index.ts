// The kernel autotuner: modes, the provider that feeds the backends' settings
// registries from the cache file, and autotune() that tunes a list of shapes
// ahead (what `attune autotune --shapes ...` runs; the shape 'grains' tunes
// the device-wide thread grains of the non-GEMM kernels: grains.ts).
//
// Modes (option, or $ATTUNE_AUTOTUNE):
//   off                 the backends' defaults, no cache read
//   use-cache           tuned settings from the cache where it has them (default)
//   tune-on-first-use   as use-cache, and a key seen for the first time is tuned
//                       then and there (a short search) and written to the cache

import { getBackend, listBackends, withBackend } from '../backend/backend.js';
import type { KernelTable } from '../backend/kernels.js';
import { isNode } from '../backend/platform.js';
import {
  type KernelSettings,
  kernelSettings,
  listKernelSettings,
  routeKey,
  type Settings,
  type SettingsProvider,
  setRoute,
  setSettingsProvider,
} from '../backend/settings.js';
import { type CacheEntry, type CacheFile, defaultCachePath, mergeIntoCache, type RouteEntry, readCache } from './cache.js';
import { tuneGrains } from './grains.js';
import type { SearchOptions } from './search.js';
import type { TimingOptions } from './timing.js';
import { confirmAgainstDefaults, makeSampler, type TuneOptions, type TuneResult, tuneWorkload } from './tuner.js';
import { makeWorkload, parseShape, type TuneShape, type Workload, workloadFromProblem } from './workloads.js';

export type AutotuneMode = 'off' | 'use-cache' | 'tune-on-first-use';
export const AUTOTUNE_MODES: readonly AutotuneMode[] = ['off', 'use-cache', 'tune-on-first-use'];

export interface AutotuneConfig {
  mode: AutotuneMode;
  /** The cache file (default: $ATTUNE_AUTOTUNE_CACHE, else the user cache directory). */
  cachePath: string;
  /** Tune-on-first-use: a short search per new key. */
  firstUse: Partial<TuneOptions>;
}

function modeFromEnv(): AutotuneMode {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.ATTUNE_AUTOTUNE;
  if (!raw) return 'use-cache';
  const alias: Record<string, AutotuneMode> = { cache: 'use-cache', tune: 'tune-on-first-use', '0': 'off', false: 'off' };
  const mode = (alias[raw] ?? raw) as AutotuneMode;
  if (!AUTOTUNE_MODES.includes(mode)) throw new Error(`ATTUNE_AUTOTUNE: expected one of ${AUTOTUNE_MODES.join(', ')}, got '${raw}'`);
  return mode;
}

const firstUseSearch: Partial<TuneOptions> = {
  timing: { warmup: 1, repeats: 3, minSampleSeconds: 0.001 },
  search: { repeats: 3, budgetSeconds: 2, maxPasses: 2, raceMargin: 1.2 },
};

let config: AutotuneConfig | null = null;
let cache: CacheFile | null = null;
let warned = false;

function current(): AutotuneConfig {
  config ??= { mode: modeFromEnv(), cachePath: isNode ? defaultCachePath() : '', firstUse: firstUseSearch };
  return config;
}

/** Sets the mode and the cache file; the backends' registries reload from it. */
export function configureAutotune(options: Partial<AutotuneConfig>): AutotuneConfig {
  if (options.mode !== undefined && !AUTOTUNE_MODES.includes(options.mode)) {
    throw new Error(`configureAutotune: mode must be one of ${AUTOTUNE_MODES.join(', ')}, got '${options.mode}'`);
  }
  config = { ...current(), ...options };
  cache = null;
  warned = false;
  setSettingsProvider(provider);
  return config;
}

export function autotuneConfig(): Readonly<AutotuneConfig> {
  return current();
}

/** The warning about an ignored cache, once per process. */
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  console.warn(`attune: ${message}`);
}

/** The cache as read (once) from the file; a problem is warned about once and gives an empty cache. */
export function loadedCache(): CacheFile {
  if (cache) return cache;
  const path = current().cachePath;
  const read = readCache(path);
  // A missing file is what a fresh machine has: only the modes that build it say so.
  const silent = read.problem === 'missing' && current().mode === 'use-cache';
  if (read.problem && !silent) {
    warnOnce(
      `ignoring the kernel-settings cache ${path} (${read.problem}${read.detail ? `: ${read.detail}` : ''}); tuned settings will rebuild it`,
    );
  }
  cache = read.cache;
  return cache;
}

function applyRoutes(c: CacheFile): void {
  for (const r of Object.values(c.routes)) {
    const loaded = Object.entries(r.builds).every(([backend, build]) => kernelSettings(backend)?.build === build);
    if (loaded) setRoute(r.kernel, r.key, r.backend);
  }
}

function tuneOnMiss(registry: KernelSettings, kernel: string, _key: string, problem: unknown): Settings | undefined {
  const w = workloadFromProblem(kernel, problem);
  if (!w) return undefined;
  try {
    const kernels = withBackend(registry.backend, getBackend).kernels;
    const result = tuneWorkload(registry, kernels, w, current().firstUse);
    saveResults([result]);
    return result.settings;
  } finally {
    w.dispose();
  }
}

const provider: SettingsProvider = {
  load(registry: KernelSettings) {
    if (current().mode === 'off' || !isNode) return;
    const c = loadedCache();
    for (const e of Object.values(c.entries)) {
      if (e.backend === registry.backend && e.build === registry.build && registry.kernels[e.kernel])
        registry.set(e.kernel, e.key, e.settings);
    }
    applyRoutes(c);
  },
  /** Only in tune-on-first-use: a registry then computes keys and asks on each new one. */
  get miss() {
    return current().mode === 'tune-on-first-use' && isNode ? tuneOnMiss : undefined;
  },
};
setSettingsProvider(provider);

/** Writes tuned entries (and routes) to the cache file, merged with what is there. */
export function saveResults(results: readonly CacheEntry[], routes: readonly RouteEntry[] = []): void {
  if (!isNode || current().mode === 'off') return;
  loadedCache(); // warn about a file being replaced
  const builds = Object.fromEntries(listKernelSettings().map((r) => [r.backend, r.build]));
  cache = mergeIntoCache(
    current().cachePath,
    results.map(({ backend, build, kernel, key, settings, seconds, defaultSeconds, evaluations, searchSeconds, tunedAt }) => ({
      backend,
      build,
      kernel,
      key,
      settings,
      seconds,
      defaultSeconds,
      evaluations,
      searchSeconds,
      tunedAt,
    })),
    routes,
    builds,
  );
}

export interface AutotuneOptions extends Partial<TuneOptions> {
  /** Backends to tune (default: every registered backend with a settings registry). */
  backends?: readonly string[];
  /** Write the results to the cache (default true). */
  save?: boolean;
  /** Called after each shape. */
  onResult?: (r: ShapeResult) => void;
}

export interface ShapeResult {
  shape: string;
  /** One per backend tuned. */
  tuned: TuneResult[];
  /** The backend chosen to run this kernel for this key (set as a route when it is not the active one). */
  backend: string;
}

/** Times each backend's tuned kernel on the workload and routes the kernel to the fastest. */
function chooseBackend(w: Workload, tuned: TuneResult[], repeats: number): { backend: string; route?: RouteEntry } {
  const active = getBackend().name;
  if (tuned.length < 2) return { backend: tuned[0]?.backend ?? active };
  const seconds: Record<string, number> = {};
  for (const t of tuned) {
    const registry = kernelSettings(t.backend) as KernelSettings;
    const kernels = withBackend(t.backend, getBackend).kernels as Partial<KernelTable>;
    const sampler = makeSampler(registry, kernels, w, { warmup: 1, repeats, minSampleSeconds: 0.002 });
    seconds[t.backend] = confirmAgainstDefaults(sampler, t.settings, t.settings, repeats).best;
  }
  const backend = Object.entries(seconds).sort((a, b) => a[1] - b[1])[0][0];
  const key = routeKey(w.kernel, w.params, getBackend().threads);
  const builds = Object.fromEntries(tuned.map((t) => [t.backend, t.build]));
  const route: RouteEntry = { kernel: w.kernel, key, backend, builds, seconds, tunedAt: new Date().toISOString() };
  setRoute(w.kernel, key, backend === active ? undefined : backend);
  return { backend, route };
}

/** Does backend `name` load here (loading it, and so its settings registry, if it was only registered as a loader)? */
function loads(name: string): boolean {
  try {
    withBackend(name, getBackend);
    return true;
  } catch {
    return false;
  }
}

/** The thread grains of every backend whose registry has them ('grains' in a shape list). */
function tuneAllGrains(names: readonly string[]): ShapeResult {
  const tuned: TuneResult[] = [];
  for (const name of names) {
    const registry = kernelSettings(name) as KernelSettings;
    if (!registry.kernels.grains) continue;
    const entry = tuneGrains(withBackend(name, getBackend), registry);
    tuned.push({ ...entry, label: 'grains', searchBest: entry.settings, samples: 0, accepted: true });
  }
  return { shape: 'grains', tuned, backend: getBackend().name };
}

/** Tunes each shape on each backend, keeps the results in the registries and (by default) the cache file. */
export function autotune(shapes: readonly (string | TuneShape)[], options: AutotuneOptions = {}): ShapeResult[] {
  getBackend();
  const names = options.backends ?? listBackends().filter((b) => loads(b) && kernelSettings(b));
  if (names.length === 0)
    throw new Error(`autotune: no backend with tunable kernels is registered (registered: ${listBackends().join(', ')})`);
  const results: ShapeResult[] = [];
  for (const spec of shapes) {
    if (spec === 'grains') {
      const r = tuneAllGrains(names);
      if (options.save !== false) saveResults(r.tuned);
      options.onResult?.(r);
      results.push(r);
      continue;
    }
    const shape = typeof spec === 'string' ? parseShape(spec) : spec;
    const w = makeWorkload(shape);
    try {
      const tuned: TuneResult[] = [];
      for (const name of names) {
        const kernels = withBackend(name, getBackend).kernels; // loads it (and its registry) if it is not yet
        const registry = kernelSettings(name);
        if (!registry) throw new Error(`autotune: backend '${name}' has no tunable kernels`);
        if (!registry.kernels[w.kernel]) continue;
        tuned.push(tuneWorkload(registry, kernels, w, options));
      }
      const { backend, route } = chooseBackend(w, tuned, options.timing?.repeats ?? 5);
      if (options.save !== false) saveResults(tuned, route ? [route] : []);
      const r = { shape: w.label, tuned, backend };
      options.onResult?.(r);
      results.push(r);
    } finally {
      w.dispose();
    }
  }
  return results;
}

export { formatTuneShape, makeWorkload, parseShape } from './workloads.js';
export type { SearchOptions, Settings, TimingOptions, TuneOptions, TuneResult, TuneShape };
