// The native backend: AVX-512 / AVX2 kernels from an N-API addon
// (native/), run on its own thread pool over the same heap as wasm, zero-copy.
// Kernels it lacks fall back through the registry (to wasm where wasm has
// them, else to the js reference).

import type { Backend } from '../backend.js';
import type { KernelTable } from '../kernels.js';
import { hardwareThreads } from '../platform.js';
import type { KernelSettings } from '../settings.js';
import { loadNativeAddon, type NativeAddon } from './addon.js';
import { attentionKernels } from './attention.js';
import { matmulKernel } from './matmul.js';
import { rowKernels } from './rows.js';
import { nativeBuildId, nativeKernelSettings } from './settings.js';

export class NativeBackend implements Backend {
  readonly name = 'native';
  /** Where kernels this backend lacks come from (the registry resolves it). */
  readonly fallback = 'wasm';
  readonly kernels: Partial<KernelTable>;
  /** Tile sizes, cache blocks, splits and thread counts (settings.ts), read on every call. */
  readonly settings: KernelSettings;
  private threadCount = 1;

  constructor(
    readonly addon: NativeAddon,
    threads = hardwareThreads(),
  ) {
    this.setThreads(threads);
    this.settings = nativeKernelSettings(nativeBuildId(addon.isa()), () => this.threadCount);
    const maxThreads = () => this.threadCount;
    this.kernels = {
      matmul: matmulKernel(addon, this.settings, maxThreads),
      ...attentionKernels(addon, this.settings, maxThreads),
      ...rowKernels(addon, this.settings, () => this, maxThreads),
    };
  }

  get threads(): number {
    return this.threadCount;
  }

  /** 'avx512' or 'avx2': the kernel build in use (the CPU's features chose it). */
  get isa(): string {
    return this.addon.isa();
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
    this.threadCount = this.addon.setThreads(n);
  }

  /** Loads the addon (synchronously); throws saying why where it cannot. */
  static load(): NativeBackend {
    return new NativeBackend(loadNativeAddon());
  }
}
