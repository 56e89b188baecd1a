/**
 * /metrics as Prometheus' own linter reads it (../shared/cases/promtool-gauge-total): `promtool
 * check metrics` on a scrape with every series pitwall exposes (streams, metrics, archive, group
 * figures, SSE, histograms) finds nothing, so cumulative `_total` series are counters; and a
 * counter fed by an engine figure never goes back when the figure does (a group member that
 * dropped unsaved work and redoes it). Needs promtool (Debian's prometheus package; .ci/run
 * installs it): skipped with one loud line without it, failed under PITWALL_TEST_REQUIRE=1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { createServer } from '../../src/serve/server.js';
import { catalog, enrichmentFigures, fixture, handleOf, promValue } from './serve-harness.js';

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasPromtool) {
  if (process.env.PITWALL_TEST_REQUIRE === '1') throw new Error('promtool is required (PITWALL_TEST_REQUIRE=1): apt-get install prometheus');
  process.stderr.write('!!! promtool test skipped: promtool missing (enable: apt-get install prometheus)\n');
}

describe('/metrics under promtool', () => {
  it.skipIf(!hasPromtool)('passes `promtool check metrics` with every series present', async () => {
    const f = fixture({ generator: { malformedRate: 0.05 } });
    const archive = new ArchiveWriter(mkdtempSync(join(tmpdir(), 'pw-promtool-')), catalog, { piiKey: 'k', threads: 0 });
    archive.open();
    const counters = { members: 2, rebalances: 3, fenced: 1, skippedFlushes: 4, foreignFlushes: 0 };
    const { app, metrics } = await createServer({ store: f.store, handle: handleOf(f.engine, { archive, group: () => counters, lag: () => new Map([['orders:0', 7]]), lastCheckpointAt: () => Date.now(), shed: () => f.engine.shedStats(), enrichment: enrichmentFigures }) });
    try {
      metrics.latency.observe(0.02);
      metrics.sseResets.inc({ reason: 'behind' });
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toContain('# TYPE pitwall_events_total counter');
      expect(text).toContain('# TYPE pitwall_archive_rows_total counter');
      expect(text).toContain('# TYPE pitwall_group_rebalances_total counter');
      expect(text).toContain('# TYPE pitwall_shed_windows_total counter');
      expect(text).toContain('# TYPE pitwall_backfilled_windows_total counter');
      expect(text).toContain('# TYPE pitwall_metric_shed gauge');
      expect(text).toContain('# TYPE pitwall_enrichment_fallback_total counter');
      expect(text).toContain('# TYPE pitwall_enrichment_requests_total counter');
      expect(text).toContain('# TYPE pitwall_enrichment_cache_hits_total counter');
      expect(text).toContain('# TYPE pitwall_enrichment_breaker_opened_total counter');
      expect(text).toContain('# TYPE pitwall_enrichment_breaker_state gauge');
      expect(text).toContain('# TYPE pitwall_enrichment_waiting gauge');
      expect(text).toContain('pitwall_enrichment_breaker_state{lookup="geo"} 2');
      expect(text).toContain('pitwall_enrichment_window_full_seconds_total{lookup="geo"} 1.5');
      expect(text).toContain('# TYPE pitwall_append_to_result_seconds histogram');
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
      expect(check.status).toBe(0);
    } finally {
      await app.close();
      await archive.close();
    }
  });
});

describe('counters fed by engine figures', () => {
  it('never go back when the figure does, and follow it once it passes the most it reached', async () => {
    const f = fixture();
    const counters = { members: 1, rebalances: 5, fenced: 0, skippedFlushes: 0, foreignFlushes: 0 };
    const { app } = await createServer({ store: f.store, handle: handleOf(f.engine, { group: () => counters }) });
    try {
      const scrape = async (): Promise<number | undefined> => promValue((await app.inject({ method: 'GET', url: '/metrics' })).body, 'pitwall_group_rebalances_total');
      expect(await scrape()).toBe(5);
      counters.rebalances = 3;
      expect(await scrape()).toBe(5);
      counters.rebalances = 8;
      expect(await scrape()).toBe(8);
    } finally {
      await app.close();
    }
  });
});
