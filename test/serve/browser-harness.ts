/**
 * Headless Chromium for the page tests: /usr/bin/chromium driven by playwright-core. Without
 * either, the tests are skipped with one loud line naming what is missing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** What is missing to run a browser test (empty: nothing); says so once on stderr when something is. */
export function missingBrowser(what: string): string[] {
  const hasPlaywright = ((): boolean => {
    try { createRequire(import.meta.url).resolve('playwright-core'); return true; } catch { return false; }
  })();
  const missing = [...(existsSync(CHROMIUM) ? [] : [CHROMIUM]), ...(hasPlaywright ? [] : ['playwright-core'])];
  if (missing.length) process.stderr.write(`!!! ${what} skipped: ${missing.join(' and ')} missing (enable: apt-get install chromium; npm install)\n`);
  return missing;
}

/** A headless Chromium with nothing running in the background. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
