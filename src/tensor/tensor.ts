// Tensor: a shape, a dtype and a block of the shared heap. Reshapes of
// contiguous data share the block (reference-counted storage); everything
// else copies. Memory is released by dispose() or by the tidy() scope that
// created the tensor; a FinalizationRegistry frees what both missed.

import { type AnyTypedArray, bytesPerElement, type DType } from './dtype.js';
import { formatBytes, Heap, HeapAllocationError } from './heap.js';
import { trackInScope } from './scope.js';
import { assertValidShape, formatShape, type Shape, sizeOf } from './shape.js';

let heap: Heap | null = null;

/** The process-wide tensor heap; created on first use. */
export function getHeap(): Heap {
  if (!heap) {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    const inBrowser = typeof (globalThis as { window?: unknown }).window !== 'undefined';
    heap = new Heap({ shared: typeof SharedArrayBuffer !== 'undefined' && (!inBrowser || isolated === true) });
  }
  return heap;
}

class Storage {
  refs = 1;
  constructor(
    readonly ptr: number,
    readonly bytes: number,
  ) {}
  release(): void {
    if (--this.refs === 0) getHeap().free(this.ptr);
  }
}

const finalizer = new FinalizationRegistry<Storage>((storage) => storage.release());

/** What autograd records on a tensor an op produced; the rules live in src/autograd. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients of the inputs (null where an input needs none), given the output's gradient. */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

let backwardEngine: ((root: Tensor, gradOutput?: Tensor) => void) | null = null;
/** Installed by src/autograd so that tensor.backward() works without this layer importing it. */
export function setBackwardEngine(engine: (root: Tensor, gradOutput?: Tensor) => void): void {
  backwardEngine = engine;
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** Set by ops when any input requires a gradient. */
  gradNode: GradNode | null = null;
  /** Accumulated by backward() on tensors that require a gradient. */
  grad: Tensor | null = null;
  private storage: Storage | null;
  private requiresGradFlag = false;

  private constructor(
    shape: Shape,
    readonly dtype: DType,
    storage: Storage,
  ) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.storage = storage;
    finalizer.register(this, storage, this);
    trackInScope(this);
  }

  /** An uninitialised tensor on the heap. */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    assertValidShape(shape, 'tensor');
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    let ptr: number;
    try {
      ptr = getHeap().alloc(bytes);
    } catch (e) {
      if (e instanceof HeapAllocationError) {
        throw new Error(`tensor: ${dtype} tensor of shape ${formatShape(shape)} (${formatBytes(bytes)}): ${e.message}`);
      }
      throw e;
    }
    return new Tensor(shape, dtype, new Storage(ptr, bytes));
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.storage === null;
  }

  get requiresGrad(): boolean {
    return this.requiresGradFlag;
  }

  /** Marks a leaf (a parameter) as needing a gradient; returns this. */
  setRequiresGrad(flag = true): this {
    if (flag && (this.dtype === 'int32' || this.dtype === 'bool'))
      throw new Error(`tensor: an ${this.dtype} tensor ${formatShape(this.shape)} cannot require a gradient`);
    this.requiresGradFlag = flag;
    return this;
  }

  /** Byte offset of the data in the heap, for wasm kernels. */
  get ptr(): number {
    return this.live('read').ptr;
  }

  /** A live view of the data (invalidated when the heap grows: take it again after any allocation). */
  view(): AnyTypedArray {
    const { ptr } = this.live('read');
    const h = getHeap();
    switch (this.dtype) {
      case 'float32':
        return h.f32().subarray(ptr >> 2, (ptr >> 2) + this.size);
      case 'int32':
        return h.i32().subarray(ptr >> 2, (ptr >> 2) + this.size);
      case 'float64':
        return h.f64().subarray(ptr >> 3, (ptr >> 3) + this.size);
      case 'bool':
        return h.u8().subarray(ptr, ptr + this.size);
    }
  }

  /** A copy of the data. */
  toArray(): AnyTypedArray {
    return this.view().slice();
  }

  /** The data as nested arrays, like PyTorch's tolist(). */
  toNested(): unknown {
    const flat = Array.from(this.view());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.rank) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] as number }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: expected a tensor with one element, got shape ${formatShape(this.shape)}`);
    return this.view()[0] as number;
  }

  /** A tensor of another shape over the same storage (same element count). */
  reshapeView(shape: Shape): Tensor {
    const storage = this.live('reshape');
    if (sizeOf(shape) !== this.size) {
      throw new Error(`reshape: cannot view ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)}`);
    }
    storage.refs++;
    return new Tensor(shape, this.dtype, storage);
  }

  /** Frees the data now (the storage lives on while reshaped views use it). */
  dispose(): void {
    if (!this.storage) return;
    finalizer.unregister(this);
    this.storage.release();
    this.storage = null;
    this.gradNode = null;
  }

  /** Runs reverse-mode autodiff from this tensor (a scalar unless gradOutput is given). */
  backward(gradOutput?: Tensor): void {
    if (!backwardEngine) throw new Error('backward: the autograd module is not loaded (import from the package root)');
    backwardEngine(this, gradOutput);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.isDisposed ? ', disposed' : ''})`;
  }

  private live(op: string): Storage {
    if (!this.storage) {
      throw new Error(`${op}: tensor ${formatShape(this.shape)} ${this.dtype} was used after dispose()`);
    }
    return this.storage;
  }
}

/** Throws the op's own message when a tensor was disposed. */
export function assertLive(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.isDisposed) throw new Error(`${op}: input tensor ${formatShape(t.shape)} ${t.dtype} was used after dispose()`);
  }
}
