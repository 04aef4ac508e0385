// Kernel settings: the knobs that change a kernel's speed but never its
// results (tile sizes, cache blocks, work splits, per-kernel thread
// thresholds, which backend runs it), gathered in one registry per backend.
// A kernel wrapper asks its registry for the settings of one call; the
// registry answers, in order: a trial's override (the autotuner timing a
// candidate), a tuned entry for the call's key (from src/autotune's cache or
// a tuning run), the backend's defaults.
//
// The key is (kernel, shape bucket, options, threads): what changes the best
// settings. The build and the device are not in it: a registry belongs to
// one loaded build, and the autotuner's cache keeps one device's entries
// (src/autotune/cache.ts).

import { getBackend, listBackends, setKernelRouter, withBackend } from './backend.js';

/** The key of a device-wide setting (no shape): it replaces the kernel's defaults. */
export const DEVICE_WIDE = '*';

/** One kernel's settings: named integers. */
export type Settings = Readonly<Record<string, number>>;

/** The candidate values of each setting of a kernel (the autotuner's search space). */
export type SettingsSpace = Readonly<Record<string, readonly number[]>>;

/** What the registry needs to know about a tunable kernel. */
export interface TunableKernel<P> {
  defaults: Settings;
  /** The shape bucket and options of a call: calls with one key share their settings. */
  key(p: P, threads: number): string;
  /** Candidate values per setting; every combination must give the same results. */
  space(threads: number): SettingsSpace;
}

/** Where tuned settings come from (installed by src/autotune). */
export interface SettingsProvider {
  /** Called once per registry, before its first lookup: tuned entries to start from. */
  load(registry: KernelSettings): void;
  /** Called on a key with no entry (tune-on-first-use); returns settings to keep for it, or undefined. */
  miss?(registry: KernelSettings, kernel: string, key: string, problem: unknown): Settings | undefined;
}

let provider: SettingsProvider | null = null;
const registries = new Map<string, KernelSettings>();

export function setSettingsProvider(p: SettingsProvider | null): void {
  provider = p;
  for (const r of registries.values()) r.reload();
}

/** The settings registry of the backend named `backend`, if it has one. */
/**
 * The settings registry of the backend registered as `backend` (loading it if
 * only its loader is registered): its `settings` property, else the registry
 * last created under that name.
 */
export function kernelSettings(backend: string): KernelSettings | undefined {
  if (listBackends().includes(backend)) {
    try {
      const own = (withBackend(backend, getBackend) as { settings?: unknown }).settings;
      if (own instanceof KernelSettings) return own;
    } catch {
      // it does not load here
    }
  }
  return registries.get(backend);
}

export function listKernelSettings(): KernelSettings[] {
  return [...registries.values()];
}

/** The registry of one backend's tunable kernels. */
export class KernelSettings {
  private readonly tuned = new Map<string, Settings>();
  private readonly tunedKernels = new Map<string, number>();
  private override: { kernel: string; settings: Settings } | null = null;
  private loaded = false;
  private tuning = false;
  /** The defaults as built, to restore after setDefaults. */
  private readonly builtDefaults: Record<string, Settings>;

  constructor(
    readonly backend: string,
    /** Identifies the loaded build (its kernels' code); tuned entries of another build do not apply. */
    readonly build: string,
    readonly kernels: Readonly<Record<string, TunableKernel<never>>>,
    private readonly threads: () => number,
  ) {
    this.builtDefaults = Object.fromEntries(Object.entries(kernels).map(([k, spec]) => [k, { ...spec.defaults }]));
    registries.set(backend, this);
  }

