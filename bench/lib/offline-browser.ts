/**
 * Open a local HTML file in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core; no browser is ever downloaded) with the network off: every request that is not
 * for a file: URL is aborted and recorded, and so is every console error and page error, so a
 * caller can assert that a page needed nothing but itself. Used by the HTML report's browser test
 * and by the README screenshot script.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** The one line to print when the browser is missing. */
export const NO_CHROMIUM = `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium); the browser test never downloads a browser`;

export interface OfflinePage {
  readonly page: Page;
  /** Requests that were not for a file: URL (all aborted), and requests that failed. */
  readonly blocked: string[];
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * Launch Chromium with a fresh profile and open `file` in a `width` x `height` viewport; resolves
 * once the page has loaded.
 */
export async function openOffline(file: string, width = 1440, height = 900): Promise<OfflinePage> {
  if (!existsSync(CHROMIUM)) throw new Error(NO_CHROMIUM);
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'report-chromium-'));
  let context: BrowserContext | undefined;
  try {
    // A fresh profile each time: playwright passes it as --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width, height },
      deviceScaleFactor: 1,
      offline: true,
    });
    const page = context.pages()[0] ?? await context.newPage();
    const blocked: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    page.on('requestfailed', (r) => blocked.push(`${r.url()} (${r.failure()?.errorText ?? 'failed'})`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const c = context;
    return {
      page, blocked, errors,
      async close() {
        await c.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}
