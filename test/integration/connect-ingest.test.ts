/**
 * Ingestion through the generated Redpanda Connect pipeline, end to end: the real binary under
 * ConnectSupervisor, HTTP on loopback, a real Kafka broker.
 *
 * (a) 20,000 events, exactly 2% malformed, as single-event and NDJSON requests: every valid
 *     event exactly once in the stream topic (keyed by its partition key), every malformed one in
 *     the DLQ with its reason headers.
 * (b) Connect SIGKILLed mid-stream: the supervisor restarts it, the client retries, nothing is
 *     lost (duplicates are counted, not failed: delivery is at-least-once, pitwall dedups).
 * (c) 15 s of open-loop load at a fixed rate: accepted rate, POST latency, topic count ==
 *     accepted count.
 * Figures are printed one per console.log line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog } from '../../src/catalog/index.js';
import { ConnectSupervisor, generateConnectConfig, ingestUrl } from '../../src/connect/index.js';
import { generate } from '../../src/sources/generator.js';
import { catalogTopics, ensureTopics } from '../../src/sources/topics.js';
import { alive, freePort } from '../connect/free-port.js';
import { brokers, connectBin, testKafka, uniqueName, waitFor } from './support.js';

interface Received { topic: string; key: string | null; value: string; headers: Record<string, string> }

interface Rig { catalog: Catalog; topic: string; url: string; supervisor: ConnectSupervisor; kafka: Kafka }

const supervisors: ConnectSupervisor[] = [];
afterEach(async () => { await Promise.all(supervisors.splice(0).map((s) => s.stop())); });

/** A one-stream catalog (orders on a fresh topic), its topics, and Connect running for it. */
async function rig(): Promise<Rig> {
  const topic = uniqueName('ingest-orders');
  const dir = mkdtempSync(join(tmpdir(), 'pw-ingest-catalog-'));
  writeFileSync(join(dir, 'orders.yaml'), readFileSync('catalog/orders.yaml', 'utf8').replace(/^topic: orders$/m, `topic: ${topic}`));
  const catalog = loadCatalog(dir);
  const kafka = testKafka('connect-ingest');
  await ensureTopics(kafka, catalogTopics(catalog));
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const supervisor = new ConnectSupervisor({
    binary: { command: connectBin as string, args: [], via: 'PITWALL_CONNECT_BIN' },
    // As `pitwall connect --print` writes it with no --brokers: Connect resolves ${PITWALL_BROKERS}.
    configYaml: generateConnectConfig(catalog, { httpAddress }),
    env: { PITWALL_BROKERS: brokers as string },
    httpAddress, readyTimeoutMs: 30_000,
    log: (l) => { if (/ error | warn |supervisor/.test(l)) process.stderr.write(`${l}\n`); },
  });
  supervisors.push(supervisor);
  await supervisor.start();
  return { catalog, topic, url: ingestUrl(httpAddress, 'orders'), supervisor, kafka };
}

/** Consumes `topics` from the beginning into an array until `stop()`. */
async function collect(kafka: Kafka, topics: string[]): Promise<{ got: Received[]; stop: () => Promise<void> }> {
  const consumer = kafka.consumer({ groupId: uniqueName('ingest-check'), maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const got: Received[] = [];
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
        got.push({ topic: batch.topic, key: m.key === null ? null : m.key.toString(), value: m.value?.toString() ?? '', headers });
      }
    },
  });
  return { got, stop: () => consumer.disconnect() };
}

