/**
 * docs/runbook.md names the /metrics series an operator reads on a busy night: every one of them
 * is on a scrape of a server with every kind of figure present (streams, metrics, archive, group,
 * lag, checkpoints, shedding, SSE, reconcile), so the runbook never points at a series that does
 * not exist.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { createServer } from '../../src/serve/server.js';
import { catalog, enrichmentFigures, fixture, handleOf } from './serve-harness.js';

const runbook = readFileSync(new URL('../../docs/runbook.md', import.meta.url), 'utf8');
const named = [...new Set([...runbook.matchAll(/\bpitwall_[a-z0-9_]+/g)].map((m) => m[0]))].sort();

describe('docs/runbook.md', () => {
  it('names series, and each is on /metrics', async () => {
    expect(named.length).toBeGreaterThan(15);
    const f = fixture({ generator: { malformedRate: 0.05 } });
    const archive = new ArchiveWriter(mkdtempSync(join(tmpdir(), 'pw-runbook-')), catalog, { piiKey: 'k', threads: 0 });
    archive.open();
    const counters = { members: 2, rebalances: 1, fenced: 0, skippedFlushes: 0, foreignFlushes: 0 };
    const { app } = await createServer({ store: f.store, handle: handleOf(f.engine, { archive, group: () => counters, lag: () => new Map([['orders:0', 7]]), lastCheckpointAt: () => Date.now(), shed: () => f.engine.shedStats(), enrichment: enrichmentFigures }) });
    try {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const exposed = new Set([...text.matchAll(/^# TYPE (pitwall_[a-z0-9_]+) /gm)].map((m) => m[1]));
      expect(named.filter((n) => !exposed.has(n)), `series the runbook names that /metrics lacks (exposed: ${[...exposed].join(', ')})`).toEqual([]);
    } finally {
      await app.close();
      await archive.close();
    }
  });
});
