/**
 * Several group members on the real broker (src/hot/member-runner.ts), in this process: a
 * 6-partition topic keyed by restaurant, two members from the start, a third joining mid-stream
 * and one of the first two leaving; metrics grouped by the partition key (restaurant: TUMBLE,
 * a HOP top-N, a quantile sketch) and by another key (customer sessions, through the partials
 * topic). Final rows equal one uninterrupted engine's over the same events: nothing lost,
 * nothing counted twice across the moves.
 */
// First: kafkajs must load through pitwall's module (its read_committed filter), before support.ts loads it.
import '../../src/sources/kafkajs.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { MemberRunner } from '../../src/hot/member-runner.js';
import { loadQueries } from '../../src/plan/index.js';
import { runHot } from '../support/parity.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, createTopic, ordersProjectWith, readResults, sendToPartitions, testKafka, uniqueName, waitFor, withOffsets } from './support.js';
import { closingEvents, GROUP_METRICS, GROUP_PARTITIONS, GROUP_START_MS, groupDeliveries } from './group-scenario.js';

const ORDERS = 24_000;
const SPAN_MS = 20 * 60_000;

describe.skipIf(!brokers)('a group of members sharing a topic', () => {
  it('gives one engine\'s final rows while members join and leave', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 240_000) }, async () => {
    if (!brokers) return;
    const kafka = testKafka('group-members');
    const topic = uniqueName('orders-group');
    const resultsTopic = uniqueName('results-group');
    const group = uniqueName('group');
    const prefix = uniqueName('pw');
    const dir = ordersProjectWith('pw-group-', topic, GROUP_METRICS);
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    await createTopic(kafka, topic, GROUP_PARTITIONS);
    const events = groupDeliveries(4417, ORDERS, SPAN_MS, false);
    const expected = runHot(catalog, plans, 'orders', withOffsets(events));
    expect(expected.stats.streams.orders?.late).toBe(0);
    expect(expected.stats.streams.orders?.duplicates).toBeGreaterThan(0);

    const stateDir = mkdtempSync(join(tmpdir(), 'pw-group-state-'));
    const logs: string[] = [];
    const broker = brokers;
    const member = (name: string): MemberRunner => new MemberRunner(catalog, plans, {
      brokers: [broker], groupId: group, stateDir, resultsTopic, checkpointIntervalMs: 500, fromBeginning: true,
      partialsPrefix: prefix, memberId: name, log: (m) => logs.push(m),
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const send = (from: number, to: number): Promise<void> => sendToPartitions(producer, topic, events, from, to);
    const debug = setInterval(() => {
      for (const m of [a, b, c]) {
        if (!m) continue;
        const wm = m.streams.map((st) => `${st.stream.name}: wm ${st.watermark.watermarkMs} parts ${JSON.stringify(st.watermark.partitions())} floors ${JSON.stringify([...(st.floors ?? [])])} offs ${JSON.stringify([...st.offsets])}`).join('; ');
        logs.push(`[${m.id}] ${wm} merge ${JSON.stringify(m.mergeWatermarks())} cp ${m.checkpoints} ${JSON.stringify(m.counters)}`);
      }
    }, 5000);
    const a = member('a');
    const b = member('b');
    let c: MemberRunner | undefined;
    let results: Awaited<ReturnType<typeof readResults>> | undefined;
    try {
      await Promise.all([a.start(), b.start()]);
      results = await readResults(kafka, resultsTopic);
      const reader = results;
      const third = Math.floor(events.length / 3);
      await send(0, third);
      await waitFor(() => a.checkpoints + b.checkpoints > 6, 60_000);
      // The open windows phase two holds read as provisional rows (for the serving store only).
      const provisional = [...a.provisional.changes(), ...b.provisional.changes()];
      expect(provisional.some(([p, ch]) => p.emit === 'on_window_close' && ch.kind === 'upsert' && !ch.final)).toBe(true);
      expect(provisional.every(([, ch]) => !ch.final)).toBe(true);
      c = member('c');
      await c.start();
      await send(third, 2 * third);
      await waitFor(() => (c as MemberRunner).checkpoints > 4, 60_000);
      await b.stop();
      await send(2 * third, events.length);
      await producer.send({ topic, messages: closingEvents(GROUP_START_MS + SPAN_MS) });
      const want = new Map(plans.map((p) => [p.name, expected.rows.get(p.name) ?? []]));
      const total = [...want.values()].reduce((n, rows) => n + rows.length, 0);
      const until = GROUP_START_MS + SPAN_MS + 3_600_000;
      const done = await waitFor(() => [...reader.finals(plans.map((p) => p.name), until).values()].reduce((n, rows) => n + rows.length, 0) >= total, 120_000, 500);
      await reader.drained(30_000);
      const got = reader.finals(plans.map((p) => p.name), until);
      const counts = plans.map((p) => `${p.name}: ${got.get(p.name)?.length ?? 0}/${want.get(p.name)?.length ?? 0}`).join(', ');
      const sort = (rows: readonly Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
      for (const p of plans) expect(sort(got.get(p.name) ?? []), `${p.name} (finished: ${done}; ${counts}); log:\n${logs.slice(-60).join('\n')}`).toEqual(sort(want.get(p.name) ?? []));
      // One state directory for all: no member sees another store.
      expect([a, b, c].map((m) => m.groupError)).toEqual([undefined, undefined, undefined]);
      const stats = [a, c].map((m) => m.stats());
      expect(stats.reduce((n, s) => n + Object.values(s.metrics).reduce((k, m) => k + (m.partialsAfterClose ?? 0), 0), 0)).toBe(0);
    } finally {
      clearInterval(debug);
      await Promise.allSettled([a.stop(), b.stop(), c?.stop()]);
      await results?.stop();
      await producer.disconnect();
    }
  });

  it('says loudly when members of one group keep their state in different directories', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 120_000) }, async () => {
    await splitGroup('shared', '--state-dir');
  });

  it('says loudly when members of one group use different --state-sync', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 120_000) }, async () => {
    await splitGroup('changelog', '--state-sync');
  });
});

