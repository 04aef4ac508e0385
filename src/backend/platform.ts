// What the platform offers, found without importing Node-only modules, so
// the library still loads in a browser.

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

const nodeProcess = (globalThis as { process?: NodeProcess }).process;

export const isNode = typeof nodeProcess?.versions?.node === 'string';

/** A Node built-in module (Node ≥ 20.16), or null outside Node. */
export function nodeModule<T>(id: string): T | null {
  if (!isNode) return null;
  const get = nodeProcess?.getBuiltinModule;
  if (!get) throw new Error(`attune needs Node >= 20.16 (process.getBuiltinModule); this is ${nodeProcess?.versions?.node}`);
  return get(id) as T;
}

export function hardwareThreads(): number {
  const os = nodeModule<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}
