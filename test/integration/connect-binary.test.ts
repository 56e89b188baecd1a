import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { brokers, connectBin, testKafka, uniqueName, waitFor } from './support.js';

const EVENTS = 1000;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe.skipIf(!brokers || !connectBin)('custom Redpanda Connect binary', () => {
  const kafka = brokers ? testKafka('connect-test') : null;
  const admin = kafka?.admin();
  afterAll(async () => { await admin?.disconnect(); });

  it('carries stdin lines to a Kafka topic, then stops cleanly on SIGTERM', async () => {
    if (!kafka || !admin || !connectBin || !brokers) return;
    const topic = uniqueName('connect');
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const config = [
      'http: { enabled: false }',
      'logger: { level: warn, format: json }',
      'input: { stdin: { codec: lines } }',
      'pipeline: { processors: [ { mapping: \'root = this.merge({"via": "connect"})\' } ] }',
      `output: { kafka_franz: { seed_brokers: ["${brokers}"], topic: "${topic}", key: '\${! this.id }', max_in_flight: 1 } }`,
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'pw-connect-'));
    const cfg = join(dir, 'pipeline.yaml');
    writeFileSync(cfg, config);
    const lint = await execa(connectBin, ['lint', cfg], { reject: false });
    expect(lint.exitCode, lint.stderr + lint.stdout).toBe(0);

    const run = execa(connectBin, ['-c', cfg], { stdin: 'pipe', reject: false });
    const pid = run.pid as number;
    for (let i = 0; i < EVENTS; i++) run.stdin?.write(`${JSON.stringify({ id: `e${i}`, n: i })}\n`);

    const received = new Map<string, { via: string; n: number }>();
    const consumer = kafka.consumer({ groupId: uniqueName('connect-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = JSON.parse(message.value?.toString() ?? '{}') as { id: string; via: string; n: number };
        expect(message.key?.toString()).toBe(v.id);
        received.set(v.id, v);
      },
    });
    const complete = await waitFor(() => received.size >= EVENTS, 60_000);
    await consumer.disconnect();

    run.kill('SIGTERM');
    const result = await run;
    const exited = await waitFor(() => !alive(pid), 10_000);
    await admin.deleteTopics({ topics: [topic] });

    expect(complete).toBe(true);
    expect(received.size).toBe(EVENTS);
    expect([...received.values()].every((v) => v.via === 'connect')).toBe(true);
    expect(exited).toBe(true);
    expect(result.signal === 'SIGTERM' || result.exitCode === 0).toBe(true);
  });
});
