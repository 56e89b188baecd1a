/**
 * Reading and repairing a stream's quarantine lane on the broker (`<topic>.dlq`): read every
 * message up to the end offsets seen at start (bounded), group them by reason, and re-publish
 * repaired payloads to the stream topic.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Partitioners } from './kafkajs.js';
import { compilePayloadValidator, decodeAndValidate, getPath, type StreamDef } from '../catalog/index.js';
import { DLQ_HEADERS } from '../sinks/dlq-topic.js';
import { sendInRequests } from '../sinks/topic-outbox.js';

export interface DlqMessage {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  readonly code: string;
  readonly reason: string;
  readonly source: string;
}

/** Every message of `<topic>.dlq` present when called, in partition/offset order. */
export async function readDlq(kafka: Kafka, stream: StreamDef, timeoutMs = 60_000): Promise<DlqMessage[]> {
  const topic = `${stream.topic}.dlq`;
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    ends = (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: o.high, low: o.low }));
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));
  const out: DlqMessage[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `pitwall-dlq-reader-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const end = remaining.get(partition);
        if (end === undefined || Number(message.offset) >= end) return;
        const h = (name: string): string => message.headers?.[name]?.toString() ?? '';
        out.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '', code: h(DLQ_HEADERS.code) || '(no code header)', reason: h(DLQ_HEADERS.reason), source: `${h(DLQ_HEADERS.topic)}/${h(DLQ_HEADERS.partition)}@${h(DLQ_HEADERS.offset)}` });
        if (Number(message.offset) + 1 >= end) remaining.delete(partition);
        if (remaining.size === 0) done();
      },
    });
    await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export interface ReasonGroup { readonly code: string; readonly reason: string; readonly count: number; readonly sample: string }

/** Groups by code and reason (reasons that differ only in quoted values or positions merge). */
export function groupByReason(messages: readonly DlqMessage[]): ReasonGroup[] {
  const groups = new Map<string, { code: string; reason: string; count: number; sample: string }>();
  for (const m of messages) {
    const shape = m.reason.replace(/"[^"]*"|\d+/g, '…');
    const key = `${m.code}|${shape}`;
    const g = groups.get(key);
    if (g) g.count++; else groups.set(key, { code: m.code, reason: shape, count: 1, sample: m.value.slice(0, 200) });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** A repair function: the raw payload in, the fixed payload out, or null to leave it quarantined. */
export type FixFunction = (raw: string, message: DlqMessage) => string | null | Promise<string | null>;

/**
 * Re-publishes repaired payloads to the stream topic, keyed by the partition key. Payloads
 * that still fail validation are not published (counted), so a bad fix cannot loop.
 */
export async function replayDlq(kafka: Kafka, stream: StreamDef, messages: readonly DlqMessage[], fix: FixFunction): Promise<{ published: number; skipped: number; stillInvalid: number }> {
  const validate = compilePayloadValidator(stream);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let skipped = 0;
  let stillInvalid = 0;
  const batch: { key: string | null; value: string }[] = [];
  try {
    for (const m of messages) {
      const fixed = await fix(m.value, m);
      if (fixed === null) { skipped++; continue; }
      const v = decodeAndValidate(fixed, validate);
      if (!v.ok) { stillInvalid++; continue; }
      const key = stream.partitionKey ? getPath(v.payload, stream.partitionKey.split('.')) : undefined;
      batch.push({ key: key === undefined || key === null ? null : String(key), value: fixed });
    }
    await sendInRequests(producer, stream.topic, batch); // below the broker's request limit, in order
  } finally {
    await producer.disconnect();
  }
  return { published: batch.length, skipped, stillInvalid };
}
