/**
 * The pit-wall page in a real headless Chromium against the embedded demo: charts draw and keep
 * updating from the SSE stream while the generators run. Needs /usr/bin/chromium and
 * playwright-core; without them the test is skipped with one loud line.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedDemo } from '../../src/demo/embedded-demo.js';
import { launchChromium, missingBrowser } from './browser-harness.js';
import { catalog, plans, ROOT } from './serve-harness.js';

const missing = missingBrowser('page browser test');

describe.skipIf(missing.length > 0)('pit-wall page in Chromium', () => {
  it('draws every live metric and keeps updating from the stream', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'pw-page-'));
    const demo = new EmbeddedDemo({ catalog, plans, outDir, port: 0, host: '127.0.0.1', rate: 200, piiKey: 'k', definitions: { catalog: join(ROOT, 'catalog'), queries: join(ROOT, 'queries') } });
    await demo.start();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await page.goto(demo.url);
      // Page-side code as strings: it runs in the browser (this project compiles without DOM types).
      const js = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
      const until = async (expr: string, timeout: number): Promise<void> => { await page.waitForFunction(expr, undefined, { timeout }); };
      const COUNTS = `Object.fromEntries([...document.querySelectorAll('section')].map((s) => [s.querySelector('svg').dataset.metric, Number(s.dataset.updates || 0)]))`;
      // One section per metric, each rendered once its rows loaded.
      await until(`document.querySelectorAll('section[data-updates] svg[data-metric]').length === ${plans.length}`, 15_000);
      // A chart has drawn a line: an on_update metric's open window shows up within seconds.
      await until(`document.querySelector('section svg path') !== null`, 20_000);
      const drawn = await js<string[]>(`[...document.querySelectorAll('section')].filter((s) => s.querySelector('svg path')).map((s) => s.querySelector('svg').dataset.metric)`);
      expect(drawn.length).toBeGreaterThan(0);
      // Live updates: the render counter of a drawn chart goes up while the generators run.
      const before = await js<Record<string, number>>(COUNTS);
      await until(`(() => { const b = ${JSON.stringify(before)}; return [...document.querySelectorAll('section')].some((s) => s.querySelector('svg path') && Number(s.dataset.updates) >= (b[s.querySelector('svg').dataset.metric] || 0) + 2); })()`, 15_000);
      const after = await js<Record<string, number>>(COUNTS);
      const grew = Object.keys(after).filter((m) => (after[m] ?? 0) > (before[m] ?? 0));
      expect(grew.length).toBeGreaterThan(0);
      // The header figures come from /metrics and keep moving too.
      await until(`/\\d/.test(document.getElementById('h-rate').textContent)`, 10_000);
      const events = async (): Promise<number> => Number((await js<string>(`document.getElementById('h-events').textContent`)).replace(/\D/g, ''));
      const e0 = await events();
      await until(`Number(document.getElementById('h-events').textContent.replace(/\\D/g, '')) > ${e0}`, 10_000);
      expect(await js<string>(`document.getElementById('h-status').textContent`)).toBe('');
      expect(await js<number>(`document.querySelectorAll('tbody tr').length`)).toBeGreaterThan(0);
      // ../shared/cases/page-number-format: ids verbatim, one number format per column (the page's own formatter).
      expect(await js<string>(`fmt(2000, { key: true, type: 'int' })`)).toBe('2000');
      const damage = await js<string[]>(`[86653, 83543.9, 1378260.1].map((v) => fmt(v, { key: false, type: 'double' }))`);
      expect(damage.every((d) => /^\d{1,3}(,\d{3})*\.\d{2}$/.test(d)), damage.join(' ')).toBe(true);
      expect(await js<string>(`fmt(1234567, { key: false, type: 'int' })`)).toMatch(/^1.234.567$/);
      // Every rendered double cell has two decimals; no key cell is regrouped.
      const cells = await js<{ double: string[] }>(`(() => { const out = { double: [] }; for (const s of document.querySelectorAll('section')) { const heads = [...s.querySelectorAll('thead th')].map((t) => t.textContent); for (const tr of s.querySelectorAll('tbody tr')) [...tr.children].forEach((td, i) => { if (heads[i] === 'damage') out.double.push(td.textContent); }); } return out; })()`);
      expect(cells.double.every((d) => /\.\d{2}$/.test(d)), cells.double.join(' ')).toBe(true);
      expect(errors).toEqual([]);
      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-output', 'pitwall-page.png'), fullPage: true });
      process.stderr.write(`page: charts drawn for ${drawn.join(', ')}; live updates on ${grew.join(', ')}; screenshot test-output/pitwall-page.png\n`);
    } finally {
      await browser.close();
      await demo.stop();
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 90_000);
});
