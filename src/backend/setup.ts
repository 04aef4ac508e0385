// Registers the built-in backends and chooses the default: in Node, native
// where its addon was built and loads, else wasm (synchronously; a browser
// awaits ready()), else js.

import { checkOptions } from '../tensor/options.js';
import { getHeap } from '../tensor/tensor.js';
import {
  type Backend,
  getBackend,
  registerBackend,
  registerBackendLoader,
  setBackend,
  setDefaultBackendChooser,
  withBackend,
} from './backend.js';
import { jsBackend } from './js/index.js';
import { NativeBackend } from './native/index.js';
import { hardwareThreads, isNode } from './platform.js';
import { WasmBackend } from './wasm/index.js';
import { loadWasmModule } from './wasm/module.js';

registerBackend(jsBackend);

let wasmLoadError: Error | null = null;

let wasmBackend: WasmBackend | null = null;

/** The wasm backend, loaded once (synchronously in Node; a browser must await ready() first). */
function loadWasm(): Backend {
  if (wasmBackend) return wasmBackend;
  if (!isNode) throw new Error(wasmLoadError?.message ?? 'in a browser, await ready() before selecting it');
  if (wasmLoadError) throw wasmLoadError;
  try {
    wasmBackend = WasmBackend.loadSync();
  } catch (e) {
    wasmLoadError = e as Error;
    throw e;
  }
  return wasmBackend;
}

registerBackendLoader('wasm', loadWasm);

let nativeLoadError: Error | null = null;

/** The native (N-API) backend, loaded once in Node where its addon was built; throws saying why not. */
function loadNative(): Backend {
  try {
    return NativeBackend.load();
  } catch (e) {
    nativeLoadError = e as Error;
    throw e;
  }
}

registerBackendLoader('native', loadNative);

/** Why the native backend did not load, if it was tried and did not. */
export function nativeError(): Error | null {
  return nativeLoadError;
}

function tryLoadWasmSync(): Backend {
  try {
    const wasm = loadWasm();
    registerBackend(wasm);
    return wasm;
  } catch {
    return jsBackend;
  }
}

/** In Node: native where its addon was built and loads, else wasm, else js. */
function chooseInNode(): Backend {
  try {
    const native = loadNative();
    registerBackend(native);
    return native;
  } catch {
    return tryLoadWasmSync();
  }
}

setDefaultBackendChooser(() => (isNode ? chooseInNode() : jsBackend));

let browserLoad: Promise<void> | null = null;

async function loadInBrowser(wasmUrl: URL | undefined): Promise<void> {
  try {
    wasmBackend = new WasmBackend(await loadWasmModule(getHeap(), wasmUrl));
    registerBackend(wasmBackend);
    setBackend('wasm');
  } catch (e) {
    wasmLoadError = e as Error;
  }
}

/**
 * Loads the wasm backend (fetching the module once, in a browser) and waits
 * until its worker threads are up. Call again after setThreads() to wait for new workers.
 */
export async function ready(options: { wasmUrl?: URL } = {}): Promise<Backend> {
  if (!isNode) {
    browserLoad ??= loadInBrowser(options.wasmUrl);
    await browserLoad;
  }
  const backend = getBackend();
  if (backend instanceof WasmBackend) await backend.context.warmUp();
  return backend;
}

/** Why the wasm backend did not load, if it did not. */
export function wasmError(): Error | null {
  return wasmLoadError;
}

export interface SetThreadsOptions {
  /** Use n threads even when the machine has fewer cores (oversubscription is slow: each kernel waits on the slowest thread). */
  force?: boolean;
}

/**
 * Threads the active backend's kernels may use. More than the cores
 * available is capped at the core count, with a warning, unless forced.
 * Returns the count in effect.
 */
export function setThreads(n: number, options: SetThreadsOptions = {}): number {
  checkOptions('setThreads', options, ['force']);
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
  const cores = hardwareThreads();
  let threads = n;
  if (n > cores && !options.force) {
    threads = cores;
    console.warn(
      `setThreads: ${n} threads asked for, ${cores} cores available; using ${cores} (setThreads(${n}, { force: true }) insists)`,
    );
  }
  const backend = getBackend();
  backend.setThreads(threads);
  // the backend standing in for kernels this one lacks (native -> wasm) runs them on as many threads
  if (backend.fallback) {
    try {
      withBackend(backend.fallback, getBackend).setThreads(threads);
    } catch {
      // it does not load here: its kernels come from the js reference instead
    }
  }
  return backend.threads;
}

export function getThreads(): number {
  return getBackend().threads;
}
