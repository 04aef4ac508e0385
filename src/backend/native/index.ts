// The native backend: AVX-512 / AVX2 kernels from an N-API addon
// (native/), run on its own thread pool over the same heap as wasm, zero-copy.
// Kernels it lacks fall back through the registry (to wasm where wasm has
// them, else to the js reference).

import type { Backend } from '../backend.js';
import type { KernelTable } from '../kernels.js';
import { hardwareThreads } from '../platform.js';
import { loadNativeAddon, type NativeAddon } from './addon.js';
import { attentionKernels } from './attention.js';
import { NativeContext } from './context.js';
import { matmulKernel } from './matmul.js';
import { defaultNativeSettings, type NativeSettings } from './settings.js';

export class NativeBackend implements Backend {
  readonly name = 'native';
  /** Where kernels this backend lacks come from (the registry resolves it). */
  readonly fallback = 'wasm';
  readonly context: NativeContext;
  readonly kernels: Partial<KernelTable>;

  constructor(
    readonly addon: NativeAddon,
    threads = hardwareThreads(),
    settings: NativeSettings = defaultNativeSettings(),
  ) {
    this.context = new NativeContext(1, settings);
    this.setThreads(threads);
    this.kernels = {
      matmul: matmulKernel(addon, this.context),
      ...attentionKernels(addon, this.context),
    };
  }

  get threads(): number {
    return this.context.threads;
  }

  get settings(): NativeSettings {
    return this.context.settings;
  }

  /** 'avx512' or 'avx2': the kernel build the CPU's features chose. */
  get isa(): string {
    return this.addon.isa();
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
    this.context.threads = this.addon.setThreads(n);
  }

  /** Loads the addon (synchronously); throws saying why where it cannot. */
  static load(): NativeBackend {
    return new NativeBackend(loadNativeAddon());
  }
}
