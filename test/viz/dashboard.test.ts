// The dashboard server: routes, live updates in Chromium, and bad requests
// answered with a 4xx while the server keeps serving.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { RandomSampler } from '../../src/tune/samplers/random.ts';
import { SqliteStorage } from '../../src/tune/storage/sqlite.ts';
import { createStudy, type Study } from '../../src/tune/study.ts';
import { Dashboard } from '../../src/viz/dashboard-server.ts';
import { launchChromium, screenshot, watchedPage } from './browser-page.ts';

function raw(base: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function runTrial(study: Study, x: number): Promise<void> {
  const trial = await study.ask();
  const v = trial.suggestFloat('x', -5, 5);
  trial.suggestCategorical('position', ['rope', 'alibi']);
  await study.tell(trial, (v - x) ** 2);
}

describe('study dashboard', () => {
  let browser: Browser;
  let storage: SqliteStorage;
  let dashboard: Dashboard;
  let base: string;
  let study: Study;
  const enqueued: Record<string, unknown>[] = [];

  before(async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'attune-dash-')), 'studies.db');
    study = await createStudy({
      name: 'live <img src=x onerror=window.__xss=1>',
      storage: `sqlite:${path}`,
      direction: 'minimize',
      sampler: new RandomSampler({ seed: 1 }),
    });
    for (let i = 0; i < 5; i++) await runTrial(study, 1);
    storage = await SqliteStorage.open(path);
    dashboard = new Dashboard({ storage, port: 0, allowWrite: false });
    base = await dashboard.listen();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await dashboard?.close();
    await storage?.close();
    await study?.close();
  });

  it('binds to 127.0.0.1 by default', () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('lists the studies and shows a trial that finishes while the page is open', async () => {
    const { page, errors, outsideRequests } = await watchedPage(browser);
    try {
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-studies="1"]', { timeout: 20_000 });
      await page.locator('#studies a').first().click();
      await page.waitForSelector('#trials tbody tr', { timeout: 20_000 });
      assert.equal(await page.locator('#trials tbody tr').count(), 5);
      await runTrial(study, 1);
      await page.waitForFunction(() => document.querySelectorAll('#trials tbody tr').length === 6, undefined, { timeout: 20_000 });
      await page.waitForSelector('body[data-charts]', { timeout: 20_000 });
      assert.equal(await page.evaluate('window.__xss'), undefined);
      await screenshot(page, 'dashboard-study');
      assert.deepEqual(errors, []);
      assert.deepEqual(outsideRequests, []);
    } finally {
      await page.close();
    }
  });

  it('answers bad requests with a 4xx and keeps serving', async () => {
    assert.equal((await raw(base, 'GET', '/../../etc/passwd')).status, 400);
    assert.equal((await raw(base, 'GET', '/study/%2e%2e%2f%2e%2e')).status, 200); // a study name, shown as text; no file is read
    assert.equal((await raw(base, 'GET', '/%E0%A4%A')).status, 400);
    assert.equal((await raw(base, 'GET', `/${'a'.repeat(5000)}`)).status, 414);
    assert.equal((await raw(base, 'GET', '/nothing/here')).status, 404);
    assert.equal((await raw(base, 'GET', '/api/studies/none/report')).status, 404);
    assert.equal((await raw(base, 'GET', `/api/studies/${encodeURIComponent(study.name)}/report?since=abc`)).status, 400);
    assert.equal((await raw(base, 'DELETE', '/api/studies')).status, 405);
    assert.equal((await raw(base, 'POST', `/api/studies/${encodeURIComponent(study.name)}/enqueue`, '{"x":1}')).status, 403);
    const ok = await raw(base, 'GET', '/api/studies');
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.text).length, 1);
  });

  it('with allowWrite enqueues trials, and refuses malformed or oversized bodies', async () => {
    const writable = new Dashboard({ storage, port: 0, allowWrite: true, enqueue: async (_name, params) => void enqueued.push(params) });
    const url = await writable.listen();
    try {
      const path = `/api/studies/${encodeURIComponent(study.name)}/enqueue`;
      assert.equal((await raw(url, 'POST', path, '{"x": 0.5}')).status, 200);
      assert.deepEqual(enqueued, [{ x: 0.5 }]);
      assert.equal((await raw(url, 'POST', path, '{not json')).status, 400);
      assert.equal((await raw(url, 'POST', path, '[1, 2]')).status, 400);
      assert.equal((await raw(url, 'POST', path, `{"x": "${'y'.repeat(70_000)}"}`)).status, 413);
      assert.equal((await raw(url, 'GET', '/api/studies')).status, 200);
    } finally {
      await writable.close();
    }
  });
});
