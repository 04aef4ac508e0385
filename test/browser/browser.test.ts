// The library in a real browser (Debian's Chromium, headless): wasm kernels
// with Web Worker threads when the page is cross-origin isolated, a single
// thread when it is not, and the same numbers as the js reference.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../viz/browser-page.ts';
import { serveRepo } from './server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface CheckResult {
  backend: string;
  variant: string | null;
  threads: number;
  parallelCalls: number;
  isolated: boolean;
  worst: number;
  gradFinite: boolean;
}

describe('in Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  async function check(isolated: boolean): Promise<CheckResult> {
    const server = await serveRepo(root, isolated);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.url}/test/browser/page.html`);
      await page.waitForFunction(() => 'runCheck' in window, undefined, { timeout: 20_000 });
      const result = (await page.evaluate('window.runCheck()')) as CheckResult;
      assert.deepEqual(errors, []);
      return result;
    } finally {
      await page.close();
      await server.close();
    }
  }

  it('runs the wasm backend on several threads in a cross-origin isolated page', async () => {
    const r = await check(true);
    assert.equal(r.isolated, true);
    assert.equal(r.backend, 'wasm');
    assert.match(r.variant ?? '', /-mt$/);
    assert.equal(r.threads, 2);
    assert.ok(r.parallelCalls > 0, 'no kernel ran on the worker threads');
    assert.ok(r.worst < 1e-5, `max relative difference to the js reference: ${r.worst}`);
    assert.ok(r.gradFinite);
  });

  it('falls back to one thread and the plain-memory build without isolation', async () => {
    const r = await check(false);
    assert.equal(r.isolated, false);
    assert.equal(r.backend, 'wasm');
    assert.doesNotMatch(r.variant ?? '', /-mt$/);
    assert.equal(r.threads, 1);
    assert.equal(r.parallelCalls, 0);
    assert.ok(r.worst < 1e-5);
  });
});
