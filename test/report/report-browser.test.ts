/**
 * report.html in a real browser: headless Chromium renders one chart per metric with rows, each
 * with a drawn line, loads nothing but the page itself, and leaves a screenshot in
 * test-output/report.png. Skipped (with one loud line) when Chromium or playwright-core is missing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserType } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildReportFixture } from './report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const chromium: BrowserType | undefined = (await import('playwright-core').catch(() => undefined))?.chromium;
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} not found` : !chromium ? 'playwright-core is not installed' : undefined;
if (missing) {
  process.stderr.write(`\n!!! SKIPPING the report.html browser test: ${missing}. Enable it with: apt-get update && apt-get install -y chromium (and npm install) !!!\n\n`);
}

describe.skipIf(missing !== undefined)('report.html in headless Chromium', () => {
  it('draws one chart with a line per metric with rows, from the page alone', async () => {
    const fx = await buildReportFixture();
    const withRows = fx.report.metrics.filter((m) => m.rows > 0).map((m) => m.name);
    expect(withRows.length).toBeGreaterThan(0);
    const browser = await (chromium as BrowserType).launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      const url = pathToFileURL(join(fx.out, 'report.html')).href;
      await page.goto(url);
      const charts = await page.$$eval('svg', (svgs) => svgs.map((svg) => {
        const paths = [...svg.querySelectorAll('path')];
        return {
          label: svg.getAttribute('aria-label'),
          points: paths.map((p) => (p.getAttribute('d') ?? '').match(/[ML]\s*-?[\d.]+,-?[\d.]+/g)?.length ?? 0),
          width: paths.reduce((w, p) => Math.max(w, (p as unknown as { getBBox(): { width: number } }).getBBox().width), 0),
        };
      }));
      expect(charts.map((c) => c.label)).toEqual(withRows);
      for (const c of charts) {
        expect(Math.max(...c.points), `${c.label}: points in the line`).toBeGreaterThanOrEqual(2);
        expect(c.width, `${c.label}: rendered line width`).toBeGreaterThan(10);
      }
      expect(await page.locator('p.empty').count()).toBe(fx.report.metrics.length - withRows.length);
      expect(requests).toEqual([url]);
      expect(errors).toEqual([]);
      mkdirSync('test-output', { recursive: true });
      await page.screenshot({ path: join('test-output', 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
