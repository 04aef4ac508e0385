// Freeing tensors that nobody can reach, on demand. A FinalizationRegistry
// frees them eventually, but only after a garbage collection that V8 has no
// reason to run (a tensor's bytes live in the wasm heap, not in the JS heap)
// and only between tasks, never inside a synchronous loop. So when the heap
// is about to grow, or an allocation fails, the tensor layer asks for both at
// once where the runtime allows it. In Node: a forced collection
// (`--expose-gc`, reached through a fresh vm context) and the registry's
// callbacks run on the spot (`FinalizationRegistry.prototype.cleanupSome`,
// behind `--harmony-weak-refs-with-cleanup-some`, on a registry made in a
// context created after the flag was set). Elsewhere (a browser) there is no
// such hook and the registry's own timing applies.

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
}

interface Collector<T> {
  readonly registry: FinalizationRegistry<T>;
  /** Collects garbage and runs the callbacks of what died; false where the runtime cannot. */
  reclaim(): boolean;
}

type CleanupSome = (this: FinalizationRegistry<unknown>) => void;

function nodeModule<T>(id: string): T | null {
  const get = (globalThis as { process?: NodeProcess }).process?.getBuiltinModule;
  return typeof get === 'function' ? (get(id) as T) : null;
}

/** A registry calling `finalize` for each registered object that dies, with a synchronous reclaim where possible. */
export function createCollector<T>(finalize: (held: T) => void): Collector<T> {
  const v8 = nodeModule<{ setFlagsFromString(flags: string): void }>('node:v8');
  const vm = nodeModule<{ runInNewContext(code: string): unknown }>('node:vm');
  if (v8 && vm) {
    try {
      v8.setFlagsFromString('--expose-gc');
      v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
      // One fresh context gives both: its global `gc` and a FinalizationRegistry with cleanupSome.
      const { gc, Registry } = vm.runInNewContext('({ gc, Registry: FinalizationRegistry })') as {
        gc: () => void;
        Registry: typeof FinalizationRegistry;
      };
      const registry = new Registry<T>(finalize);
      const cleanupSome = (registry as unknown as { cleanupSome?: CleanupSome }).cleanupSome;
      if (typeof gc === 'function' && typeof cleanupSome === 'function') {
        return {
          registry,
          reclaim: () => {
            gc();
            cleanupSome.call(registry as FinalizationRegistry<unknown>);
            return true;
          },
        };
      }
    } catch {
      // a runtime without these flags: fall through to the plain registry
    }
  }
  return { registry: new FinalizationRegistry<T>(finalize), reclaim: () => false };
}
