// The wasm backend: SIMD kernels compiled from assembly/, run on a pool of
// threads over the shared heap. Kernels it lacks fall back to the js reference.

import { getHeap } from '../../tensor/tensor.js';
import type { Backend } from '../backend.js';
import type { KernelTable } from '../kernels.js';
import { hardwareThreads } from '../platform.js';
import { WasmContext } from './context.js';
import { matmulKernel } from './matmul.js';
import { loadWasmModuleSync, type WasmModule } from './module.js';

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly context: WasmContext;
  readonly kernels: Partial<KernelTable>;

  constructor(wasm: WasmModule, threads = getHeap().shared ? hardwareThreads() : 1) {
    this.context = new WasmContext(wasm, threads);
    this.kernels = {
      matmul: matmulKernel(this.context),
    };
  }

  get threads(): number {
    return this.context.threads;
  }

  setThreads(n: number): void {
    this.context.setThreads(n);
  }

  get variant(): string {
    return this.context.wasm.variant;
  }

  static loadSync(): WasmBackend {
    return new WasmBackend(loadWasmModuleSync(getHeap()));
  }
}
