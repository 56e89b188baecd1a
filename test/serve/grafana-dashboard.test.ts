/**
 * The shipped Grafana dashboard (grafana/pitwall-dashboard.json) reads only what pitwall serves:
 * every Prometheus query names series /metrics exposes (an engine with an archive, a group and
 * lag), and every Infinity panel reads /v1/metrics/<metric>/rows of a sample metric, picking
 * columns that metric has (or `final`).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { createServer } from '../../src/serve/server.js';
import { catalog, fixture, handleOf, plans, ROOT } from './serve-harness.js';

interface Target { expr?: string; url?: string; columns?: { selector: string }[] }
interface Panel { type: string; title: string; targets?: Target[] }
const dashboard = JSON.parse(readFileSync(join(ROOT, 'grafana', 'pitwall-dashboard.json'), 'utf8')) as { panels: Panel[]; uid: string };

describe('grafana/pitwall-dashboard.json', () => {
  it('queries only series /metrics exposes, and rows and columns the sample metrics have', async () => {
    const f = fixture();
    const archive = new ArchiveWriter(mkdtempSync(join(tmpdir(), 'pw-grafana-')), catalog, { piiKey: 'k', threads: 0 });
    archive.open();
    const { app } = await createServer({ store: f.store, handle: handleOf(f.engine, { archive, group: () => ({ members: 1, rebalances: 0, fenced: 0, skippedFlushes: 0, foreignFlushes: 0 }), lag: () => new Map([['orders:0', 1]]), lastCheckpointAt: () => Date.now() }) });
    try {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const exposed = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) => (m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1] as string])));
      const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
      const exprs = targets.filter((t) => t.expr !== undefined);
      expect(exprs.length).toBeGreaterThan(10);
      for (const t of exprs) for (const [name] of (t.expr as string).matchAll(/pitwall_[a-z0-9_]+/g)) expect(exposed.has(name), `${t.panel}: ${name}`).toBe(true);
      const urls = targets.filter((t) => t.url !== undefined);
      expect(urls.length).toBeGreaterThanOrEqual(4);
      for (const t of urls) {
        const m = /^\$\{pitwall_url\}\/v1\/metrics\/([a-z0-9_]+)\/rows(\?|$)/.exec(t.url as string);
        expect(m, t.url).not.toBeNull();
        const plan = plans.find((p) => p.name === m?.[1]);
        expect(plan, t.url).toBeDefined();
        for (const c of t.columns ?? []) expect([...(plan?.columns.map((x) => x.name) ?? []), 'final'], `${t.panel}: ${c.selector}`).toContain(c.selector);
        const served = await app.inject({ method: 'GET', url: (t.url as string).replace('${pitwall_url}', '') });
        expect(served.statusCode, t.url).toBe(200);
      }
    } finally {
      await app.close();
      await archive.close();
    }
  });
});