  /** The settings for one call of `kernel` with parameters p. */
  get(kernel: string, p: unknown): Settings {
    const spec = this.spec(kernel);
    if (this.override?.kernel === kernel) return this.override.settings;
    if (!this.loaded) this.reload();
    const tuneOnMiss = provider?.miss !== undefined && !this.tuning;
    if (!tuneOnMiss && !this.tunedKernels.has(kernel)) return spec.defaults;
    const key = this.keyOf(kernel, p);
    const hit = this.tuned.get(`${kernel}|${key}`);
    if (hit) return hit;
    if (tuneOnMiss) {
      this.tuning = true;
      try {
        const found = provider?.miss?.(this, kernel, key, p);
        this.set(kernel, key, found ?? spec.defaults);
        return found ?? spec.defaults;
      } finally {
        this.tuning = false;
      }
    }
    return spec.defaults;
  }

  /** The key of a call: kernel-specific shape bucket and options, and the thread count. */
  keyOf(kernel: string, p: unknown): string {
    return (this.spec(kernel).key as (p: unknown, threads: number) => string)(p, this.threads());
  }

  space(kernel: string): SettingsSpace {
    return this.spec(kernel).space(this.threads());
  }

  defaults(kernel: string): Settings {
    return this.spec(kernel).defaults;
  }

  /**
   * Changes the defaults of `kernel` for every call without a tuned entry
   * (a device-wide setting such as the thread grains, or tests forcing tiny
   * inputs onto every thread). The defaults record is shared by every
   * registry of this backend's kernels.
   */
  setDefaults(kernel: string, settings: Settings): void {
    Object.assign(this.spec(kernel).defaults as Record<string, number>, settings);
  }

  /** Restores the defaults as built. */
  resetDefaults(): void {
    for (const [kernel, built] of Object.entries(this.builtDefaults)) this.setDefaults(kernel, built);
  }

  /**
   * Keeps `settings` for calls of `kernel` with this key. The key '*' is a
   * device-wide setting (a kernel whose key is always '*', such as the wasm
   * thread grains): it becomes the kernel's defaults.
   */
  set(kernel: string, key: string, settings: Settings): void {
    if (key === DEVICE_WIDE) this.setDefaults(kernel, settings);
    const id = `${kernel}|${key}`;
    if (!this.tuned.has(id)) this.tunedKernels.set(kernel, (this.tunedKernels.get(kernel) ?? 0) + 1);
    this.tuned.set(id, { ...this.spec(kernel).defaults, ...settings });
  }

  /** Every tuned entry: [kernel, key, settings]. */
  entries(): [string, string, Settings][] {
    return [...this.tuned].map(([id, s]) => {
      const bar = id.indexOf('|');
      return [id.slice(0, bar), id.slice(bar + 1), s];
    });
  }

  /** Forgets the tuned entries; the next lookup loads them again from the provider. */
  reload(): void {
    for (const [id] of this.tuned) {
      const bar = id.indexOf('|');
      if (id.slice(bar + 1) === DEVICE_WIDE) this.setDefaults(id.slice(0, bar), this.builtDefaults[id.slice(0, bar)]);
    }
    this.tuned.clear();
    this.tunedKernels.clear();
    this.loaded = true;
    provider?.load(this);
  }

  /** Runs fn with `settings` for every call of `kernel` (an autotuner trial), and no tuning on a miss. */
  withSettings<T>(kernel: string, settings: Settings, fn: () => T): T {
    const saved = this.override;
    const savedTuning = this.tuning;
    this.override = { kernel, settings: { ...this.spec(kernel).defaults, ...settings } };
    this.tuning = true;
    try {
      return fn();
    } finally {
      this.override = saved;
      this.tuning = savedTuning;
    }
  }

  private spec(kernel: string): TunableKernel<never> {
    const spec = this.kernels[kernel];
    if (!spec)
      throw new Error(
        `kernel settings: backend '${this.backend}' has no tunable kernel '${kernel}'; it has ${Object.keys(this.kernels).join(', ')}`,
      );
    return spec;
  }
}

/** The power-of-two bucket at or above n (n itself up to 16): shapes in one bucket share settings. */
export function bucket(n: number): number {
  if (n <= 16) return n;
  return 2 ** Math.ceil(Math.log2(n));
}

