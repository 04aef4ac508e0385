import { autotuneConfig, loadedCache } from '../autotune/index.js';
import { getBackend, listBackends } from '../backend/backend.js';
import { NativeBackend } from '../backend/native/index.js';
import { nativeError, wasmError } from '../backend/setup.js';
import { WasmBackend } from '../backend/wasm/index.js';
import { formatBytes } from '../tensor/heap.js';
import { getHeap } from '../tensor/tensor.js';

export function printInfo(): void {
  const backend = getBackend();
  const heap = getHeap();
  console.log(`backend:   ${backend.name} (registered: ${listBackends().join(', ')})`);
  if (backend instanceof WasmBackend) console.log(`kernels:   ${backend.variant}.wasm`);
  if (backend instanceof NativeBackend) console.log(`kernels:   native ${backend.isa} (${backend.settings.build})`);
  const missing = nativeError();
  if (missing) console.log(`native:    not loaded: ${missing.message}`);
  const error = wasmError();
  if (error) console.log(`wasm:      not loaded: ${error.message}`);
  console.log(`threads:   ${backend.threads}`);
  console.log(`heap:      ${formatBytes(heap.stats.heapBytes)}${heap.shared ? ', shared' : ''}`);
  const { mode, cachePath } = autotuneConfig();
  const entries = mode === 'off' ? 0 : Object.values(loadedCache().entries).filter((e) => e.backend === backend.name).length;
  console.log(
    `autotune:  ${mode} (ATTUNE_AUTOTUNE), cache ${cachePath}${mode === 'off' ? '' : `: ${entries} entries for ${backend.name}`}`,
  );
}
