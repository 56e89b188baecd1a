/**
 * Incremental checkpoints through the state store: an engine that checkpoints its changes at
 * random points, "crashes" (its memory and any uncommitted changes are lost) and restores from
 * the store gives exactly the results of an uninterrupted run, for every operator kind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/hot/engine.js';
import type { RowChange } from '../../src/hot/operator-types.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { generate } from '../../src/sources/generator.js';
import { StateStore, type CommitInfo } from '../../src/state/state-store.js';
import { ORDERS_YAML, catalogOf, plan } from '../support/cold-harness.js';

const orders = catalogOf(ORDERS_YAML);
const SQLS = [
  `CREATE VIEW a AS SELECT window_start, data.restaurantId AS r, COUNT(*) AS n, SUM(data.orderTotal) AS s, approx_count_distinct(data.customerId) AS u, quantile_cont(data.orderTotal, 0.9) AS p90, MIN(data.customerId) AS lo FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId`,
  `-- emit: on_update\nCREATE VIEW b AS SELECT window_start, window_end, data.customerId AS c, COUNT(*) AS n FROM SESSION(orders, eventTime, INTERVAL '2 minutes') GROUP BY window_start, window_end, data.customerId`,
  `-- emit: on_update\nCREATE VIEW c AS SELECT window_start, r, n FROM (SELECT window_start, data.restaurantId AS r, COUNT(*) AS n, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY COUNT(*) DESC) AS rn FROM HOP(orders, eventTime, INTERVAL '30 seconds', INTERVAL '2 minutes') GROUP BY window_start, data.restaurantId) WHERE rn <= 3`,
  `CREATE VIEW d AS SELECT window_start, data.customerId AS c, COUNT(DISTINCT data.restaurantId) AS k FROM TUMBLE(orders, eventTime, INTERVAL '5 minutes') GROUP BY window_start, data.customerId HAVING COUNT(*) > 1`,
  // CUMULATE: windows stored under their end (those of a period share their start).
  `-- emit: on_update\nCREATE VIEW e AS SELECT window_start, window_end, r, n FROM (SELECT window_start, window_end, data.restaurantId AS r, COUNT(*) AS n, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY COUNT(*) DESC) AS rn FROM CUMULATE(orders, eventTime, INTERVAL '30 seconds', INTERVAL '3 minutes') GROUP BY window_start, window_end, data.restaurantId) WHERE rn <= 3`,
];
const plans = SQLS.map((s) => plan(s, orders));
const PARTITIONS = 3;
const records: RawRecord[] = (() => {
  const next = new Map<number, number>();
  return generate('food-delivery', 4000, { seed: 11, ratePerSec: 5, duplicateRate: 0.1, lateRate: 0.05, malformedRate: 0.02, keys: 40 }).map((r, i) => {
    const partition = i % PARTITIONS;
    const offset = next.get(partition) ?? 0;
    next.set(partition, offset + 1);
    return { partition, offset, value: r.value };
  });
})();
const BATCH = 50;

function collector(): { results: ResultCollector; sink: { result: (p: typeof plans[number], c: RowChange) => void } } {
  const results = new ResultCollector();
  return { results, sink: { result: (p, c) => results.apply(p, c) } };
}

/** One checkpoint as the Kafka runner takes it (without the output flushes): capture, hand over, commit. */
async function checkpoint(engine: Engine, store: StateStore): Promise<CommitInfo> {
  const cut = engine.captureChanges();
  await store.send(cut.ops);
  const info = await store.commit();
  cut.committed();
  return info;
}

function uninterrupted(): ResultCollector {
  const { results, sink } = collector();
  const engine = new Engine(orders, plans, sink);
  for (let i = 0; i < records.length; i += BATCH) engine.process('orders', records.slice(i, i + BATCH), 0);
  engine.endOfInput();
  return results;
}

