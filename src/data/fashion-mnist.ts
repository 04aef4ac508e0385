// Fashion-MNIST (Zalando Research, MIT licence): 28×28 grayscale images of
// 10 clothing classes, 60,000 for training and 10,000 for testing, as
// gzipped IDX files. Debian's dataset-fashion-mnist package installs them
// under /usr/share/datasets/fashion-mnist; attune ships a 2,000 + 1,000
// image subset in data/fashion-mnist with the same file names.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIdx } from './idx.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Where Debian's dataset-fashion-mnist package puts the full set. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
/** The subset shipped with attune. */
export const SHIPPED_FASHION_MNIST = fileURLToPath(new URL('../../data/fashion-mnist', import.meta.url));
/** How to get the full set, in one line. */
export const FULL_SET_HINT = 'for the full 60,000 + 10,000 images: sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu)';

/** Images as one u8 buffer [count, height, width] (row-major) and labels as u8 [count]. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  /** The directory it was read from. */
  source: string;
}

export type Split = 'train' | 'test';

const FILES: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};

/** The directory to read: the one given, else Debian's full set when installed, else the shipped subset. */
export function fashionMnistDir(dir?: string): { dir: string; full: boolean } {
  if (dir) return { dir, full: dir === DEBIAN_FASHION_MNIST };
  if (existsSync(join(DEBIAN_FASHION_MNIST, FILES.train[0]))) return { dir: DEBIAN_FASHION_MNIST, full: true };
  return { dir: SHIPPED_FASHION_MNIST, full: false };
}

/** Reads one split, checking that images and labels agree. */
export function loadFashionMnist(split: Split, dir = fashionMnistDir().dir): ImageSet {
  const [imageFile, labelFile] = FILES[split].map((f) => join(dir, f)) as [string, string];
  const images = readIdx(imageFile);
  const labels = readIdx(labelFile);
  if (images.type !== 'uint8' || images.dims.length !== 3) {
    throw new Error(
      `fashion-mnist: ${imageFile}: expected uint8 images [count, height, width], got ${images.type} [${images.dims.join(', ')}]`,
    );
  }
  if (labels.type !== 'uint8' || labels.dims.length !== 1) {
    throw new Error(`fashion-mnist: ${labelFile}: expected uint8 labels [count], got ${labels.type} [${labels.dims.join(', ')}]`);
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count)
    throw new Error(`fashion-mnist: ${labelFile} has ${labels.dims[0]} labels for ${count} images in ${imageFile}`);
  const data = labels.data as Uint8Array;
  const bad = data.findIndex((l) => l >= FASHION_MNIST_CLASSES.length);
  if (bad >= 0) throw new Error(`fashion-mnist: ${labelFile}: label ${data[bad]} at index ${bad} is not a class 0-9`);
  return { images: images.data as Uint8Array, labels: data, count, height, width, source: dir };
}
