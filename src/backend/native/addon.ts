// Loads the native addon (native/build/attune.node, built by
// scripts/build-native.mjs at install) and says why when it cannot.

import { nodeModule } from '../platform.js';

export interface NativeAddon {
  /** The kernel build in use, chosen by CPU features at load: 'avx512' or 'avx2'. */
  isa(): string;
  /** Switches the kernel build (tests run both); throws where the CPU lacks it. */
  useIsa(name: 'avx512' | 'avx2'): string;
  /** The slots each entry point reads, in order: args.ts (gemm) and attention-block.ts (attention) must agree. */
  readonly argLayouts: { readonly gemm: readonly string[]; readonly rows: readonly string[]; readonly attention: readonly string[] };
  gemm(heap: Uint8Array, args: Float64Array): void;
  /** Softmax, log-softmax, LayerNorm, RMSNorm and their gradients over rows (args.ts ROW_ARGS). */
  rows(heap: Uint8Array, args: Float64Array): void;
  /** The attention kernels read the schema's block (attention-block.ts). */
  attentionForward(heap: Uint8Array, block: Int32Array): void;
  attentionBackward(heap: Uint8Array, block: Int32Array): void;
  attentionDecode(heap: Uint8Array, block: Int32Array): void;
  /** Starts or stops pool threads; returns the count now available. */
  setThreads(n: number): number;
}

interface NodeFs {
  existsSync(path: string): boolean;
  readFileSync(path: string, encoding: 'utf8'): string;
}
interface NodeUrl {
  fileURLToPath(url: URL): string;
}
interface NodeModuleApi {
  createRequire(from: string): (id: string) => unknown;
}

let addon: NativeAddon | null = null;
let loadError: Error | null = null;

/** The addon, loaded once; throws (the same error every time) where it cannot load. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  if (loadError) throw loadError;
  try {
    addon = load();
    return addon;
  } catch (e) {
    loadError = e as Error;
    throw loadError;
  }
}

function load(): NativeAddon {
  const fs = nodeModule<NodeFs>('node:fs');
  const url = nodeModule<NodeUrl>('node:url');
  const module = nodeModule<NodeModuleApi>('node:module');
  if (!fs || !url || !module) throw new Error('the native backend runs in Node only');
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  if (env.ATTUNE_NATIVE === '0') throw new Error('disabled by ATTUNE_NATIVE=0');
  // src/backend/native and dist/backend/native both sit three levels below the package root
  const file = url.fileURLToPath(new URL('../../../native/build/attune.node', import.meta.url));
  if (!fs.existsSync(file)) {
    const errorFile = url.fileURLToPath(new URL('../../../native/build/error.txt', import.meta.url));
    const why = fs.existsSync(errorFile) ? fs.readFileSync(errorFile, 'utf8').split('\n')[0] : 'not built (run npm run build)';
    throw new Error(`native/build/attune.node is missing: ${why}`);
  }
  return module.createRequire(import.meta.url)(file) as NativeAddon;
}

/** Why the native addon did not load, if it was tried and did not. */
export function nativeAddonError(): Error | null {
  return loadError;
}
