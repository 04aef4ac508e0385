// The wasm backend: SIMD kernels compiled from assembly/, run on a pool of
// threads over the shared heap. Kernels it lacks fall back to the js reference.

import { getHeap } from '../../tensor/tensor.js';
import type { Backend } from '../backend.js';
import type { KernelTable } from '../kernels.js';
import { hardwareThreads } from '../platform.js';
import type { KernelSettings } from '../settings.js';
import { attentionKernels } from './attention.js';
import { WasmContext } from './context.js';
import { crossEntropyKernel } from './cross-entropy.js';
import { binaryKernel, dropoutKernel, unaryGradKernel, unaryKernel } from './elementwise.js';
import { copyKernel, embeddingGradKernel, embeddingKernel } from './gather.js';
import { matmulKernel } from './matmul.js';
import { loadWasmModuleSync, type WasmModule } from './module.js';
import { normGradKernel, normKernel } from './norm.js';
import { reduceKernel, softmaxGradKernel, softmaxKernel } from './reduce.js';
import { wasmBuildId, wasmKernelSettings } from './settings.js';

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  /** The kernels read q, k, v through (batch, head, row) strides: both layouts. */
  readonly attentionLayouts = ['bhnd', 'bnhd'] as const;
  readonly context: WasmContext;
  readonly kernels: Partial<KernelTable>;
  /** Tile sizes, cache blocks and thread thresholds of the tunable kernels (src/autotune writes them). */
  readonly settings: KernelSettings;

  constructor(wasm: WasmModule, threads = getHeap().shared ? hardwareThreads() : 1) {
    this.context = new WasmContext(wasm, threads);
    this.settings = wasmKernelSettings(wasmBuildId(wasm.variant), () => this.context.threads);
    this.kernels = {
      matmul: matmulKernel(this.context, this.settings),
      ...attentionKernels(this.context, this.settings),
      binary: binaryKernel(this.context),
      unary: unaryKernel(this.context),
      unaryGrad: unaryGradKernel(this.context),
      reduce: reduceKernel(this.context),
      copy: copyKernel(this.context),
      softmax: softmaxKernel(this.context),
      softmaxGrad: softmaxGradKernel(this.context),
      norm: normKernel(this.context),
      normGrad: normGradKernel(this.context),
      embedding: embeddingKernel(this.context),
      embeddingGrad: embeddingGradKernel(this.context),
      crossEntropy: crossEntropyKernel(this.context),
      dropout: dropoutKernel(this.context),
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