/** Two members of one group that cannot share state: `b` runs with `bSync` and its own state directory; one of them must say so, naming `says`. */
async function splitGroup(bSync: 'shared' | 'changelog', says: string): Promise<void> {
  if (!brokers) return;
  const kafka = testKafka('group-split');
  const topic = uniqueName('orders-split');
  const group = uniqueName('split');
  const dir = ordersProjectWith('pw-split-', topic, { rest_minute: GROUP_METRICS.rest_minute as string });
  const catalog = loadCatalog(join(dir, 'catalog'));
  const plans = loadQueries(join(dir, 'queries'), catalog);
  await createTopic(kafka, topic, GROUP_PARTITIONS);
  const broker = brokers;
  const member = (name: string, stateSync: 'shared' | 'changelog' = 'shared'): MemberRunner => new MemberRunner(catalog, plans, {
    brokers: [broker], groupId: group, stateDir: mkdtempSync(join(tmpdir(), `pw-split-${name}-`)), resultsTopic: uniqueName('results-split'),
    checkpointIntervalMs: 300, fromBeginning: true, memberId: name, stateSync,
  });
  const a = member('a');
  const b = member('b', bSync);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await Promise.all([a.start(), b.start()]);
    await producer.connect();
    const events = groupDeliveries(11, 3000, 60_000, false);
    await sendToPartitions(producer, topic, events, 0, events.length);
    expect(await waitFor(() => a.groupError !== undefined || b.groupError !== undefined, 60_000, 200)).toBe(true);
    const said = a.groupError ?? b.groupError ?? '';
    expect(said).toContain(says);
    expect(a.counters.foreignFlushes + b.counters.foreignFlushes).toBeGreaterThan(0);
  } finally {
    await Promise.allSettled([a.stop(), b.stop(), producer.disconnect()]);
  }
}