/** Sum of high watermarks per topic (what is in Kafka, whatever a consumer saw). */
async function offsets(kafka: Kafka, topics: string[]): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of topics) out[t] = (await admin.fetchTopicOffsets(t)).reduce((n, p) => n + Number(p.high), 0);
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** POSTs until 200, retrying connection errors, 408 and 5xx; returns the attempts it took. */
async function postUntilAccepted(url: string, body: string, deadlineMs = 60_000): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      await res.arrayBuffer();
      if (res.status === 200) return attempt;
      if (res.status !== 408 && res.status < 500) throw new Error(`POST ${url}: HTTP ${res.status}`);
    } catch (err) {
      if ((err as Error).message.startsWith('POST ')) throw err;
    }
    if (Date.now() > until) throw new Error(`POST ${url}: not accepted within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  }));
}

const idOf = (value: string): string => (JSON.parse(value) as { eventId: string }).eventId;
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

describe.skipIf(!brokers || !connectBin)('ingest through Redpanda Connect (real broker, real binary)', () => {
  it('(a) 20,000 events, 2% malformed: valid ones exactly once, keyed; malformed ones in the DLQ with reasons', async () => {
    const { topic, url, kafka } = await rig();
    const events = generate('food-delivery', 20_000, { malformedRate: 0 }).map((r) => r.value);
    const malformed = new Map<string, string>(); // raw payload → expected code
    const payloads = events.map((value, i) => {
      if (i % 50 !== 25) return value;
      const body = JSON.parse(value) as Record<string, unknown>;
      const kind = Math.floor(i / 50) % 3;
      const [raw, code] = kind === 0 ? [JSON.stringify({ ...body, eventType: undefined }), 'PW_PAYLOAD_MISSING_FIELD']
        : kind === 1 ? [value.slice(0, 40), 'PW_PAYLOAD_NOT_JSON']
          : [JSON.stringify({ ...body, eventTime: 'yesterday at noon' }), 'PW_PAYLOAD_BAD_TIMESTAMP'];
      malformed.set(raw, code);
      return raw;
    });
    expect(malformed.size).toBe(400);
    const valid = new Map(payloads.filter((p) => !malformed.has(p)).map((p) => [idOf(p), JSON.parse(p) as { data: { restaurantId: string } }]));
    expect(valid.size).toBe(19_600);

    // Chunks of 100: every tenth as 100 single-event requests, the others as one NDJSON batch.
    const requests: string[] = [];
    for (let c = 0; c * 100 < payloads.length; c++) {
      const chunk = payloads.slice(c * 100, c * 100 + 100);
      if (c % 10 === 0) requests.push(...chunk);
      else requests.push(`${chunk.join('\n')}\n`);
    }
    const reader = await collect(kafka, [topic, `${topic}.dlq`]);
    let retries = 0;
    const t0 = performance.now();
    await pool(requests, 8, async (body) => { retries += (await postUntilAccepted(url, body)) - 1; });
    const postedS = (performance.now() - t0) / 1000;
    const complete = await waitFor(() => reader.got.length >= 20_000, 60_000);
    const why = complete ? '' : `consumed ${reader.got.length}; high watermarks ${JSON.stringify(await offsets(kafka, [topic, `${topic}.dlq`]))}`;
    const landedS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1_500)); // anything extra (a duplicate) would show up here
    await reader.stop();
    console.log(`connect-ingest: 20000 events (400 malformed) in ${requests.length} POSTs (2000 single, ${requests.length - 2000} NDJSON x100, 8 in flight): all accepted in ${postedS.toFixed(2)} s (${Math.round(20_000 / postedS)} events/s), all in Kafka after ${landedS.toFixed(2)} s; ${retries} retries`);

    expect(complete, why).toBe(true);
    const inTopic = reader.got.filter((m) => m.topic === topic);
    const inDlq = reader.got.filter((m) => m.topic === `${topic}.dlq`);
    expect(inTopic.length).toBe(19_600);
    const ids = inTopic.map((m) => idOf(m.value));
    expect(new Set(ids).size).toBe(19_600);
    expect(ids.every((id) => valid.has(id))).toBe(true);
    expect(inTopic.every((m) => m.key === valid.get(idOf(m.value))?.data.restaurantId)).toBe(true);
    expect(inTopic.every((m) => m.headers['pitwall-error-code'] === undefined)).toBe(true);
    expect(inDlq.length).toBe(400);
    expect(new Set(inDlq.map((m) => m.value))).toEqual(new Set(malformed.keys()));
    for (const m of inDlq) {
      expect(m.headers['pitwall-error-code']).toBe(malformed.get(m.value));
      expect(m.headers['pitwall-error']?.length).toBeGreaterThan(5);
      expect(m.key).toBeNull();
    }
  });

  it('(b) Connect SIGKILLed mid-stream: restarted by the supervisor, client retries, no event lost', async () => {
    const { topic, url, kafka, supervisor } = await rig();
    const events = generate('food-delivery', 20_000, { malformedRate: 0, seed: 7 }).map((r) => r.value);
    const batches: string[] = [];
    for (let i = 0; i < events.length; i += 50) batches.push(`${events.slice(i, i + 50).join('\n')}\n`);
    const reader = await collect(kafka, [topic]);
    const killedPid = supervisor.pid as number;
    let done = 0;
    let retries = 0;
    let restartMs = NaN;
    let restarted: Promise<void> = Promise.resolve();
    await pool(batches, 4, async (body) => {
      retries += (await postUntilAccepted(url, body)) - 1;
      if (++done === Math.floor(batches.length * 0.3)) {
        const t0 = performance.now();
        process.kill(killedPid, 'SIGKILL');
        restarted = (async () => {
          await waitFor(() => !alive(killedPid), 5_000, 10);
          await waitFor(() => supervisor.restarts === 1, 10_000, 10);
          expect(await supervisor.waitReady(30_000)).toBe(true);
          restartMs = performance.now() - t0;
        })();
      }
    });
    await restarted;
    const complete = await waitFor(() => new Set(reader.got.map((m) => idOf(m.value))).size >= events.length, 60_000);
    const why = complete ? '' : `consumed ${reader.got.length}; high watermarks ${JSON.stringify(await offsets(kafka, [topic]))}`;
    await new Promise((r) => setTimeout(r, 1_000));
    await reader.stop();
    const ids = reader.got.map((m) => idOf(m.value));
    const unique = new Set(ids);
    const lost = events.filter((e) => !unique.has(idOf(e))).length;
    console.log(`connect-restart: SIGKILL after ${Math.floor(batches.length * 0.3)} of ${batches.length} batches; ready again ${Math.round(restartMs)} ms after the kill (backoff 500 ms included); restarts ${supervisor.restarts}; ${retries} client retries; ${events.length} events -> ${ids.length} messages, ${unique.size} unique, ${ids.length - unique.size} duplicates, ${lost} lost`);

    expect(complete, why).toBe(true);
    expect(lost).toBe(0);
    expect(supervisor.restarts).toBe(1);
    const secondPid = supervisor.pid as number;
    expect(secondPid).not.toBe(killedPid);
    await supervisor.stop();
    expect(alive(killedPid)).toBe(false);
    expect(alive(secondPid)).toBe(false);
  });

  it('(c) 15 s of open-loop load at 2,000 events/s in batches of 50: accepted rate, p99 latency, topic count == accepted', async () => {
    const { topic, url, kafka } = await rig();
    const RATE = 2_000;
    const BATCH = 50;
    const SECONDS = 15;
    const n = RATE * SECONDS;
    const events = generate('food-delivery', n, { malformedRate: 0, seed: 11 }).map((r) => r.value);
    const batches: string[] = [];
    for (let i = 0; i < n; i += BATCH) batches.push(`${events.slice(i, i + BATCH).join('\n')}\n`);
    const reader = await collect(kafka, [topic]);
    const latencies: number[] = [];
    let accepted = 0;
    let failed = 0;
    const inflight = new Set<Promise<void>>();
    const intervalMs = (1000 * BATCH) / RATE;
    const t0 = performance.now();
    for (let k = 0; k < batches.length; k++) {
      const wait = t0 + k * intervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const started = performance.now();
      const p = fetch(url, { method: 'POST', body: batches[k], headers: { 'content-type': 'application/x-ndjson' } })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) { accepted += BATCH; latencies.push(performance.now() - started); } else failed++;
        }, () => { failed++; })
        .finally(() => { inflight.delete(p); });
      inflight.add(p);
    }
    await Promise.all(inflight);
    const elapsedS = (performance.now() - t0) / 1000;
    const complete = await waitFor(() => reader.got.length >= accepted, 60_000);
    const why = complete ? '' : `consumed ${reader.got.length}; high watermarks ${JSON.stringify(await offsets(kafka, [topic]))}`;
    await new Promise((r) => setTimeout(r, 1_000));
    await reader.stop();
    latencies.sort((a, b) => a - b);
    const unique = new Set(reader.got.map((m) => idOf(m.value))).size;
    console.log(`connect-load: offered ${RATE} events/s in batches of ${BATCH} for ${SECONDS} s (open loop, loopback): accepted ${accepted} events in ${elapsedS.toFixed(1)} s = ${Math.round(accepted / elapsedS)} events/s, ${failed} failed POSTs; POST latency p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms, max ${(latencies[latencies.length - 1] ?? NaN).toFixed(1)} ms; in topic ${reader.got.length} (${unique} unique)`);

    expect(complete, why).toBe(true);
    expect(failed).toBe(0);
    expect(reader.got.length).toBe(accepted);
    expect(unique).toBe(accepted);
  });
});
