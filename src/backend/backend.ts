// The backend interface and registry. A backend is a named set of kernels
// over the shared tensor heap plus a thread count; the js backend has every
// kernel and is the reference the others are tested against. A GPU tier
// (WebGPU) or a native one (N-API) joins by registering here.

import type { Tensor } from '../tensor/tensor.js';
import type { AttentionLayout } from './attention-schema.js';
import type { KernelName, KernelTable } from './kernels.js';

export interface Backend {
  readonly name: string;
  readonly kernels: Partial<KernelTable>;
  /** Threads a kernel may use (1 for the js backend). */
  readonly threads: number;
  /** The backend whose kernels stand in for the ones this one lacks (resolved by the registry), before the js reference. */
  readonly fallback?: string;
  /** q/k/v layouts its attention kernels read (AttentionProblem.layout); absent = ['bhnd'] only. */
  readonly attentionLayouts?: readonly AttentionLayout[];
  setThreads(n: number): void;
}

const backends = new Map<string, Backend>();
const loaders = new Map<string, () => Backend>();
let active: Backend | null = null;
let defaultChooser: (() => Backend) | null = null;

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/**
 * Names a backend that loads on first request (setBackend or the default
 * choice): its loader returns it or throws saying why it cannot load here.
 */
export function registerBackendLoader(name: string, load: () => Backend): void {
  loaders.set(name, load);
}

/** The backend called name, loading it first if a loader is registered for it. */
function resolveBackend(name: string): Backend {
  const registered = backends.get(name);
  if (registered) return registered;
  const load = loaders.get(name);
  if (!load) throw new Error(`setBackend: no backend named '${name}'; available: ${listBackends().join(', ')}`);
  let loaded: Backend;
  try {
    loaded = load();
  } catch (e) {
    throw new Error(`setBackend: the ${name} backend did not load: ${(e as Error).message}`, { cause: e });
  }
  registerBackend(loaded);
  return loaded;
}

/** Called by the package entry: picks wasm where it loads, else js, on first use. */
export function setDefaultBackendChooser(choose: () => Backend): void {
  defaultChooser = choose;
}

/** Makes the named backend active (loading it first if needed: 'wasm' loads synchronously in Node). */
export function setBackend(name: string): void {
  if (typeof name !== 'string') throw new Error(`setBackend: expected a backend name (${listBackends().join(', ')}), got ${String(name)}`);
  active = resolveBackend(name);
}

export function getBackend(): Backend {
  if (!active) {
    active = defaultChooser ? defaultChooser() : (backends.get('js') ?? null);
    if (!active) throw new Error('getBackend: no backend registered');
  }
  return active;
}

/** Backends registered or loadable on request. */
export function listBackends(): string[] {
  return [...new Set([...backends.keys(), ...loaders.keys()])];
}

/** Runs fn with another backend active (tests compare backends this way). */
export function withBackend<T>(name: string, fn: () => T): T {
  const previous = getBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/**
 * The kernel to run: the active backend's, else the js reference's. float64
 * and bool tensors always take the js reference (the fast backends work on
 * 4-byte elements: float32, and int32 for indices).
 */
export function kernelFor<K extends KernelName>(name: K, tensors: readonly (Tensor | null)[]): KernelTable[K] {
  const backend = getBackend();
  const referenceOnly = tensors.some((t) => t !== null && (t.dtype === 'float64' || t.dtype === 'bool'));
  const chosen = (!referenceOnly && (backend.kernels[name] || fallbackKernel(backend, name))) || backends.get('js')?.kernels[name];
  if (!chosen) throw new Error(`${name}: no kernel registered on backend '${backend.name}' or 'js'`);
  if (router && !referenceOnly && backend.name !== 'js') return routed(name, backend, chosen as KernelTable[K], router);
  return chosen as KernelTable[K];
}

/**
 * Kernel `name` of backend.fallback, loading that backend on first need;
 * undefined where it lacks it or cannot load. A kernel hands a case it does
 * not cover to this (then to referenceKernel), never to another backend's code.
 */
export function fallbackKernel<K extends KernelName>(backend: Backend, name: K): KernelTable[K] | undefined {
  if (!backend.fallback) return undefined;
  try {
    return resolveBackend(backend.fallback).kernels[name] as KernelTable[K] | undefined;
  } catch {
    return undefined;
  }
}

type KernelRouter = (name: KernelName, params: unknown, threads: number) => string | undefined;
let router: KernelRouter | null = null;

/**
 * Lets the kernel settings choose, per call, another registered backend for
 * a kernel (src/backend/settings.ts installs this while it holds routes; a
 * kernel's parameter object is its last argument).
 */
export function setKernelRouter(r: KernelRouter | null): void {
  router = r;
}

function routed<K extends KernelName>(name: K, backend: Backend, chosen: KernelTable[K], route: KernelRouter): KernelTable[K] {
  const call = (...args: unknown[]) => {
    const target = route(name, args[args.length - 1], backend.threads);
    const kernel = target && target !== backend.name ? backends.get(target)?.kernels[name] : undefined;
    return ((kernel ?? chosen) as (...a: unknown[]) => unknown)(...args);
  };
  return call as unknown as KernelTable[K];
}

/**
 * The js reference's kernel `name`: a fast kernel hands back a case it does
 * not cover (a stride pattern it cannot merge, a dtype it does not move) through
 * this, so no backend imports another's kernels.
 */
export function referenceKernel<K extends KernelName>(name: K): KernelTable[K] {
  const kernel = backends.get('js')?.kernels[name];
  if (!kernel) throw new Error(`${name}: the js reference backend is not registered`);
  return kernel as KernelTable[K];
}
