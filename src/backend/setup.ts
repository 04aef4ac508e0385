// Registers the built-in backends and chooses the default: wasm where it
// loads (synchronously in Node; a browser awaits ready()), else js.

import { getHeap } from '../tensor/tensor.js';
import { type Backend, getBackend, registerBackend, setBackend, setDefaultBackendChooser } from './backend.js';
import { jsBackend } from './js/index.js';
import { isNode } from './platform.js';
import { WasmBackend } from './wasm/index.js';
import { loadWasmModule } from './wasm/module.js';

registerBackend(jsBackend);

let wasmLoadError: Error | null = null;

function tryLoadWasmSync(): Backend {
  try {
    const wasm = WasmBackend.loadSync();
    registerBackend(wasm);
    return wasm;
  } catch (e) {
    wasmLoadError = e as Error;
    return jsBackend;
  }
}

setDefaultBackendChooser(() => (isNode ? tryLoadWasmSync() : jsBackend));

let browserLoad: Promise<void> | null = null;

async function loadInBrowser(wasmUrl: URL | undefined): Promise<void> {
  try {
    const wasm = new WasmBackend(await loadWasmModule(getHeap(), wasmUrl));
    registerBackend(wasm);
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

/** Threads the active backend's kernels may use. */
export function setThreads(n: number): void {
  getBackend().setThreads(n);
}

export function getThreads(): number {
  return getBackend().threads;
}