/** A seeded choice of where to checkpoint, whether the commit "fails", and where to crash. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

async function withCrashes(seed: number): Promise<{ results: ResultCollector; commits: number; restores: number }> {
  const r = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'pw-incr-'));
  const { results, sink } = collector();
  let store = new StateStore(dir);
  let engine = new Engine(orders, plans, sink);
  engine.trackChanges(store.reader);
  let commits = 0;
  let restores = 0;
  let i = 0;
  while (i < records.length) {
    engine.process('orders', records.slice(i, i + BATCH), 0);
    i += BATCH;
    const roll = r();
    if (roll < 0.3) {
      const cut = engine.captureChanges();
      await store.send(cut.ops);
      if (r() < 0.8) { await store.commit(); cut.committed(); commits++; } // else: the flush "failed", the changes wait in the writer
    } else if (roll < 0.34 && restores < 3) {
      // Crash: memory and uncommitted changes are gone; the source re-delivers from the start
      // and the engine skips offsets the restored state already holds.
      await store.close();
      store = new StateStore(dir);
      engine = new Engine(orders, plans, sink);
      engine.trackChanges(store.reader);
      expect(await engine.restoreStored(store.reader, 0)).toEqual([]);
      restores++;
      i = 0;
    }
  }
  engine.endOfInput();
  await store.close();
  return { results, commits, restores };
}

describe('incremental checkpoints', () => {
  const whole = uninterrupted();

  it.each([1, 2, 3, 4, 5])('crash and restore at random points (seed %i) gives the uninterrupted results', async (seed) => {
    const { results, commits, restores } = await withCrashes(seed);
    expect(commits).toBeGreaterThan(0);
    expect(restores).toBeGreaterThan(0);
    for (const p of plans) expect(results.rows(p)).toEqual(whole.rows(p));
  }, 60_000);

  it('writes only what changed: a second checkpoint with no new events writes only meta records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-incr-'));
    const store = new StateStore(dir);
    const engine = new Engine(orders, plans, collector().sink);
    engine.trackChanges(store.reader);
    engine.process('orders', records.slice(0, 2000), 0);
    const first = await checkpoint(engine, store);
    const second = await checkpoint(engine, store);
    expect(first.ops).toBeGreaterThan(1000);
    // format, checkpoint, one meta per metric, the stream's meta and one per partition
    expect(second.ops).toBe(2 + plans.length + 1 + PARTITIONS);
    expect(second.bytes).toBeLessThan(first.bytes / 20);
    await store.close();
  });

  it('a changed definition starts empty and its stored state is deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-incr-'));
    let store = new StateStore(dir);
    let engine = new Engine(orders, plans, collector().sink);
    engine.trackChanges(store.reader);
    engine.process('orders', records.slice(0, 1000), 0);
    await checkpoint(engine, store);
    await store.close();
    const changed = [plan(SQLS[0]!.replace('COUNT(*) AS n', 'COUNT(*) AS cnt'), orders), ...plans.slice(1, 3)];
    store = new StateStore(dir);
    engine = new Engine(orders, changed, collector().sink);
    engine.trackChanges(store.reader);
    expect(await engine.restoreStored(store.reader, 0)).toEqual(['a']);
    expect(engine.stateSize().a?.groups).toBe(0);
    expect(engine.stateSize().b?.groups).toBeGreaterThan(0);
    await checkpoint(engine, store);
    expect([...store.reader.scan('groups', ['a'])]).toHaveLength(0);
    expect([...store.reader.scan('groups', ['d'])]).toHaveLength(0); // no longer defined
    expect(store.reader.get('meta', ['metric', 'd'])).toBeUndefined();
    await store.close();
  });

  it('a whole-state JSON snapshot (an earlier checkpoint.json) restored into a tracking engine is written whole by the next capture', async () => {
    const half = Math.floor(records.length / 2);
    const { results, sink } = collector();
    const legacy = new Engine(orders, plans, sink);
    for (let i = 0; i < half; i += BATCH) legacy.process('orders', records.slice(i, Math.min(i + BATCH, half)), 0);
    const json = JSON.parse(JSON.stringify(legacy.snapshot())) as ReturnType<Engine['snapshot']>;
    const dir = mkdtempSync(join(tmpdir(), 'pw-incr-'));
    let store = new StateStore(dir);
    let engine = new Engine(orders, plans, sink);
    engine.trackChanges(store.reader);
    expect(engine.restore(json, 0)).toEqual([]);
    await checkpoint(engine, store);
    await store.close();
    store = new StateStore(dir);
    engine = new Engine(orders, plans, sink);
    engine.trackChanges(store.reader);
    await engine.restoreStored(store.reader, 0);
    for (let i = 0; i < records.length; i += BATCH) engine.process('orders', records.slice(i, i + BATCH), 0);
    engine.endOfInput();
    await store.close();
    for (const p of plans) expect(results.rows(p)).toEqual(whole.rows(p));
  });

  it('restores the same from a reader without the store thread (groups scanned on this thread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-incr-'));
    const store = new StateStore(dir);
    const { results, sink } = collector();
    let engine = new Engine(orders, plans, sink);
    engine.trackChanges(store.reader);
    const half = Math.floor(records.length / 2);
    engine.process('orders', records.slice(0, half), 0);
    await checkpoint(engine, store);
    const { groupChunks: _threaded, ...sync } = store.reader;
    engine = new Engine(orders, plans, sink);
    engine.trackChanges(sync);
    await engine.restoreStored(sync, 0);
    for (let i = 0; i < records.length; i += BATCH) engine.process('orders', records.slice(i, i + BATCH), 0);
    engine.endOfInput();
    await store.close();
    for (const p of plans) expect(results.rows(p)).toEqual(whole.rows(p));
  });

  it('refuses to commit into a store whose file was removed under it (LMDB would write to the unlinked file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-incr-'));
    const store = new StateStore(dir);
    await store.send([{ op: 'put', db: 'meta', key: ['format'], value: 3 }]);
    await store.commit();
    rmSync(join(dir, 'state.lmdb'));
    await store.send([{ op: 'put', db: 'meta', key: ['format'], value: 3 }]);
    await expect(store.commit()).rejects.toMatchObject({ code: 'PW_STATE_STORE', message: expect.stringMatching(/removed or replaced/) });
    await store.close();
  });
});
