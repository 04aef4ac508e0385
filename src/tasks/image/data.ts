// Image batches for training and evaluation: u8 pixels from an ImageSet go
// straight into a float32 tensor [B, 1, H, W], normalised by the dataset's
// mean and standard deviation, with optional augmentation (horizontal flip
// and a shift of up to `shift` pixels) drawn from a generator seeded by the
// data order's position, so a resumed run augments the same way.

import type { ImageSet } from '../../data/fashion-mnist.js';
import { tensor } from '../../tensor/create.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import { type BatchSource, ShuffledBatches } from '../../train/batches.js';

/** Fashion-MNIST's pixel mean and standard deviation (of x/255 over the training set). */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;

export interface ImageBatch {
  images: Tensor;
  labels: Tensor;
  length: number;
}

/** Pixels of `indices` as a normalised float32 tensor [B, 1, H, W]; `augment` flips and shifts. */
export function imageTensor(set: ImageSet, indices: ArrayLike<number>, augment?: { rng: Rng; shift: number }): Tensor {
  const { height: H, width: W } = set;
  const t = Tensor.empty([indices.length, 1, H, W]);
  const out = t.view();
  const scale = 1 / (255 * FASHION_MNIST_STD);
  const offset = FASHION_MNIST_MEAN / FASHION_MNIST_STD;
  const background = -offset;
  for (let b = 0; b < indices.length; b++) {
    const src = set.images.subarray(indices[b]! * H * W, (indices[b]! + 1) * H * W);
    const dst = b * H * W;
    if (!augment) {
      for (let i = 0; i < H * W; i++) out[dst + i] = src[i]! * scale - offset;
      continue;
    }
    const { rng, shift } = augment;
    const flip = rng.uniform() < 0.5;
    const dy = shift ? (rng.nextU32() % (2 * shift + 1)) - shift : 0;
    const dx = shift ? (rng.nextU32() % (2 * shift + 1)) - shift : 0;
    for (let y = 0; y < H; y++) {
      const sy = y - dy;
      for (let x = 0; x < W; x++) {
        const sx0 = x - dx;
        const sx = flip ? W - 1 - sx0 : sx0;
        out[dst + y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[sy * W + sx]! * scale - offset : background;
      }
    }
  }
  return t;
}

export function labelTensor(set: ImageSet, indices: ArrayLike<number>): Tensor {
  return tensor(
    Int32Array.from(indices as ArrayLike<number>, (i) => set.labels[i]!),
    [indices.length],
    'int32',
  );
}

export interface ImageBatchesOptions {
  batchSize: number;
  seed: number;
  /** Flip and shift (default none). */
  augment?: { shift: number } | null;
  /** Examples to use (default all). */
  indices?: Int32Array;
}

/** Shuffled, resumable training batches of an ImageSet. */
export class ImageBatches implements BatchSource<ImageBatch> {
  private readonly order: ShuffledBatches;
  private readonly indices: Int32Array | null;

  constructor(
    readonly set: ImageSet,
    readonly options: ImageBatchesOptions,
  ) {
    this.indices = options.indices ?? null;
    this.order = new ShuffledBatches(this.indices?.length ?? set.count, { batchSize: options.batchSize, seed: options.seed });
  }

  get batchesPerEpoch(): number {
    return this.order.batchesPerEpoch;
  }

  get epochs(): number {
    return this.order.epochs;
  }

  next(): ImageBatch {
    const { epoch, position } = this.order.state();
    const picked = this.order.next();
    const rows = this.indices ? Int32Array.from(picked, (i) => this.indices![i]!) : picked;
    const augment = this.options.augment
      ? {
          rng: new Rng((this.options.seed ^ Math.imul(epoch + 1, 0x85ebca6b) ^ Math.imul(position + 1, 0xc2b2ae35)) >>> 0),
          shift: this.options.augment.shift,
        }
      : undefined;
    return { images: imageTensor(this.set, rows, augment), labels: labelTensor(this.set, rows), length: rows.length };
  }

  state(): unknown {
    return this.order.state();
  }

  setState(state: unknown): void {
    this.order.setState(state);
  }
}
