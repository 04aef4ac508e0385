// The conformance suite on the wasm backend: the build the loader picks
// (relaxed SIMD where available) and the plain SIMD128 build, on the same heap.

import { readFileSync } from 'node:fs';
import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import { WasmBackend } from '../../src/backend/wasm/index.ts';
import type { WasmModule } from '../../src/backend/wasm/module.ts';
import { WASM_TUNABLE_KERNELS } from '../../src/backend/wasm/settings.ts';
import { getHeap } from '../../src/tensor/tensor.ts';
import { describeBackendConformance } from './conformance.ts';

getBackend();
const loaded = listBackends().includes('wasm');
const skip = !loaded && 'the wasm backend did not load (build it: node scripts/build-wasm.mjs)';

/** The plain SIMD128 build (mul + add instead of relaxed FMA), on the same heap. */
function plainSimdBackend(): WasmBackend {
  const variant = getHeap().shared ? 'attune-simd-mt' : 'attune-simd';
  const module = new WebAssembly.Module(readFileSync(new URL(`../../wasm/${variant}.wasm`, import.meta.url)));
  const abort = () => {
    throw new Error('attune wasm: abort');
  };
  const instance = new WebAssembly.Instance(module, { env: { memory: getHeap().memory, abort } });
  const wasm: WasmModule = { module, exports: instance.exports as WasmModule['exports'], variant, relaxed: false };
  return new WasmBackend(wasm, 3);
}

/** Every thread grain (the non-GEMM kernels' and the tunable kernels') at 1, or as built. */
function forceParallel(on: boolean): void {
  const settings = (withBackend('wasm', getBackend) as WasmBackend).settings;
  settings.resetDefaults();
  if (!on) return;
  for (const kernel of Object.keys(WASM_TUNABLE_KERNELS)) {
    const defaults = settings.defaults(kernel);
    settings.setDefaults(kernel, kernel === 'grains' ? Object.fromEntries(Object.keys(defaults).map((k) => [k, 1])) : { grain: 1 });
  }
}

const loadedVariant = loaded ? withBackend('wasm', () => (getBackend() as WasmBackend).variant) : 'none';
describeBackendConformance('wasm', { label: `the loaded build, ${loadedVariant}`, forceParallel, skip });
describeBackendConformance('wasm', { label: 'the plain SIMD128 build', backend: plainSimdBackend, forceParallel, skip });
