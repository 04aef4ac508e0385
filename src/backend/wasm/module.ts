// Loading the wasm kernels: pick the relaxed-SIMD build where the engine
// accepts it (else plain SIMD128), the shared-memory build where the heap is
// shared (threads) and the plain one where it is not. In Node this is
// synchronous; a browser must call loadWasmModule() first (see ready()).

import { HEAP_RESERVED_BYTES, type Heap } from '../../tensor/heap.js';
import { isNode, nodeModule } from '../platform.js';

export interface WasmModule {
  readonly module: WebAssembly.Module;
  readonly exports: Record<string, (...args: number[]) => number>;
  readonly variant: string;
  readonly relaxed: boolean;
}

const wasmDir = new URL('../../../wasm/', import.meta.url);

function variantNames(shared: boolean): string[] {
  const suffix = shared ? '-mt' : '';
  return [`attune-relaxed${suffix}`, `attune-simd${suffix}`];
}

let flagsSet = false;
/**
 * Node 20 needs relaxed SIMD switched on, and V8 would otherwise run a new
 * wasm function in its baseline tier for the whole of a long first call.
 * Both flags apply to modules compiled after this point.
 */
function setNodeFlags(): void {
  if (flagsSet) return;
  flagsSet = true;
  const v8 = nodeModule<{ setFlagsFromString(flags: string): void }>('node:v8');
  v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  v8?.setFlagsFromString('--no-liftoff');
}

function instantiate(module: WebAssembly.Module, heap: Heap, variant: string): WasmModule {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory: heap.memory,
      abort: () => {
        throw new Error('attune wasm: abort');
      },
    },
  });
  const exports = instance.exports as Record<string, (...args: number[]) => number>;
  // Instantiating writes the module's constant data into the shared memory
  // (every worker does it again): it must lie in the heap's reserved prefix.
  const staticEnd = exports.staticDataEnd?.() ?? Number.POSITIVE_INFINITY;
  if (staticEnd > HEAP_RESERVED_BYTES) {
    throw new Error(
      `wasm backend: ${variant}'s static data ends at byte ${staticEnd}, past the heap's reserved ${HEAP_RESERVED_BYTES} bytes`,
    );
  }
  return {
    module,
    exports,
    variant,
    relaxed: variant.includes('relaxed'),
  };
}

export function loadWasmModuleSync(heap: Heap): WasmModule {
  if (!isNode) throw new Error('wasm backend: in a browser, await ready() before running ops');
  setNodeFlags();
  const fs = nodeModule<{ readFileSync(p: URL): Uint8Array<ArrayBuffer> }>('node:fs');
  const errors: string[] = [];
  for (const name of variantNames(heap.shared)) {
    try {
      const bytes = fs?.readFileSync(new URL(`${name}.wasm`, wasmDir));
      if (!bytes) continue;
      return instantiate(new WebAssembly.Module(bytes), heap, name);
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`wasm backend: no kernel build loaded (${errors.join('; ')}); run npm run build`);
}

export async function loadWasmModule(heap: Heap, baseUrl: URL = wasmDir): Promise<WasmModule> {
  if (isNode) return loadWasmModuleSync(heap);
  const errors: string[] = [];
  for (const name of variantNames(heap.shared)) {
    try {
      const response = await fetch(new URL(`${name}.wasm`, baseUrl));
      const module = await WebAssembly.compile(await response.arrayBuffer());
      return instantiate(module, heap, name);
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`wasm backend: no kernel build loaded from ${baseUrl} (${errors.join('; ')})`);
}
