// Rebuilds data/fashion-mnist/: the first 200 training and first 100 test
// images of each class, in file order, from Debian's dataset-fashion-mnist
// package (apt-get install dataset-fashion-mnist), as gzipped IDX files with
// the package's file names. Deterministic: same package, same bytes.
// Run: node --import tsx scripts/make-fashion-subset.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEBIAN_FASHION_MNIST, loadFashionMnist, SHIPPED_FASHION_MNIST } from '../src/data/fashion-mnist.ts';
import { encodeIdx } from '../src/data/idx.ts';

const perClass = { train: 200, test: 100 };
const prefix = { train: 'train', test: 't10k' };

mkdirSync(SHIPPED_FASHION_MNIST, { recursive: true });
for (const split of ['train', 'test']) {
  const set = loadFashionMnist(split, DEBIAN_FASHION_MNIST);
  const pixels = set.height * set.width;
  const taken = new Array(10).fill(0);
  const picked = [];
  for (let i = 0; i < set.count && picked.length < 10 * perClass[split]; i++) {
    const label = set.labels[i];
    if (taken[label] < perClass[split]) {
      taken[label]++;
      picked.push(i);
    }
  }
  const images = new Uint8Array(picked.length * pixels);
  const labels = new Uint8Array(picked.length);
  picked.forEach((src, dst) => {
    images.set(set.images.subarray(src * pixels, (src + 1) * pixels), dst * pixels);
    labels[dst] = set.labels[src];
  });
  const write = (name, bytes) => writeFileSync(join(SHIPPED_FASHION_MNIST, name), gzipSync(bytes, { level: 9 }));
  write(`${prefix[split]}-images-idx3-ubyte.gz`, encodeIdx([picked.length, set.height, set.width], images));
  write(`${prefix[split]}-labels-idx1-ubyte.gz`, encodeIdx([picked.length], labels));
  console.log(`${split}: ${picked.length} images (${perClass[split]} per class) of ${set.count}`);
}