/** Threads worth using for `work` units at `grain` each, capped by an explicit setting (0 = no cap). */
export function threadsFor(work: number, grain: number, maxThreads: number, explicit = 0): number {
  if (explicit > 0) return Math.min(explicit, maxThreads);
  return Math.max(1, Math.min(maxThreads, Math.floor(work / grain)));
}

// ---------------------------------------------------------------------------
// Keys shared by every backend's attention and GEMM kernels
// ---------------------------------------------------------------------------

interface AttentionKeyFields {
  batch: number;
  numHeads: number;
  numKvHeads: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
  causal: boolean;
  windowLeft: number;
  windowRight: number;
  mask: unknown;
  dropoutP: number;
}

/** Attention's key: bucketed B, Nq, Nk; exact H, Hk (GQA), D; causal, window, mask, dropout; threads. */
export function attentionKey(p: AttentionKeyFields, threads: number): string {
  const window =
    p.windowLeft < 0 && p.windowRight < 0
      ? 'none'
      : `${p.windowLeft < 0 ? -1 : bucket(p.windowLeft)}:${p.windowRight < 0 ? -1 : bucket(p.windowRight)}`;
  return (
    `B${bucket(p.batch)} H${p.numHeads} Hk${p.numKvHeads} Nq${bucket(p.queryLength)} Nk${bucket(p.keyLength)} D${p.headDim}` +
    ` causal${p.causal ? 1 : 0} window:${window} mask${p.mask ? 1 : 0} dropout${p.dropoutP > 0 ? 1 : 0} t${threads}`
  );
}

interface MatmulKeyFields {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

/** GEMM's key: bucketed batch, M, N, K; the transposes; threads. */
export function matmulKey(p: MatmulKeyFields, threads: number): string {
  return `b${bucket(p.batch)} M${bucket(p.M)} N${bucket(p.N)} K${bucket(p.K)} tA${p.transA ? 1 : 0} tB${p.transB ? 1 : 0} t${threads}`;
}

// ---------------------------------------------------------------------------
// Routes: which backend runs a kernel, per key (one of the settings, chosen by
// the autotuner between the backends that have the kernel)
// ---------------------------------------------------------------------------

const routeKeys: Readonly<Record<string, (p: never, threads: number) => string>> = {
  attentionForward: attentionKey,
  attentionBackward: attentionKey,
  attentionDecode: attentionKey,
  matmul: matmulKey,
};
const routes = new Map<string, string>();

/** Kernels whose backend can be chosen per key. */
export const ROUTABLE_KERNELS = Object.keys(routeKeys) as readonly string[];

/** The backend that should run `kernel` for parameters p, if a route says so. */
export function routeFor(kernel: string, p: unknown, threads: number): string | undefined {
  const key = routeKeys[kernel];
  if (!key || routes.size === 0) return undefined;
  return routes.get(`${kernel}|${(key as (p: unknown, t: number) => string)(p, threads)}`);
}

/** Runs `kernel` on `backend` for calls with this key (undefined: remove the route). */
export function setRoute(kernel: string, key: string, backend: string | undefined): void {
  if (!routeKeys[kernel]) throw new Error(`kernel settings: '${kernel}' cannot be routed; routable: ${ROUTABLE_KERNELS.join(', ')}`);
  if (backend === undefined) routes.delete(`${kernel}|${key}`);
  else routes.set(`${kernel}|${key}`, backend);
  setKernelRouter(routes.size > 0 ? routeFor : null);
}

export function clearRoutes(): void {
  routes.clear();
  setKernelRouter(null);
}

/** The key a route for kernel and parameters p would have. */
export function routeKey(kernel: string, p: unknown, threads: number): string {
  const key = routeKeys[kernel];
  if (!key) throw new Error(`kernel settings: '${kernel}' cannot be routed; routable: ${ROUTABLE_KERNELS.join(', ')}`);
  return (key as (p: unknown, t: number) => string)(p, threads);
}
