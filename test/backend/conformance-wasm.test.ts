// The conformance suite on the wasm backend: the build the loader picks
// (relaxed SIMD where available) and the plain SIMD128 build, on the same heap.

import { readFileSync } from 'node:fs';
import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import { kernelGrains } from '../../src/backend/wasm/grains.ts';
import { WasmBackend } from '../../src/backend/wasm/index.ts';
import type { WasmModule } from '../../src/backend/wasm/module.ts';
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

const grainsAsBuilt = { ...kernelGrains };
function forceParallel(on: boolean): void {
  for (const key of Object.keys(kernelGrains) as (keyof typeof kernelGrains)[]) kernelGrains[key] = on ? 1 : grainsAsBuilt[key];
}

const loadedVariant = loaded ? withBackend('wasm', () => (getBackend() as WasmBackend).variant) : 'none';
describeBackendConformance('wasm', { label: `the loaded build, ${loadedVariant}`, forceParallel, skip });
describeBackendConformance('wasm', { label: 'the plain SIMD128 build', backend: plainSimdBackend, forceParallel, skip });
