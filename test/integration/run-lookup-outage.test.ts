/**
 * An external lookup (catalog `kind: lookup`) under `pitwall run`, on a real broker, in both
 * modes: `--single` (the runner's enrichment stage in front of the engine) and member threads
 * (each member's phase one asks, over a 2-partition topic). The
 * lookup service on 127.0.0.1 answers, goes dead (hangs) for a few seconds, then recovers, while
 * events flow. The breaker opens, fallbacks are counted on /metrics, the stream keeps being
 * consumed through the outage, and after a clean stop the final rows on the results topic
 * reconcile with `pitwall recompute --archive` of the run's archive (the answers used, fallbacks
 * included, are replayed from the archive's enrichment lane).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { recompute } from '../../src/cold/recompute.js';
import { loadQueries } from '../../src/plan/index.js';
import { hashPii, reconcileMetric } from '../../src/reconcile/reconcile.js';
import { lateLane } from '../../src/reconcile/self-reconcile.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { freePort } from '../connect/free-port.js';
import { LOOKUP_METRIC } from '../hot/enrichment/fixture.js';
import { LookupServer } from '../hot/enrichment/lookup-server.js';
import { promValue } from '../serve/serve-harness.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, createTopic, readResults, testKafka, uniqueName, waitFor } from './support.js';

const PII_KEY = 'lookup-outage';
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
/** Events, one per second of event time (10 one-minute windows), sent at 100 per second. */
const EVENTS = 600;

function project(topic: string, port: number, partitions: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pw-run-lookup-'));
  mkdirSync(join(dir, 'catalog'));
  writeFileSync(join(dir, 'catalog', 'scans.yaml'), `name: scans
topic: ${topic}
partitions: ${partitions}
event_id: eventId
event_time: eventTime
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  data.roomId: { type: string }
`);
  // No cache: every event asks the service, so the outage shows on every event. A 1 s breaker
  // window: the 3.5 s outage fills it with failures whatever the successes before (over a 10 s
  // window, the calls failing in the outage against the 50 answers a second before it sat at
  // the 50 % threshold, and the breaker opened or not by chance).
  writeFileSync(join(dir, 'catalog', 'room_info.yaml'), `name: room_info
kind: lookup
url: "http://127.0.0.1:${port}/rooms/{roomId}"
key: roomId
timeout: 200ms
concurrency: 4
max_in_flight: 64
cache: { size: 0 }
breaker: { error_threshold: 50, volume_threshold: 5, reset_timeout: 1s, window: 1s }
fields:
  roomId: { type: string, required: true }
  name: { type: string }
  capacity: { type: int }
`);
  mkdirSync(join(dir, 'queries'));
  writeFileSync(join(dir, 'queries', 'room_fill.sql'), LOOKUP_METRIC);
  return dir;
}

function scanEvent(i: number, timeMs: number): { value: string } {
  return { value: JSON.stringify({ eventId: `e${i}`, eventTime: new Date(timeMs).toISOString(), data: { roomId: `r${i % 40}` } }) };
}

async function scrape(port: number): Promise<string> {
  try { return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(); } catch { return ''; }
}

const MODES = [
  { mode: '--single', args: ['--single'], partitions: 1 },
  { mode: 'member threads', args: ['--workers', '2'], partitions: 2 },
];

