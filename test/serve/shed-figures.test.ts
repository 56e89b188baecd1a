/** Shedding as the server shows it: /metrics series per metric and tier, counters that never go back, and /readyz's shed figures. */
import { describe, expect, it } from 'vitest';
import type { ShedStats } from '../../src/hot/engine.js';
import { createServer } from '../../src/serve/server.js';
import { fixture, handleOf, plans, promValue } from './serve-harness.js';

describe('shed figures', () => {
  it('/metrics has pitwall_metric_shed{metric,tier}, pitwall_shed_windows_total and pitwall_backfilled_windows_total; /readyz reports them', async () => {
    const f = fixture();
    const [a, b] = plans.map((p) => p.name) as [string, string];
    const figures: Record<string, ShedStats> = {
      [a]: { tier: 'batch', shed: true, since: '2026-11-30T10:00:00.000Z', shedWindows: 4, backfilledWindows: 0, pendingIntervals: 1 },
      [b]: { tier: 'critical', shed: false, since: undefined, shedWindows: 0, backfilledWindows: 0, pendingIntervals: 0 },
    };
    const { app } = await createServer({ store: f.store, handle: handleOf(f.engine, { shed: () => figures }) });
    try {
      const scrape = async (): Promise<string> => (await app.inject({ method: 'GET', url: '/metrics' })).body;
      let text = await scrape();
      expect(promValue(text, 'pitwall_metric_shed', { metric: a, tier: 'batch' })).toBe(1);
      expect(promValue(text, 'pitwall_metric_shed', { metric: b, tier: 'critical' })).toBe(0);
      expect(promValue(text, 'pitwall_shed_windows_total', { metric: a })).toBe(4);
      expect(promValue(text, 'pitwall_backfilled_windows_total', { metric: a })).toBe(0);
      const ready = (await app.inject({ method: 'GET', url: '/readyz' })).json<{ shed: Record<string, ShedStats> }>();
      expect(ready.shed[a]).toMatchObject({ tier: 'batch', shed: true, since: '2026-11-30T10:00:00.000Z' });
      // The page's badges read /v1/metrics: tier and shed state per metric.
      const listed = (await app.inject({ method: 'GET', url: '/v1/metrics' })).json<{ metrics: { name: string; tier: string; shed?: { shed: boolean; since: string | null } }[] }>();
      expect(listed.metrics.find((m) => m.name === a)).toMatchObject({ shed: { shed: true, since: '2026-11-30T10:00:00.000Z', shedWindows: 4 } });
      expect(listed.metrics.find((m) => m.name === b)?.shed).toMatchObject({ shed: false, since: null });
      const page = (await app.inject({ method: 'GET', url: '/' })).body;
      expect(page).toContain('data-badge=');
      expect(page).toContain("'shed since '");
      // Resumed and backfilled; a later figure below the most reached (a restart) never takes a counter back.
      figures[a] = { tier: 'batch', shed: false, since: undefined, shedWindows: 4, backfilledWindows: 4, pendingIntervals: 0 };
      text = await scrape();
      expect(promValue(text, 'pitwall_metric_shed', { metric: a, tier: 'batch' })).toBe(0);
      expect(promValue(text, 'pitwall_backfilled_windows_total', { metric: a })).toBe(4);
      figures[a] = { ...figures[a], shedWindows: 1, backfilledWindows: 1 };
      text = await scrape();
      expect(promValue(text, 'pitwall_shed_windows_total', { metric: a })).toBe(4);
      expect(promValue(text, 'pitwall_backfilled_windows_total', { metric: a })).toBe(4);
    } finally {
      await app.close();
    }
  });
});
