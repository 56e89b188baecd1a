/**
 * Ids forgotten at the per-partition dedup cap are never silent: counted by the filter, kept in
 * checkpoints, written to replay's `_summary.json` and exposed as `pitwall_dedup_evicted_total`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { DedupFilter } from '../../src/hot/dedup.js';
import { Engine } from '../../src/hot/engine.js';
import { replay } from '../../src/hot/replay.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { loadQueries } from '../../src/plan/index.js';
import { PitwallMetrics } from '../../src/serve/prom-metrics.js';

const DEFS = join(process.cwd(), 'test', 'cli', 'fixtures', 'dedup-cap'); // stream k, dedup_ttl 1d; total_1h counts per hour
const catalog = loadCatalog(join(DEFS, 'catalog'));
const plans = loadQueries(join(DEFS, 'queries'), catalog);
const BASE = Date.UTC(2024, 2, 15, 19);
const line = (i: number): string => JSON.stringify({ id: `i${i}`, ts: BASE + i * 1000, g: `g${i}` });
const records = (ids: readonly number[], from = 0): RawRecord[] => ids.map((i, n) => ({ partition: 0, offset: from + n, value: line(i) }));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** Processing time for the engine: the events are not in its future. */
const NOW = BASE + 86_400_000;

describe('DedupFilter evictions', () => {
  it('are kept in its snapshot; a bare per-partition list from older checkpoints still restores', () => {
    const d = new DedupFilter(60_000, 2);
    for (const id of ['a', 'b', 'c', 'd']) d.isDuplicate(0, id, 0);
    expect(d.evicted).toBe(2);
    expect(d.maxIds).toBe(2);
    const restored = new DedupFilter(60_000, 2);
    restored.restore(JSON.parse(JSON.stringify(d.snapshot())));
    expect(restored.evicted).toBe(2);
    expect(restored.isDuplicate(0, 'd', 0)).toBe(true);
    const legacy = new DedupFilter(60_000, 2);
    legacy.restore([[0, [['c', 0], ['d', 0]]]]);
    expect(legacy.evicted).toBe(0);
    expect(legacy.isDuplicate(0, 'c', 0)).toBe(true);
  });

  it('survive an engine checkpoint and restore', () => {
    const engine = new Engine(catalog, plans, { result: () => undefined }, { maxDedupIds: 10 });
    engine.process('k', records(range(25)), NOW);
    expect(engine.stream('k').dedup.evicted).toBe(15);
    const again = new Engine(catalog, plans, { result: () => undefined }, { maxDedupIds: 10 });
    again.restore(JSON.parse(JSON.stringify(engine.snapshot())), NOW);
    expect(again.stream('k').dedup.evicted).toBe(15);
  });
});

describe('reporting', () => {
  it('replay writes dedupEvicted per stream to _summary.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-dedup-cap-'));
    const input = join(dir, 'k.ndjson');
    writeFileSync(input, `${[...range(30), 0, 1, 2].map(line).join('\n')}\n`);
    const summary = await replay(catalog, plans, [{ stream: 'k', file: input }], join(dir, 'out'), { maxDedupIds: 10 });
    // 20 forgotten past the cap, then the 3 redelivered ids come back as new and push 3 more out.
    expect(summary.streams.k).toMatchObject({ events: 33, accepted: 33, duplicates: 0, dedupEvicted: 23 });
    const written = JSON.parse(readFileSync(join(dir, 'out', '_summary.json'), 'utf8')) as { streams: Record<string, { dedupEvicted: number }> };
    expect(written.streams.k?.dedupEvicted).toBe(23);
    const roomy = await replay(catalog, plans, [{ stream: 'k', file: input }], join(dir, 'roomy'));
    expect(roomy.streams.k).toMatchObject({ duplicates: 3, dedupEvicted: 0 });
  });

  it('/metrics has pitwall_dedup_evicted_total, a counter per stream that follows the engine', async () => {
    const engine = new Engine(catalog, plans, { result: () => undefined }, { maxDedupIds: 10 });
    const metrics = new PitwallMetrics({ plans, engine, lag: () => new Map(), lastCheckpointAt: () => undefined });
    const value = async (): Promise<string> => {
      const text = await metrics.registry.metrics();
      expect(text).toContain('# TYPE pitwall_dedup_evicted_total counter');
      return /^pitwall_dedup_evicted_total\{stream="k"\} (\S+)$/m.exec(text)?.[1] ?? 'absent';
    };
    expect(await value()).toBe('0');
    engine.process('k', records(range(25)), NOW);
    expect(await value()).toBe('15');
    expect(await value()).toBe('15'); // a scrape does not count twice
    engine.process('k', records(range(30).map((i) => i + 100), 25), NOW);
    expect(await value()).toBe('45');
  });
});
