/**
 * The pit-wall page through a network blip (../shared/cases/sse-resume-dropped-page-freezes): the
 * page in headless Chromium reaches the demo through a TCP proxy, which cuts every connection
 * and refuses new ones for 3 s. The page shows that its live stream is down (reconnecting, then
 * stale since T), and once the network is back every chart and table that was moving before the
 * blip moves again within 5 s, resumed with Last-Event-ID. Screenshots of the stale page and of
 * the recovered one go to test-output/. Needs /usr/bin/chromium and playwright-core (else
 * skipped with one loud line, as page.browser.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedDemo } from '../../src/demo/embedded-demo.js';
import { launchChromium, missingBrowser } from './browser-harness.js';
import { catalog, plans, ROOT } from './serve-harness.js';

const missing = missingBrowser('page blip test');

/** A TCP proxy on 127.0.0.1 to `port` that can cut every connection and refuse new ones for a while. */
async function blipProxy(port: number): Promise<{ url: string; blip: (ms: number) => void; close: () => Promise<void>; refusing: () => boolean }> {
  const sockets = new Set<net.Socket>();
  let refuseUntil = 0;
  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) { client.destroy(); return; }
    const up = net.connect(port, '127.0.0.1');
    for (const s of [client, up]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${own}/`,
    blip: (ms) => { refuseUntil = Date.now() + ms; for (const s of sockets) s.destroy(); },
    refusing: () => Date.now() < refuseUntil,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

describe.skipIf(missing.length > 0)('pit-wall page through a network blip', () => {
  it('shows the stream down, then every moving chart and table moves again within 5 s', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'pw-blip-'));
    const demo = new EmbeddedDemo({ catalog, plans, outDir, port: 0, host: '127.0.0.1', rate: 200, piiKey: 'k', definitions: { catalog: join(ROOT, 'catalog'), queries: join(ROOT, 'queries') } });
    await demo.start();
    const proxy = await blipProxy(Number(new URL(demo.url).port));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(proxy.url);
      const js = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
      const until = async (expr: string, timeout: number): Promise<void> => { await page.waitForFunction(expr, undefined, { timeout }); };
      // Render counts per section: a chart and its table are drawn together.
      const COUNTS = `Object.fromEntries([...document.querySelectorAll('section')].map((s) => [s.querySelector('svg').dataset.metric, Number(s.dataset.updates || 0)]))`;
      await until(`document.querySelectorAll('section[data-updates]').length === ${plans.length}`, 20_000);
      await until(`document.getElementById('h-live').dataset.state === 'live'`, 10_000);
      // The sections that move: rendered again within 5 s.
      const c0 = await js<Record<string, number>>(COUNTS);
      await new Promise((r) => setTimeout(r, 5000));
      const c1 = await js<Record<string, number>>(COUNTS);
      const moving = Object.keys(c1).filter((m) => (c1[m] ?? 0) > (c0[m] ?? 0));
      expect(moving.length).toBeGreaterThan(0);

      proxy.blip(4000);
      await until(`document.getElementById('h-live').dataset.state === 'stale'`, 10_000);
      expect(await js<string>(`document.getElementById('h-live').textContent`)).toMatch(/^stale since /);
      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-output', 'pitwall-page-blip-stale.png'), fullPage: true });
      while (proxy.refusing()) await new Promise((r) => setTimeout(r, 50));
      const back = Date.now();
      const c2 = await js<Record<string, number>>(COUNTS);
      // Every section that moved before the blip moves again within 5 s of the network's return.
      await until(`(() => { const b = ${JSON.stringify(c2)}; const m = ${JSON.stringify(moving)}; const now = ${COUNTS}; return m.every((k) => now[k] > b[k]); })()`, 5000);
      await until(`document.getElementById('h-live').dataset.state === 'live'`, 5000);
      const recovered = Date.now() - back;
      await page.screenshot({ path: join(ROOT, 'test-output', 'pitwall-page-blip-recovered.png'), fullPage: true });
      expect(errors).toEqual([]);
      process.stderr.write(`page blip: ${moving.length} moving sections (${moving.join(', ')}) all moved again ${recovered} ms after the network returned; screenshots test-output/pitwall-page-blip-{stale,recovered}.png\n`);
    } finally {
      await browser.close();
      await proxy.close();
      await demo.stop();
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 120_000);
});
