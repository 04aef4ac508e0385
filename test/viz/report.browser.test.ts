// The tuning report in Chromium: loads with no errors and no outside
// requests, draws every chart, sorts the table, and keeps hostile names as text.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import * as at from '../../src/index.ts';
import { attentionMapsFromWeights } from '../../src/viz/attention-maps.ts';
import { renderStudyReport } from '../../src/viz/report.ts';
import { launchChromium, screenshot, watchedPage } from './browser-page.ts';
import { makeReportStudy } from './report-study.ts';

describe('tuning report in Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('draws the charts, sorts the table and runs nothing from the data', async () => {
    const study = await makeReportStudy();
    const tokens = ['<s>', 'free', 'office', 'suite', '</s>'];
    const weights = at.withBackend('js', () => at.softmax(at.randn([1, 2, 5, 5], { seed: 9 }), -1));
    const maps = attentionMapsFromWeights([{ name: 'encoder.0', weights }], { query: tokens });
    const html = renderStudyReport(
      { name: study.name, directions: study.directions, trials: study.trials, objectiveNames: ['bleu', 'latency_ms'] },
      { bestTrialAttention: maps },
    );
    const path = join(mkdtempSync(join(tmpdir(), 'attune-report-')), 'report.html');
    writeFileSync(path, html);
    const { page, errors, outsideRequests } = await watchedPage(browser);
    try {
      await page.goto(pathToFileURL(path).href);
      await page.waitForSelector('body[data-charts]', { timeout: 30_000 });
      assert.equal(await page.evaluate('document.body.dataset.charts'), '7');
      assert.equal((await page.locator('#charts svg').count()) >= 7, true);
      assert.equal(await page.evaluate('window.__xss'), undefined);
      assert.match(await page.title(), /<script>window.__xss=1<\/script>/);
      // sort by the first objective, descending: the first row holds the maximum
      const header = page.locator('#trials th', { hasText: 'bleu' });
      await header.click();
      await header.click();
      const firstBleu = Number(await page.locator('#trials tbody tr:first-child td:nth-child(3)').textContent());
      const best = Math.max(...study.trials.filter((t) => t.values).map((t) => (t.values as number[])[0]));
      assert.ok(Math.abs(firstBleu - best) < 1e-3, `${firstBleu} vs ${best}`);
      assert.equal(await page.locator('#attention svg').count(), 1);
      await screenshot(page, 'report');
      assert.deepEqual(errors, []);
      assert.deepEqual(outsideRequests, []);
    } finally {
      await page.close();
    }
  });
});
