// A fixed pool of workers running wasm kernels over the shared heap. The
// calling thread is thread 0 and works too; workers 1..size-1 wake on a
// futex (Atomics.wait/notify) in a small control SharedArrayBuffer. Every
// worker acknowledges every job, so a job never overlaps the next one.

import { isNode, nodeModule } from '../platform.js';
import { workerSource } from './worker-source.js';

enum ControlSlot {
  Seq = 0,
  Done = 1,
  Kernel = 2,
  NThreads = 3,
  Argc = 4,
  Error = 5,
  Ready = 6,
}
const ARGS_BYTE = 64;
const MAX_ARGS = 32;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', fn: (e: Error) => void): void;
}
interface NodeWorkerThreads {
  Worker: new (code: string, options: { eval: true; workerData: unknown }) => NodeWorker;
}

type KernelFn = (...args: number[]) => void;

export class ThreadPool {
  readonly size: number;
  private readonly control = new SharedArrayBuffer(ARGS_BYTE + MAX_ARGS * 8);
  private readonly ctl = new Int32Array(this.control);
  private readonly args = new Float64Array(this.control, ARGS_BYTE, MAX_ARGS);
  private readonly index = new Map<string, number>();
  private readonly workers: { terminate(): unknown }[] = [];
  private workerError: Error | null = null;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], size: number) {
    this.size = size;
    names.forEach((n, i) => {
      this.index.set(n, i);
    });
    for (let tid = 1; tid < size; tid++) {
      const workerData = { module, memory, control: this.control, names, tid };
      this.workers.push(isNode ? this.spawnNode(workerData) : this.spawnBrowser(workerData));
    }
  }

  /** Blocks until every worker has instantiated the module (Node; the browser must await whenReady). */
  waitReady(timeoutMs = 30_000): void {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = Atomics.load(this.ctl, ControlSlot.Ready);
      if (ready >= this.size - 1) return;
      if (this.workerError) throw this.workerError;
      if (Date.now() > deadline) throw new Error(`thread pool: ${ready} of ${this.size - 1} workers started within ${timeoutMs} ms`);
      Atomics.wait(this.ctl, ControlSlot.Ready, ready, 50);
    }
  }

  isReady(): boolean {
    return Atomics.load(this.ctl, ControlSlot.Ready) >= this.size - 1;
  }

  async whenReady(): Promise<void> {
    while (Atomics.load(this.ctl, ControlSlot.Ready) < this.size - 1) {
      if (this.workerError) throw this.workerError;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Runs `local(...args, tid, n)` here as thread 0 and in workers 1..n-1, returning when all are done. */
  run(name: string, local: KernelFn, args: readonly number[], nthreads: number): void {
    const n = Math.max(1, Math.min(nthreads, this.size));
    if (n === 1) {
      local(...args, 0, 1);
      return;
    }
    const kernel = this.index.get(name);
    if (kernel === undefined) throw new Error(`thread pool: unknown kernel '${name}'`);
    if (args.length > MAX_ARGS) throw new Error(`thread pool: ${name} has ${args.length} arguments, at most ${MAX_ARGS}`);
    const ctl = this.ctl;
    this.args.set(args);
    ctl[ControlSlot.Kernel] = kernel;
    ctl[ControlSlot.NThreads] = n;
    ctl[ControlSlot.Argc] = args.length;
    ctl[ControlSlot.Error] = 0;
    Atomics.store(ctl, ControlSlot.Done, 0);
    Atomics.add(ctl, ControlSlot.Seq, 1);
    Atomics.notify(ctl, ControlSlot.Seq);
    let localError: unknown = null;
    try {
      local(...args, 0, n);
    } catch (e) {
      localError = e;
    }
    const workers = this.size - 1;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(ctl, ControlSlot.Done);
      if (done >= workers) break;
      // Spin first (workers usually finish within microseconds of this thread), then sleep.
      if (isNode && spin > 20000) Atomics.wait(ctl, ControlSlot.Done, done, 1000);
      if (this.workerError) throw this.workerError;
    }
    if (localError) throw localError;
    const failed = ctl[ControlSlot.Error] as number;
    if (failed) throw new Error(`${name}: the wasm kernel trapped in worker thread ${failed - 1}`);
  }

  dispose(): void {
    Atomics.store(this.ctl, ControlSlot.Seq, -1);
    Atomics.notify(this.ctl, ControlSlot.Seq);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }

  private spawnNode(workerData: unknown): NodeWorker {
    const wt = nodeModule<NodeWorkerThreads>('node:worker_threads');
    if (!wt) throw new Error('thread pool: node:worker_threads is unavailable');
    const w = new wt.Worker(workerSource, { eval: true, workerData });
    w.on('error', (e) => {
      this.workerError = new Error(`thread pool: a worker failed: ${e.message}`);
    });
    w.unref();
    return w;
  }

  private spawnBrowser(workerData: unknown): { terminate(): void } {
    const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
    const w = new Worker(url);
    w.onerror = (e) => {
      this.workerError = new Error(`thread pool: a worker failed: ${e.message}`);
    };
    w.postMessage(workerData);
    return w;
  }
}
