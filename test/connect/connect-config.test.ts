/**
 * The generated Connect config: its shape per catalog stream, that the real binary lints it,
 * and that its shape check routes payloads as pitwall's own validator would (run through the
 * binary, stdin to stdout, no broker).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compilePayloadValidator, decodeAndValidate, loadCatalog } from '../../src/catalog/index.js';
import { brokersInterpolation, connectConfigObject, generateConnectConfig } from '../../src/connect/index.js';
import type { PitwallError } from '../../src/errors.js';
import { localConnectBin } from './connect-binary-path.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';

const catalog = loadCatalog('catalog');
const opts = { brokers: ['127.0.0.1:9092'], httpAddress: '127.0.0.1:4195' };
const bin = localConnectBin();

interface Input { label: string; http_server?: { path: string }; file?: { paths: string[] }; stdin?: unknown; processors: unknown[] }
interface Case { check?: string; output: { redpanda: { topic: string; key?: string; seed_brokers: string[]; compression: string; batching: { count: number } } } }

function tmpFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pw-connect-config-')), name);
  writeFileSync(path, text);
  return path;
}

describe('generateConnectConfig', () => {
  it('has one http_server input per stream (not per table), each with the stream\'s shape check', () => {
    const doc = parse(generateConnectConfig(catalog, opts)) as { input: { broker: { inputs: Input[] } }; processor_resources: { label: string; mapping: string }[]; http: { address: string } };
    const streams = [...catalog.streams.values()].filter((s) => s.kind === 'stream');
    expect(doc.http.address).toBe('127.0.0.1:4195');
    expect(doc.input.broker.inputs.map((i) => i.http_server?.path)).toEqual(streams.map((s) => `/ingest/${s.name}`));
    expect(doc.input.broker.inputs.some((i) => i.http_server?.path === '/ingest/rooms')).toBe(false);
    for (const s of streams) {
      const check = doc.processor_resources.find((r) => r.label === `check_${s.name}`);
      expect(check?.mapping).toContain(`"${s.topic}.dlq"`);
    }
  });

  it('writes keyed events through murmur2 and everything else with a null key, batched, uncompressed', () => {
    const doc = connectConfigObject(catalog, opts) as { output: { switch: { cases: Case[] } } };
    const [keyed, unkeyed] = doc.output.switch.cases;
    expect(keyed?.check).toBe('@pitwall_key != null');
    expect(keyed?.output.redpanda.key).toBe('${! @pitwall_key }');
    expect(unkeyed?.check).toBeUndefined();
    expect(unkeyed?.output.redpanda.key).toBeUndefined();
    expect(keyed?.output.redpanda.seed_brokers).toEqual(['${PITWALL_BROKERS:127.0.0.1:9092}']);
    expect(unkeyed?.output.redpanda.seed_brokers).toEqual(['${PITWALL_BROKERS:127.0.0.1:9092}']);
    expect(keyed?.output.redpanda.batching.count).toBe(500);
    // kafkajs, pitwall's consumer, cannot read franz-go's default snappy batches.
    expect([keyed?.output.redpanda.compression, unkeyed?.output.redpanda.compression]).toEqual(['none', 'none']);
  });

  it('adds file and stdin inputs for one named stream, and rejects unknown streams', () => {
    const doc = connectConfigObject(catalog, { ...opts, file: { stream: 'orders', path: '/data/orders.ndjson' }, stdinStream: 'badge_scans' }) as { input: { broker: { inputs: Input[] } } };
    const labels = doc.input.broker.inputs.map((i) => i.label);
    expect(labels).toContain('file_orders');
    expect(labels).toContain('stdin_badge_scans');
    expect(doc.input.broker.inputs.find((i) => i.label === 'file_orders')?.file?.paths).toEqual(['/data/orders.ndjson']);
    const err = (() => { try { connectConfigObject(catalog, { ...opts, stdinStream: 'rooms' }); } catch (e) { return e; } return null; })();
    expect((err as PitwallError).code).toBe('PW_UNKNOWN_STREAM');
    expect(() => connectConfigObject(catalog, { ...opts, inputs: [] })).toThrow(/nothing to ingest/);
    expect(() => connectConfigObject(catalog, { ...opts, httpAddress: 'localhost' })).toThrow(/host:port/);
  });

  it('is deterministic', () => {
    expect(generateConnectConfig(catalog, opts)).toBe(generateConnectConfig(catalog, opts));
  });

  it('reads the brokers from ${PITWALL_BROKERS}, with the given brokers only as its default', () => {
    expect(brokersInterpolation(undefined)).toBe('${PITWALL_BROKERS}');
    expect(brokersInterpolation([])).toBe('${PITWALL_BROKERS}');
    expect(brokersInterpolation(['a:9092', '[::1]:9093'])).toBe('${PITWALL_BROKERS:a:9092,[::1]:9093}');
    for (const bad of ['a', 'a:b', 'a:9092}', 'a:9092,b:9092', 'a b:9092']) {
      expect(() => brokersInterpolation([bad]), bad).toThrow(expect.objectContaining({ code: 'PW_BAD_OPTION' }) as Error);
    }
    const doc = connectConfigObject(catalog, { httpAddress: '127.0.0.1:4195' }) as { output: { switch: { cases: Case[] } } };
    expect(doc.output.switch.cases.map((c) => c.output.redpanda.seed_brokers)).toEqual([['${PITWALL_BROKERS}'], ['${PITWALL_BROKERS}']]);
  });
});

describe.skipIf(!bin)('generated config against the real Redpanda Connect binary', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('passes `redpanda-connect lint` (http only, and with file and stdin inputs)', async () => {
    for (const o of [opts, { ...opts, file: { stream: 'orders', path: '/data/orders.ndjson' }, stdinStream: 'match_events' }]) {
      const cfg = tmpFile('connect.yaml', generateConnectConfig(catalog, o));
      const lint = await execa(bin as string, ['lint', cfg], { reject: false });
      expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
    }
  });

  it('resolves ${PITWALL_BROKERS} from the environment, and names it when it is missing', async () => {
    const cfg = tmpFile('connect.yaml', generateConnectConfig(catalog, { httpAddress: '127.0.0.1:4195' }));
    const env = { ...process.env };
    delete env.PITWALL_BROKERS;
    const missing = await execa(bin as string, ['lint', cfg], { reject: false, env, extendEnv: false });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stdout + missing.stderr).toContain('PITWALL_BROKERS');
    const set = await execa(bin as string, ['lint', cfg], { reject: false, env: { ...env, PITWALL_BROKERS: 'a:9092,b:9092' }, extendEnv: false });
    expect(set.exitCode, set.stdout + set.stderr).toBe(0);
    // What it resolves to: franz-go splits the comma-separated item into two seed brokers.
    const echo = await execa(bin as string, ['echo', cfg], { reject: false, env: { ...env, PITWALL_BROKERS: 'a:9092,b:9092' }, extendEnv: false });
    expect(echo.stdout).toContain('- a:9092,b:9092');
  });

  it('routes payloads like pitwall\'s validator: raw bytes kept, DLQ with code and reason, key from the partition key', async () => {
    const orders = catalog.streams.get('orders');
    if (!orders) throw new Error('sample catalog lacks orders');
    const ok = { eventId: 'e1', eventType: 'order.created', eventTime: '2024-03-15T19:00:00.123Z', data: { restaurantId: 'r7' } };
    const cases: { raw: string; topic: string; key?: string; code?: string; reason?: RegExp; lightOnly?: boolean }[] = [
      { raw: `{ "eventId" : "e0", "eventType":"x", "eventTime":"2024-03-15T19:00:00Z",  "data":{"restaurantId":"r1"} }`, topic: 'orders', key: 'r1' },
      { raw: JSON.stringify({ ...ok, data: {} }), topic: 'orders' },
      { raw: JSON.stringify({ ...ok, eventTime: 1710529200000 }), topic: 'orders', key: 'r7' },
      { raw: JSON.stringify({ ...ok, eventTime: '2024-03-15 19:00:00+01:00' }), topic: 'orders', key: 'r7' },
      { raw: JSON.stringify({ ...ok, data: { restaurantId: 7 } }), topic: 'orders', key: '7', lightOnly: true },
      { raw: '{"eventId": "trunc', topic: 'orders.dlq', code: 'PW_PAYLOAD_NOT_JSON', reason: /not JSON/ },
      { raw: '[1,2]', topic: 'orders.dlq', code: 'PW_PAYLOAD_NOT_OBJECT', reason: /got array/ },
      { raw: 'null', topic: 'orders.dlq', code: 'PW_PAYLOAD_NOT_OBJECT' },
      { raw: JSON.stringify({ ...ok, eventId: undefined }), topic: 'orders.dlq', code: 'PW_PAYLOAD_MISSING_FIELD', reason: /'eventId'/ },
      { raw: JSON.stringify({ ...ok, eventType: null }), topic: 'orders.dlq', code: 'PW_PAYLOAD_MISSING_FIELD', reason: /'eventType'/ },
      { raw: JSON.stringify({ ...ok, eventTime: 'yesterday at noon' }), topic: 'orders.dlq', code: 'PW_PAYLOAD_BAD_TIMESTAMP', reason: /"yesterday at noon"/ },
      { raw: JSON.stringify({ ...ok, eventTime: 1.5 }), topic: 'orders.dlq', code: 'PW_PAYLOAD_BAD_TIMESTAMP' },
    ];
    const config = connectConfigObject(catalog, { ...opts, inputs: ['stdin'], stdinStream: 'orders' });
    const cfg = tmpFile('shape.yaml', stringify({
      ...config,
      http: { enabled: false },
      logger: { level: 'none' },
      output: { stdout: {}, processors: [{ mapping: 'root = {"content": content().string(), "meta": @}' }] },
    }));
    const run = await execa(bin as string, ['run', cfg], { input: `${cases.map((c) => c.raw).join('\n')}\n\n`, reject: false, timeout: 20_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { content: string; meta: Record<string, string | undefined> });
    expect(out.map((o) => o.content)).toEqual(cases.map((c) => c.raw)); // blank lines dropped, bytes untouched
    const validate = compilePayloadValidator(orders);
    cases.forEach((c, i) => {
      const m = (out[i] as { meta: Record<string, string | undefined> }).meta;
      expect(m.pitwall_topic, c.raw).toBe(c.topic);
      expect(m.pitwall_key, c.raw).toBe(c.key);
      expect(m['pitwall-error-code'], c.raw).toBe(c.code);
      if (c.reason) expect(m['pitwall-error'], c.raw).toMatch(c.reason);
      if (!c.lightOnly) expect(decodeAndValidate(c.raw, validate).ok, c.raw).toBe(c.topic === 'orders');
    });
  });
});