describe.skipIf(!brokers).each(MODES)('pitwall run ($mode): an external lookup that goes down and recovers', ({ args, partitions }) => {
  it('keeps consuming through the outage (breaker open, fallbacks counted), and its final rows reconcile with the archive', async () => {
    if (!brokers) return;
    const server = new LookupServer();
    const lookupPort = await server.start();
    const topic = uniqueName('scans');
    const dir = project(topic, lookupPort, partitions);
    const kafka = testKafka('run-lookup-test');
    await createTopic(kafka, topic, partitions);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const resultsTopic = uniqueName('run-lookup-results');
    const port = await freePort();
    const proc = execa('node', ['bin/pitwall.js', 'run', ...args, '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers,
      '--state-dir', join(dir, 'state'), '--archive', join(dir, 'archive'), '--group', uniqueName('run-lookup-g'), '--results-topic', resultsTopic,
      '--checkpoint-interval', '500ms', '--from-beginning', '--port', String(port)],
    { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env: { PITWALL_PII_KEY: PII_KEY }, forceKillAfterDelay: 30_000 });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const consumed = async (): Promise<number> => promValue(await scrape(port), 'pitwall_events_total', { stream: 'scans' }) ?? 0;
    let results: Awaited<ReturnType<typeof readResults>> | undefined;
    try {
      expect(await waitFor(async () => (await scrape(port)).includes('pitwall_enrichment_breaker_state'), 60_000, 200), stderr).toBe(true);
      // Bounded: EVENTS / 10 sends, 100 ms apart (about 6 s); the service is dead for 3.5 s in the middle.
      let sawOpen = false;
      const duringOutage: number[] = [];
      for (let i = 0; i < EVENTS; i += 10) {
        if (i === 100) server.mode = 'hang';
        if (i === 450) server.mode = 'ok';
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, k) => scanEvent(i + k, T0 + (i + k) * 1000)) });
        if (i >= 100 && i < 450 && i % 50 === 0) {
          const text = await scrape(port);
          if (promValue(text, 'pitwall_enrichment_breaker_state', { lookup: 'room_info' }) === 2) sawOpen = true;
          duringOutage.push(promValue(text, 'pitwall_events_total', { stream: 'scans' }) ?? 0);
        }
        await sleep(100);
      }
      // Closes every window of the run, on every partition (no lookup asked: a NULL key).
      await producer.send({ topic, acks: -1, messages: Array.from({ length: partitions }, (_, p) => ({ partition: p, value: JSON.stringify({ eventId: `close${p}`, eventTime: new Date(T0 + 3_600_000).toISOString(), data: {} }) })) });
      expect(await waitFor(async () => (await consumed()) >= EVENTS + partitions, 30_000, 250), stderr).toBe(true);
      const text = await scrape(port);
      const fallbacks = ['breaker_open', 'timeout', 'network', 'http_status', 'bad_response'].reduce((n, reason) => n + (promValue(text, 'pitwall_enrichment_fallback_total', { lookup: 'room_info', reason }) ?? 0), 0);
      expect(fallbacks, text).toBeGreaterThan(0);
      expect(promValue(text, 'pitwall_enrichment_fallback_total', { lookup: 'room_info', reason: 'breaker_open' }), text).toBeGreaterThan(0);
      expect(promValue(text, 'pitwall_enrichment_breaker_opened_total', { lookup: 'room_info' }), text).toBeGreaterThan(0);
      expect(promValue(text, 'pitwall_enrichment_requests_total', { lookup: 'room_info', outcome: 'answered' }), text).toBeGreaterThan(0);
      // The breaker seen open on a scrape, or at least opened once (a scrape may fall in a half-open trial).
      expect(sawOpen || (promValue(text, 'pitwall_enrichment_breaker_opened_total', { lookup: 'room_info' }) ?? 0) > 0).toBe(true);
      // The stream kept being consumed while the service was dead.
      expect(duringOutage.length).toBeGreaterThan(2);
      expect(duringOutage[duringOutage.length - 1] as number, duringOutage.join(',')).toBeGreaterThan(duringOutage[0] as number);
      // Recovered: the breaker closed again.
      expect(await waitFor(async () => promValue(await scrape(port), 'pitwall_enrichment_breaker_state', { lookup: 'room_info' }) === 0, 10_000, 250)).toBe(true);

      proc.kill('SIGTERM');
      const done = await proc;
      expect(done.exitCode, stderr).toBe(0);
      expect(stderr).not.toContain('PW_RUN_JOIN');

      const catalog = loadCatalog(join(dir, 'catalog'));
      const plans = loadQueries(join(dir, 'queries'), catalog);
      const untilMs = T0 + 9 * 60_000;
      results = await readResults(kafka, resultsTopic);
      expect(await results.drained(20_000)).toBe(true);
      const hot = results.finals(['room_fill'], untilMs).get('room_fill') ?? [];
      const cold = join(dir, 'cold');
      await recompute(catalog, plans, { archive: join(dir, 'archive') }, cold);
      const coldRows = readFileSync(join(cold, 'room_fill.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow)
        .filter((r) => Date.parse(String(r.window_start)) <= untilMs);
      // Rows with the service's names and rows that fell back (room NULL) both made it.
      expect(hot.some((r) => r.room === null)).toBe(true);
      expect(hot.some((r) => typeof r.room === 'string')).toBe(true);
      const plan = plans[0];
      if (!plan) throw new Error('no plan');
      const late = await lateLane(join(dir, 'archive'), ['scans']);
      const r = reconcileMetric(plan, hashPii(plan, hot as ResultRow[], PII_KEY), coldRows, late).summary;
      expect(r, JSON.stringify(r)).toMatchObject({ unexplained: 0, falseLatePairs: 0 });
      expect(r.matches).toBe(coldRows.length);
      expect(hot.length).toBe(coldRows.length);
    } finally {
      if (proc.exitCode === null) { proc.kill('SIGKILL'); await proc; }
      await results?.stop();
      await producer.disconnect();
      await server.stop();
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});
