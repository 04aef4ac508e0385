import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadFashionMnist, SHIPPED_FASHION_MNIST } from '../../../src/data/fashion-mnist.ts';
import * as at from '../../../src/index.ts';
import { AdamW, parameterGroups } from '../../../src/optim/index.ts';
import { ImageBatches } from '../../../src/tasks/image/data.ts';
import { accuracy } from '../../../src/tasks/image/evaluate.ts';
import { createImageModel } from '../../../src/tasks/image/model.ts';
import { pngToGray } from '../../../src/tasks/image/predict.ts';
import { Trainer } from '../../../src/train/trainer.ts';

const test = loadFashionMnist('test', SHIPPED_FASHION_MNIST);
const pixelsOf = (i: number) => test.images.subarray(i * 784, (i + 1) * 784);
const cli = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

/** A PNG of test image i, scaled up `scale`× (nearest), in a colour type, over a background. */
function png(i: number, { colorType = 0 as 0 | 2 | 6, scale = 1, invert = false, alpha = 255 } = {}): Buffer {
  const side = 28 * scale;
  const p = new PNG({ width: side, height: side });
  const src = pixelsOf(i);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = src[Math.floor(y / scale) * 28 + Math.floor(x / scale)]!;
      const g = invert ? 255 - v : v;
      const k = 4 * (y * side + x);
      p.data[k] = p.data[k + 1] = p.data[k + 2] = g;
      p.data[k + 3] = alpha;
    }
  }
  return PNG.sync.write(p, { colorType, inputColorType: 6 });
}

describe('PNG input', () => {
  it('grayscale, RGB and RGBA PNGs of a test image decode to its exact pixels', () => {
    for (const colorType of [0, 2, 6] as const) {
      const g = pngToGray(png(3, { colorType }), [28, 28]);
      assert.deepEqual(Array.from(g.pixels), Array.from(pixelsOf(3)), `colour type ${colorType}`);
      assert.equal(g.inverted, false);
    }
  });

  it('a 2× image is area-averaged back to 28×28 exactly; a light background is inverted; transparent is black', () => {
    assert.deepEqual(Array.from(pngToGray(png(5, { scale: 2 }), [28, 28]).pixels), Array.from(pixelsOf(5)));
    const light = pngToGray(png(5, { invert: true, colorType: 2 }), [28, 28]);
    assert.equal(light.inverted, true);
    assert.deepEqual(Array.from(light.pixels), Array.from(pixelsOf(5)));
    assert.ok(pngToGray(png(5, { colorType: 6, alpha: 0 }), [28, 28]).pixels.every((v) => v === 0));
    assert.throws(() => pngToGray(Uint8Array.of(1, 2, 3), [28, 28], 'x.png'), /predict: x\.png is not a readable PNG/);
  });
});

describe('image task', () => {
  it('a tiny ViT overfits 64 Fashion-MNIST images to 100% training accuracy through the Trainer', async () => {
    const train = loadFashionMnist('train', SHIPPED_FASHION_MNIST);
    const indices = Int32Array.from({ length: 64 }, (_, i) => i * 31);
    const model = createImageModel({ dim: 32, depth: 2, numHeads: 2 }, 3);
    const trainer = new Trainer({
      model,
      optimizer: new AdamW(parameterGroups(model, { weightDecay: 0 }), { lr: 3e-3 }),
      data: new ImageBatches(train, { batchSize: 32, seed: 1, indices }),
      loss: (b) => at.crossEntropy(model.forward(b.images), b.labels),
      steps: 160,
      progress: 'none',
      handleSigint: false,
    });
    await trainer.fit();
    assert.equal(accuracy(model, train, indices), 1);
  });

  it('attune train image then predict image on PNG files, end to end (heads narrower than dim / heads)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-image-'));
    const model = ['--dim', '16', '--depth', '1', '--heads', '2', '--head-dim', '4'];
    const args = ['train', 'image', '--data', SHIPPED_FASHION_MNIST, '--epochs', '0.5', ...model];
    const trained = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args, '--out', dir, '--json'], { encoding: 'utf8' });
    assert.equal(trained.status, 0, trained.stderr);
    const result = JSON.parse(trained.stdout.trim().split('\n').at(-1)!);
    assert.ok(result.testAccuracy >= 0 && result.testAccuracy <= 1 && result.steps === 7, trained.stdout);
    const files = [0, 1].map((i) => {
      const f = join(dir, `image${i}.png`);
      writeFileSync(f, png(i, { colorType: 2 }));
      return f;
    });
    const predicted = spawnSync(
      process.execPath,
      ['--import', 'tsx', cli, 'predict', 'image', join(dir, 'last.safetensors'), ...files, '--json'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(predicted.status, 0, predicted.stderr);
    const lines = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.file),
      files,
    );
    for (const l of lines) assert.ok(l.probability > 0 && l.probability <= 1 && typeof l.className === 'string');
  });

  it('bad options end with a one-line error and exit code 2', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });
    const cases: Array<[string[], RegExp]> = [
      [['train', 'image', '--minutes', '-1'], /^attune train image: --minutes must be a number > 0, got '-1'$/],
      [['train', 'image', '--patch', '5'], /^attune train image: --patch must divide the image side 28, got 5$/],
      [['train', 'image', '--heads', '4', '--kv-heads', '3'], /^attune train image: --kv-heads 3 must divide --heads 4$/],
      [
        ['train', 'image', '--dim', '30', '--heads', '4'],
        /^attune train image: --dim 30 must be a multiple of --heads 4 \(or give --head-dim\)$/,
      ],
      [
        ['train', 'image', '--position', 'rope', '--head-dim', '3'],
        /^attune train image: --position rope needs an even head width, got 3$/,
      ],
      [['train', 'image', '--data', '/nonexistent'], /^attune train image: --data \/nonexistent does not exist$/],
      [
        ['predict', 'image', '/nonexistent.safetensors', 'a.png'],
        /^attune predict image: checkpoint \/nonexistent\.safetensors does not exist$/,
      ],
      [['train', 'image', '--frobnicate'], /unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
    }
  });
});
