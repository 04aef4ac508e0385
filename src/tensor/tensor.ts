// Tensor: a shape, a dtype and a block of the shared heap. Reshapes of
// contiguous data share the block (reference-counted storage); everything
// else copies. Memory is released by dispose() or by the tidy() scope that
// created the tensor; a FinalizationRegistry frees what both missed, at once
// when the heap would otherwise grow (see reclaim.ts).
//
// Autograd needs some tensors after the user is done with them (PyTorch's
// saved tensors): a recorded backward rule holds its inputs and what it
// saved. dispose() of a held tensor only drops the user's handle (the tensor
// reads as disposed); its memory goes when the last rule holding it goes,
// that is when the tensor whose rule it is goes. So a graph stays whole as
// long as its root is alive, and tidy() or dispose() inside it never costs a
// gradient.

import { type AnyTypedArray, assertDType, bytesPerElement, type DType } from './dtype.js';
import { formatBytes, Heap, HeapAllocationError } from './heap.js';
import { createCollector } from './reclaim.js';
import { trackInScope } from './scope.js';
import { assertValidShape, formatShape, type Shape, sizeOf } from './shape.js';

let heap: Heap | null = null;

/** The process-wide tensor heap; created on first use. */
export function getHeap(): Heap {
  if (!heap) {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    const inBrowser = typeof (globalThis as { window?: unknown }).window !== 'undefined';
    heap = new Heap({ shared: typeof SharedArrayBuffer !== 'undefined' && (!inBrowser || isolated === true) });
    heap.setReclaimer(() => collector.reclaim());
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

/**
 * One Tensor object's claim on its storage, kept apart from the object so
 * that the finalizer can act on it after the object is gone. It references
 * no tensor, so holding it keeps nothing alive.
 */
interface Lifetime {
  readonly storage: Storage;
  /** The claim on the storage was given up. */
  freed: boolean;
  /** dispose() (or a tidy scope) dropped the user's handle. */
  dropped: boolean;
  /** Recorded backward rules that still need this tensor. */
  holders: number;
  /** What this tensor's own backward rule holds; released with the tensor. */
  held: readonly Lifetime[];
}

const NOTHING: readonly Lifetime[] = [];

/** Gives up the claims of `first` and of every held tensor that nothing needs any more (a worklist: graphs can be deep). */
function free(first: Lifetime): void {
  const work = [first];
  for (let l = work.pop(); l; l = work.pop()) {
    if (l.freed) continue;
    l.freed = true;
    l.storage.release();
    for (const h of l.held) if (--h.holders === 0 && h.dropped) work.push(h);
    l.held = NOTHING;
  }
}

/** Releases what a tensor's backward rule holds (the rule is being dropped). */
function releaseHeld(l: Lifetime): void {
  const held = l.held;
  l.held = NOTHING;
  for (const h of held) if (--h.holders === 0 && h.dropped) free(h);
}

const collector = createCollector<Lifetime>(free);
const finalizer = collector.registry;

/** Frees the storage of tensors nobody can reach, now, where the runtime allows it (Node); false elsewhere. */
export function reclaimUnreachable(): boolean {
  return collector.reclaim();
}

/** What autograd records on a tensor an op produced; the rules live in src/autograd. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Tensors besides the inputs that backward reads (the op's saved statistics, masks, indices). */
  readonly saved: readonly Tensor[];
  /** Gradients of the inputs (null where an input needs none), given the output's gradient. */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

let backwardEngine: ((root: Tensor, gradOutput?: Tensor) => void) | null = null;
/** Installed by src/autograd so that tensor.backward() works without this layer importing it. */
export function setBackwardEngine(engine: (root: Tensor, gradOutput?: Tensor) => void): void {
  backwardEngine = engine;
}

let savedAccess = 0;
/**
 * Runs fn (a backward pass) with the tensors that recorded rules hold
 * readable even where the user disposed them.
 */
export function withSavedTensors<T>(fn: () => T): T {
  savedAccess++;
  try {
    return fn();
  } finally {
    savedAccess--;
  }
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
  private readonly life: Lifetime;
  private requiresGradFlag = false;

  private constructor(
    shape: Shape,
    readonly dtype: DType,
    storage: Storage,
  ) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.life = { storage, freed: false, dropped: false, holders: 0, held: NOTHING };
    finalizer.register(this, this.life, this);
    trackInScope(this);
  }

  /** An uninitialised tensor on the heap. */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    assertValidShape(shape, 'tensor');
    assertDType(dtype, 'tensor');
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    let ptr: number;
    try {
      ptr = getHeap().alloc(bytes);
    } catch (e) {
      if (!(e instanceof HeapAllocationError)) throw e;
      // The heap reclaims before it grows; this is the last chance (a limit was reached).
      try {
        if (!reclaimUnreachable()) throw e;
        ptr = getHeap().alloc(bytes);
      } catch (again) {
        if (again instanceof HeapAllocationError) {
          throw new Error(`tensor: ${dtype} tensor of shape ${formatShape(shape)} (${formatBytes(bytes)}): ${again.message}`);
        }
        throw again;
      }
    }
    return new Tensor(shape, dtype, new Storage(ptr, bytes));
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True after dispose() (or the end of the tidy scope that made it); see withSavedTensors for the one exception. */
  get isDisposed(): boolean {
    return this.life.freed || (this.life.dropped && savedAccess === 0);
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
    // ptr may pass 2^31 (a heap over 2 GiB): divide, since `>>` would make it negative
    switch (this.dtype) {
      case 'float32':
        return h.f32().subarray(ptr / 4, ptr / 4 + this.size);
      case 'int32':
        return h.i32().subarray(ptr / 4, ptr / 4 + this.size);
      case 'float64':
        return h.f64().subarray(ptr / 8, ptr / 8 + this.size);
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
    const flat: (number | boolean)[] = this.dtype === 'bool' ? Array.from(this.view(), (v) => v !== 0) : Array.from(this.view());
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
    assertValidShape(shape, 'reshape');
    if (sizeOf(shape) !== this.size) {
      throw new Error(`reshape: cannot view ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)}`);
    }
    storage.refs++;
    return new Tensor(shape, this.dtype, storage);
  }

  /**
   * Frees the data now (the storage lives on while reshaped views use it).
   * While a recorded backward still needs this tensor, only the handle is
   * dropped: the memory goes when the graph that needs it goes.
   */
  dispose(): void {
    const life = this.life;
    if (life.dropped || life.freed) return;
    life.dropped = true;
    if (life.holders > 0) return;
    finalizer.unregister(this);
    free(life);
    this.gradNode = null;
  }

  /** Drops the recorded backward of this tensor (PyTorch's detach_()), releasing what it held. */
  releaseGraph(): this {
    this.gradNode = null;
    releaseHeld(this.life);
    return this;
  }

  /** Whether a recorded backward still holds this tensor (its memory outlives a dispose() until then). */
  get isHeldByGraph(): boolean {
    return this.life.holders > 0 && !this.life.freed;
  }

  /**
   * Attaches an op's backward rule to its output; the rule holds its inputs
   * and `node.saved` until the output is freed or releases its graph.
   * Called by src/autograd's record().
   */
  static attachGradNode(output: Tensor, node: GradNode): void {
    releaseHeld(output.life);
    output.gradNode = node;
    const held = new Set<Lifetime>();
    for (const t of [...node.inputs, ...node.saved]) {
      if (t === output || t.life.freed) continue;
      held.add(t.life);
    }
    for (const l of held) l.holders++;
    output.life.held = [...held];
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
    if (this.isDisposed) {
      throw new Error(`${op}: tensor ${formatShape(this.shape)} ${this.dtype} was used after dispose()`);
    }
    return this.life.storage;
  }
}

/** Throws the op's own message when a tensor was disposed. */
export function assertLive(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.isDisposed) throw new Error(`${op}: input tensor ${formatShape(t.shape)} ${t.dtype} was used after dispose()`);
  }
}
