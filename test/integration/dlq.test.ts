/**
 * The quarantine lane end to end on a real broker: the engine routes rejected payloads to
 * `<topic>.dlq` with the reason and source in headers; inspect groups them; replay publishes
 * repaired ones back to the stream topic.
 */
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { KafkaRunner } from '../../src/hot/kafka-runner.js';
import { loadQueries } from '../../src/plan/index.js';
import { groupByReason, readDlq, replayDlq } from '../../src/sources/dlq-tools.js';
import { generate } from '../../src/sources/generator.js';
import { brokers, createTopic, sampleOrdersProject, testKafka, uniqueName, waitFor } from './support.js';

describe.skipIf(!brokers)('quarantine lane on the broker', () => {
  it('routes bad payloads to <topic>.dlq with reasons; inspect groups them; replay re-publishes fixed ones', async () => {
    if (!brokers) return;
    const kafka = testKafka('dlq-test');
    const topic = uniqueName('orders');
    const dir = sampleOrdersProject('pw-dlq-', topic);
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    const stream = catalog.streams.get('orders');
    if (!stream) throw new Error('no orders stream');
    await createTopic(kafka, topic, 2);

    const generated = generate('food-delivery', 600, { seed: 21, ratePerSec: 20, malformedRate: 0.08 });
    const malformed = generated.filter((g) => g.kind === 'malformed');
    expect(malformed.length).toBeGreaterThan(10);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: generated.map((g) => ({ key: g.key, value: g.value })) });
    await producer.disconnect();

    const runner = new KafkaRunner(catalog, plans, { brokers: [brokers], groupId: uniqueName('dlq-group'), stateDir: join(dir, 'state'), resultsTopic: uniqueName('results'), checkpointIntervalMs: 60_000, fromBeginning: true });
    await runner.start();
    const consumed = await waitFor(() => (runner.engine.stats().streams.orders?.events ?? 0) >= generated.length, 60_000);
    await runner.stop(); // the final checkpoint flushes the DLQ first
    expect(consumed).toBe(true);
    const quarantined = runner.engine.stats().streams.orders?.quarantined ?? 0;
    expect(quarantined).toBe(malformed.length);

    const messages = await readDlq(kafka, stream);
    expect(messages).toHaveLength(malformed.length);
    expect(new Set(messages.map((m) => m.value))).toEqual(new Set(malformed.map((m) => m.value)));
    for (const m of messages) {
      expect(m.code).toMatch(/^PW_PAYLOAD_/);
      expect(m.reason.length).toBeGreaterThan(5);
      expect(m.source).toMatch(new RegExp(`^${topic}/\\d+@\\d+$`));
    }
    const groups = groupByReason(messages);
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(messages.length);
    expect(groups.some((g) => g.code === 'PW_PAYLOAD_BAD_TIMESTAMP')).toBe(true);

    // Repair the unparseable timestamps only; everything else stays quarantined.
    const fixable = messages.filter((m) => m.code === 'PW_PAYLOAD_BAD_TIMESTAMP').length;
    const r = await replayDlq(kafka, stream, messages, (raw, m) => (m.code === 'PW_PAYLOAD_BAD_TIMESTAMP' ? raw.replace('yesterday at noon', '2024-03-15T19:30:00Z') : null));
    expect(r.published).toBe(fixable);
    expect(r.skipped).toBe(messages.length - fixable);
    const offsets = await (async () => { const a = kafka.admin(); await a.connect(); try { return await a.fetchTopicOffsets(topic); } finally { await a.disconnect(); } })();
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(generated.length + fixable);
  });
});
