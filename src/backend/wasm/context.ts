// What every wasm kernel wrapper needs: the module's exports, the thread
// pool, and per-thread scratch memory on the heap (kept and grown as needed).

import { getHeap } from '../../tensor/tensor.js';
import { isNode } from '../platform.js';
import type { WasmModule } from './module.js';
import { ThreadPool } from './thread-pool.js';

export class WasmContext {
  private pool: ThreadPool | null = null;
  private readonly blocks = new Map<string, { ptr: number; bytes: number }>();
  /** Kernel calls that ran on more than one thread (a diagnostic for tests and benchmarks). */
  parallelCalls = 0;

  constructor(
    readonly wasm: WasmModule,
    public threads: number,
  ) {}

  /** Runs exported kernel `name` on up to `nthreads` threads (clamped to the configured count). */
  run(name: string, args: readonly number[], nthreads = this.threads): void {
    const fn = this.wasm.exports[name];
    if (!fn) throw new Error(`wasm backend: the module has no kernel '${name}' (rebuild with npm run build)`);
    const n = Math.max(1, Math.min(nthreads, this.threads));
    if (n === 1) {
      fn(...args, 0, 1);
      return;
    }
    const pool = this.ensurePool();
    // A browser cannot block its main thread while workers start: until they
    // are up, kernels run on this thread alone.
    if (!pool.isReady()) {
      fn(...args, 0, 1);
      return;
    }
    pool.run(name, fn, args, n);
    this.parallelCalls++;
  }

  /** Threads worth using for `work` units when each thread should get at least `grain` of them. */
  threadsFor(work: number, grain: number): number {
    return Math.max(1, Math.min(this.threads, Math.floor(work / grain)));
  }

  /**
   * A named heap block of at least `bytes`, kept between calls and grown when
   * a call needs more (scratch memory, params blocks). Kernels run one at a
   * time, so one block per name suffices.
   */
  block(name: string, bytes: number): number {
    const current = this.blocks.get(name);
    if (current && current.bytes >= bytes) return current.ptr;
    const heap = getHeap();
    if (current) heap.free(current.ptr);
    const ptr = heap.alloc(Math.max(bytes, 64));
    this.blocks.set(name, { ptr, bytes });
    return ptr;
  }

  /** Per-thread scratch: a block of bytesPerThread for each configured thread. */
  scratch(bytesPerThread: number): number {
    return this.block('scratch', bytesPerThread * this.threads);
  }

  /** The heap's memory (read again after any allocation: it may have grown). */
  buffer(): ArrayBufferLike {
    return getHeap().memory.buffer;
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
    if (n > 1 && !getHeap().shared) throw new Error('setThreads: threads need SharedArrayBuffer (cross-origin isolation in a browser)');
    if (this.pool && this.pool.size < n) {
      this.pool.dispose();
      this.pool = null;
    }
    this.threads = n;
  }

  /** Starts the workers now rather than on the first multi-threaded kernel. */
  async warmUp(): Promise<void> {
    if (this.threads > 1) await this.ensurePool(false).whenReady();
  }

  private ensurePool(block = true): ThreadPool {
    if (!this.pool) {
      const names = Object.keys(this.wasm.exports).filter((k) => typeof this.wasm.exports[k] === 'function');
      this.pool = new ThreadPool(this.wasm.module, getHeap().memory, names, this.threads);
    }
    if (block && isNode) this.pool.waitReady();
    return this.pool;
  }
}
