// `attune viz` on real checkpoints (a tiny ViT and a tiny encoder-decoder
// with its tokenizer): the files it writes, and one-line errors (exit 2).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { trainBpe } from '../../src/data/tokenizer-train.ts';
import { Seq2SeqTransformer } from '../../src/nn/seq2seq.ts';
import { VisionTransformer } from '../../src/nn/vision-transformer.ts';
import { saveCheckpoint } from '../../src/train/checkpoint.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'attune-viz-cli-'));

function attune(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: root });
}

describe('attune viz', () => {
  before(() => {
    const vit = new VisionTransformer(
      { imageSize: 28, patchSize: 7, channels: 1, numClasses: 10, dim: 16, depth: 2, numHeads: 2 },
      { seed: 1 },
    );
    saveCheckpoint(join(dir, 'vit.safetensors'), vit, { step: 0, modelClass: 'VisionTransformer', modelConfig: vit.config });
    const png = new PNG({ width: 40, height: 40 });
    for (let i = 0; i < 1600; i++) png.data.set([i % 40 < 20 ? 230 : 20, 90, 40, 255], 4 * i);
    writeFileSync(join(dir, 'item.png'), PNG.sync.write(png));

    const tokenizer = trainBpe(['free office suite', 'suite bureautique libre', 'a text editor', 'un éditeur de texte'], {
      vocabSize: 300,
    });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON()));
    const config = {
      srcVocabSize: tokenizer.vocabSize,
      tgtVocabSize: tokenizer.vocabSize,
      dim: 16,
      numHeads: 2,
      encoderLayers: 1,
      decoderLayers: 1,
      shareEmbeddings: true,
      maxLength: 32,
    };
    const s2s = new Seq2SeqTransformer(config, { seed: 3 });
    saveCheckpoint(join(dir, 's2s.safetensors'), s2s, {
      step: 0,
      modelClass: 'Seq2SeqTransformer',
      modelConfig: config,
      extra: { task: 'translation', maxSourceLength: 16, maxTargetLength: 6 },
    });
  });

  it('writes the page, per-layer PNG and SVG, and overlays for an image', () => {
    const out = join(dir, 'image-maps');
    const r = attune('viz', join(dir, 'vit.safetensors'), '--image', join(dir, 'item.png'), '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const files = readdirSync(out).sort();
    assert.deepEqual(
      files.filter((f) => f.startsWith('overlay')),
      ['overlay-class-token-last-layer.png', 'overlay-rollout.png'],
    );
    assert.equal(files.filter((f) => f.endsWith('.svg')).length, 2);
    assert.match(readFileSync(join(out, 'attention.html'), 'utf8'), /rollout over all layers/);
    assert.match(r.stdout, /item\.png: .+ \(\d+\.\d%\)/);
  });

  it('writes encoder, decoder and cross maps for a sentence', () => {
    const out = join(dir, 'text-maps');
    const r = attune('viz', join(dir, 's2s.safetensors'), '--text', 'free office suite', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(out, 'attention.html')));
    assert.ok(readdirSync(out).some((f) => f.includes('cross') && f.endsWith('.svg')));
    assert.match(readFileSync(join(out, 'attention.html'), 'utf8'), /decoder\.0 cross/);
  });

  it('refuses wrong input with one line and exit code 2', () => {
    for (const args of [
      ['viz', join(dir, 'vit.safetensors'), '--text', 'hello'],
      ['viz', join(dir, 's2s.safetensors'), '--image', join(dir, 'item.png')],
      ['viz', join(dir, 'vit.safetensors')],
      ['viz', join(dir, 'missing.safetensors'), '--image', join(dir, 'item.png')],
      ['viz', join(dir, 'vit.safetensors'), '--image', join(dir, 'tokenizer.json')],
    ]) {
      const r = attune(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^attune viz: /);
    }
  });
});
