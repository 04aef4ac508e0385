// The one arena every tensor lives in: a WebAssembly.Memory (shared when the
// platform allows threads), so wasm kernels read and write tensors in place
// and JS sees them through typed-array views. Blocks are 64-byte aligned
// (a cache line, and any SIMD load). Freed blocks are kept in exact-size
// bins first, since training loops allocate the same sizes every step; when
// the end of memory is reached, free neighbours are coalesced and reused
// best-fit before the memory grows. Before it grows, the heap asks its
// reclaimer (set by the tensor layer) to free tensors nobody can reach.

const PAGE = 65536;
const ALIGN = 64;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 address space
/**
 * The first 64 KiB hold no tensors: offset 0 never names a live block, and
 * the wasm module's constant data (math tables) is written there by every
 * instantiation, the workers' included (checked when the module loads).
 */
export const HEAP_RESERVED_BYTES = 65536;
const RESERVED = HEAP_RESERVED_BYTES;
const RECLAIM_EVERY = 64 * 2 ** 20;

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export class HeapAllocationError extends Error {}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top = RESERVED;
  private readonly bins = new Map<number, number[]>();
  private readonly blockSize = new Map<number, number>();
  private liveBytes = 0;
  private peakBytes = 0;
  private viewsFor: ArrayBufferLike | null = null;
  private f32View = new Float32Array(0);
  private f64View = new Float64Array(0);
  private i32View = new Int32Array(0);
  private u8View = new Uint8Array(0);
  private limitBytes = MAX_PAGES * PAGE;
  private reclaimer: (() => void) | null = null;
  private allocatedSinceReclaim = 0;

  constructor(options: { shared?: boolean; initialBytes?: number } = {}) {
    const shared = options.shared ?? typeof SharedArrayBuffer !== 'undefined';
    const initial = Math.max(1, Math.ceil((options.initialBytes ?? 16 * 2 ** 20) / PAGE));
    this.memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared });
    this.shared = shared;
  }

  /** Bytes held by live blocks, and the most ever held at once. */
  get stats(): { liveBytes: number; peakBytes: number; heapBytes: number } {
    return { liveBytes: this.liveBytes, peakBytes: this.peakBytes, heapBytes: this.memory.buffer.byteLength };
  }

  /** The most the heap may grow to (default and upper bound: 4 GiB, the wasm32 limit). */
  get limit(): number {
    return this.limitBytes;
  }

  /** Caps the heap's size (tests of memory pressure, or a process sharing a machine); never below what it holds now. */
  setLimit(bytes: number): void {
    if (!(bytes > 0)) throw new Error(`heap: the limit must be a positive number of bytes, got ${bytes}`);
    this.limitBytes = Math.min(MAX_PAGES * PAGE, Math.max(this.memory.buffer.byteLength, Math.floor(bytes / PAGE) * PAGE));
  }

  /** Called before the heap grows: frees what it can (unreachable tensors) so that their blocks are reused instead. */
  setReclaimer(reclaim: (() => void) | null): void {
    this.reclaimer = reclaim;
  }

  /** Starts measuring the peak again from the bytes live now. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const ptr = this.takeWithoutGrowing(size) ?? this.takeAfterReclaiming(size) ?? this.grow(size, bytes);
    this.blockSize.set(ptr, size);
    this.liveBytes += size;
    this.allocatedSinceReclaim += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return ptr;
  }

  free(ptr: number): void {
    const size = this.blockSize.get(ptr);
    if (size === undefined) throw new Error(`heap: free of ${ptr}, which is not a live block`);
    this.blockSize.delete(ptr);
    this.liveBytes -= size;
    if (ptr + size === this.top) {
      this.top = ptr;
      return;
    }
    let bin = this.bins.get(size);
    if (!bin) {
      bin = [];
      this.bins.set(size, bin);
    }
    bin.push(ptr);
  }

  f32(): Float32Array {
    this.refreshViews();
    return this.f32View;
  }
  f64(): Float64Array {
    this.refreshViews();
    return this.f64View;
  }
  i32(): Int32Array {
    this.refreshViews();
    return this.i32View;
  }
  u8(): Uint8Array {
    this.refreshViews();
    return this.u8View;
  }

  private refreshViews(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.viewsFor && this.u8View.byteLength === buffer.byteLength) return;
    this.viewsFor = buffer;
    this.f32View = new Float32Array(buffer);
    this.f64View = new Float64Array(buffer);
    this.i32View = new Int32Array(buffer);
    this.u8View = new Uint8Array(buffer);
  }

  private takeWithoutGrowing(size: number): number | undefined {
    return this.takeFromBin(size) ?? this.takeFromTop(size) ?? this.takeAfterCoalescing(size);
  }

  /**
   * Reclaims before growing, at most once per quarter of the heap (and at
   * least 64 MiB) allocated: a forced collection costs milliseconds, so a
   * heap that grows for real must not pay one per block, and garbage is
   * collected in batches large enough to amortise it.
   */
  private takeAfterReclaiming(size: number): number | undefined {
    if (!this.reclaimer || this.allocatedSinceReclaim < Math.max(this.memory.buffer.byteLength / 4, RECLAIM_EVERY)) return undefined;
    this.allocatedSinceReclaim = 0;
    const live = this.liveBytes;
    this.reclaimer();
    return this.liveBytes < live ? this.takeWithoutGrowing(size) : undefined;
  }

  private takeFromBin(size: number): number | undefined {
    const bin = this.bins.get(size);
    return bin && bin.length > 0 ? bin.pop() : undefined;
  }

  private takeFromTop(size: number): number | undefined {
    if (this.top + size > this.memory.buffer.byteLength) return undefined;
    const ptr = this.top;
    this.top += size;
    return ptr;
  }

  /** Merges adjacent free blocks, lowers the top if the last ones are free, then tries best fit. */
  private takeAfterCoalescing(size: number): number | undefined {
    const free: [number, number][] = [];
    for (const [s, ptrs] of this.bins) for (const p of ptrs) free.push([p, s]);
    if (free.length === 0) return undefined;
    free.sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const [p, s] of free) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === p) last[1] += s;
      else merged.push([p, s]);
    }
    this.bins.clear();
    const last = merged[merged.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      merged.pop();
    }
    let best: [number, number] | undefined;
    for (const block of merged) if (block[1] >= size && (!best || block[1] < best[1])) best = block;
    for (const block of merged) {
      if (block === best) continue;
      this.pushBin(block[0], block[1]);
    }
    if (best) {
      if (best[1] > size) this.pushBin(best[0] + size, best[1] - size);
      return best[0];
    }
    return this.takeFromTop(size);
  }

  private pushBin(ptr: number, size: number): void {
    const bin = this.bins.get(size);
    if (bin) bin.push(ptr);
    else this.bins.set(size, [ptr]);
  }

  private grow(size: number, asked: number): number {
    const needed = this.top + size - this.memory.buffer.byteLength;
    const current = this.memory.buffer.byteLength / PAGE;
    const maxPages = this.limitBytes / PAGE;
    // Grow by at least half again, so repeated growth stays amortised.
    const pages = Math.min(maxPages - current, Math.max(Math.ceil(needed / PAGE), Math.ceil(current / 2)));
    const minimum = Math.ceil(needed / PAGE);
    for (const p of [pages, minimum]) {
      if (p < minimum || current + p > maxPages) continue;
      try {
        this.memory.grow(p);
        const ptr = this.top;
        this.top += size;
        return ptr;
      } catch {
        // fall through to the smaller request, then to the error
      }
    }
    throw new HeapAllocationError(
      `cannot allocate ${formatBytes(asked)} (${asked} bytes): the tensor heap holds ${formatBytes(this.liveBytes)} in live tensors ` +
        `and can grow to at most ${formatBytes(this.limitBytes)}${this.limitBytes === MAX_PAGES * PAGE ? ' (the wasm32 limit)' : ' (its limit)'}`,
    );
  }
}
