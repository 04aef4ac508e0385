// The attention page in Chromium: it loads without errors or outside
// requests, draws every view, toggling a head changes the head view, zoom
// works on a long input, and hostile tokens show as text.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import * as at from '../../src/index.ts';
import { attentionMapsFromWeights } from '../../src/viz/attention-maps.ts';
import { renderAttentionHtml } from '../../src/viz/attention-page.ts';
import { launchChromium, screenshot, watchedPage } from './browser-page.ts';

const dir = mkdtempSync(join(tmpdir(), 'attune-viz-'));

function writePage(name: string, html: string): string {
  const path = join(dir, `${name}.html`);
  writeFileSync(path, html);
  return pathToFileURL(path).href;
}

function weights(shape: number[], seed: number, sharpness = 3): at.Tensor {
  return at.withBackend('js', () => at.tidy(() => at.softmax(at.mulScalar(at.randn(shape, { seed }), sharpness), -1)));
}

describe('attention page in Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('draws head view, model view and heatmap; head toggles change the drawing; tokens stay text', async () => {
    const tokens = ['the', 'cat', '<script>window.__xss=1</script>', 'sat', '"on"', "the'", 'mat', '.'];
    const layers = [0, 1, 2].map((l) => ({ name: `encoder.${l}`, weights: weights([1, 4, 8, 8], 20 + l) }));
    const html = renderAttentionHtml(attentionMapsFromWeights(layers, { query: tokens }), { title: 'Title <b>"x"</b>' });
    const { page, errors, outsideRequests } = await watchedPage(browser);
    try {
      await page.goto(writePage('text', html));
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      assert.equal(await page.title(), 'Title <b>"x"</b>');
      assert.equal(await page.evaluate('window.__xss'), undefined);
      assert.equal(await page.locator('#model-view canvas.thumb').count(), 12);
      const before = Number(await page.locator('#head-view').getAttribute('data-lines'));
      await page.locator('#head-0').uncheck();
      const afterToggle = Number(await page.locator('#head-view').getAttribute('data-lines'));
      assert.ok(before > 0 && afterToggle < before, `lines ${before} -> ${afterToggle}`);
      await page.locator('#head-0').check();
      await page.locator('#model-view canvas.thumb').nth(5).click();
      assert.match((await page.locator('#detail-caption').textContent()) ?? '', /encoder\.1, head 1/);
      await screenshot(page, 'attention-text');
      assert.deepEqual(errors, []);
      assert.deepEqual(outsideRequests, []);
    } finally {
      await page.close();
    }
  });

  it('a 2,048-token input loads as a compact page and zooms by dragging', async () => {
    const n = 2048;
    const layers = [{ name: 'layer.0', weights: weights([1, 2, n, n], 7, 6) }];
    const labels = Array.from({ length: n }, (_, i) => `t${i}`);
    const html = renderAttentionHtml(attentionMapsFromWeights(layers, { query: labels }));
    assert.ok(html.length < 40e6, `page is ${(html.length / 1e6).toFixed(1)} MB`);
    const { page, errors, outsideRequests } = await watchedPage(browser);
    try {
      await page.goto(writePage('long', html));
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      assert.match((await page.locator('#head-view-note').textContent()) ?? '', /2048/);
      const box = await page.locator('#detail').boundingBox();
      assert.ok(box);
      await page.mouse.move(box.x + 10, box.y + 10);
      await page.mouse.down();
      await page.mouse.move(box.x + 60, box.y + 60);
      await page.mouse.up();
      const caption = (await page.locator('#detail-caption').textContent()) ?? '';
      const [, r0, r1] = caption.match(/query rows (\d+)–(\d+)/) ?? [];
      assert.ok(Number(r1) - Number(r0) < n / 4, caption);
      await screenshot(page, 'attention-long');
      assert.deepEqual(errors, []);
      assert.deepEqual(outsideRequests, []);
    } finally {
      await page.close();
    }
  });

  it('an image with a class token shows the rollout over the image', async () => {
    const grid = { rows: 4, cols: 4, classToken: true };
    const labels = ['[cls]', ...Array.from({ length: 16 }, (_, i) => `(${Math.floor(i / 4)},${i % 4})`)];
    const layers = [0, 1].map((l) => ({ name: `block.${l}`, weights: weights([1, 2, 17, 17], 40 + l) }));
    const image = { height: 28, width: 28, data: Float32Array.from({ length: 784 }, (_, i) => ((i % 28) + Math.floor(i / 28)) / 56) };
    const html = renderAttentionHtml(attentionMapsFromWeights(layers, { query: labels, patchGrid: grid }), { image });
    const { page, errors } = await watchedPage(browser);
    try {
      await page.goto(writePage('image', html));
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
      const options = await page.locator('#image-map option').allTextContents();
      assert.ok(options.includes('rollout over all layers'), options.join(', '));
      assert.equal(await page.locator('#image-view').getAttribute('width'), '224');
      await screenshot(page, 'attention-image');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
