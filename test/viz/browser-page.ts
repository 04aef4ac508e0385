// Opens a viz page in Debian's Chromium (playwright-core) and records what a
// person would notice: console errors, page errors, and any request that
// leaves localhost. Screenshots go to test-artifacts/ (ignored by git).

import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  errors: string[];
  outsideRequests: string[];
}

/** A page that records console errors, uncaught exceptions and requests to anything but localhost or data:/blob: URLs. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const outsideRequests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => {
    const url = r.url();
    if (!/^(data:|blob:|about:|file:|https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/)/.test(url)) outsideRequests.push(url);
  });
  return { page, errors, outsideRequests };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = `${artifactsDir}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
