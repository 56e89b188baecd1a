/**
 * Poison records through `pitwall run --archive` on the real broker: each one used to fail every
 * checkpoint (or the archive) until the process exited, and a restart read it again (a crash
 * loop). Now each is quarantined at validation with its reason, checkpoints keep passing, the
 * engine stays ready, and the valid events around them are counted.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { brokers, testKafka, uniqueName, waitFor } from './support.js';
import { lastCheckpoint } from '../../src/state/state-store.js';

describe.skipIf(!brokers)('poison records under pitwall run --archive', () => {
  it('quarantines them, keeps checkpointing and stays ready', async () => {
    if (!brokers) return;
    const kafka = testKafka('poison-test');
    const topic = uniqueName('ticks');
    const dir = mkdtempSync(join(tmpdir(), 'pw-poison-'));
    mkdirSync(join(dir, 'catalog'));
    mkdirSync(join(dir, 'queries'));
    writeFileSync(join(dir, 'catalog', 'ticks.yaml'), `name: ticks\ntopic: ${topic}\nevent_id: id\nevent_time: ts\nwatermark_delay: 0s\npartitions: 2\nfields:\n  id: { type: int, required: true }\n  ts: { type: timestamp, required: true }\n  k: { type: string }\n  v: { type: int }\n  d: { type: double }\n`);
    writeFileSync(join(dir, 'queries', 'ticks_1m.sql'), "CREATE VIEW ticks_1m AS SELECT window_start, k, COUNT(*) AS n, SUM(v) AS sv, SUM(d) AS sd FROM TUMBLE(ticks, ts, INTERVAL '1 minute') GROUP BY window_start, k;");
    const now = Date.now();
    const ts = new Date(now).toISOString();
    const poison = [
      `{"id": 101, "ts": "${ts}", "k": "e", "v": 1e400, "d": 1.0}`, // int field beyond a double
      `{"id": 102, "ts": "${ts}", "k": "e", "v": 1, "d": -1e400}`, // double field beyond a double
      '{"id": 103, "ts": 8640000000000000, "k": "e"}', // event time outside the range
      `{"id": 104, "ts": "${ts}", "k": "e", "x": ${'['.repeat(5000)}${']'.repeat(5000)}}`, // nested too deep for the archive
      `{"id": 9007199254740993, "ts": "${ts}", "k": "e"}`, // an id no path holds exactly
      `{"id": 105, "ts": "${new Date(now + 7 * 86_400_000).toISOString()}", "k": "e"}`, // a week ahead of the clock
    ];
    const valid = Array.from({ length: 20 }, (_, i) => `{"id": ${i}, "ts": "${ts}", "k": "e", "v": 2, "d": 0.5}`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [...valid.slice(0, 10), ...poison, ...valid.slice(10)].map((value, i) => ({ key: `k${i % 4}`, value })) });
    await producer.disconnect();

    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers,
      '--state-dir', join(dir, 'state'), '--archive', join(dir, 'archive'), '--pii-key', 'k', '--group', uniqueName('poison-group'),
      '--results-topic', uniqueName('results'), '--checkpoint-interval', '500ms', '--from-beginning', '--port', String(port)], { reject: false, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
    try {
      const metric = async (name: string): Promise<number> => {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
        return Number(new RegExp(`^${name}\\{stream="ticks"\\} (\\d+)`, 'm').exec(text)?.[1] ?? -1);
      };
      const consumed = await waitFor(async () => (await metric('pitwall_events_total')) >= valid.length + poison.length, 90_000, 250);
      expect(consumed, log).toBe(true);
      expect(await metric('pitwall_quarantined_total')).toBe(poison.length);
      expect(await metric('pitwall_accepted_total')).toBe(valid.length);
      // Several checkpoints later (every 500 ms), none failed and the engine is ready.
      const checkpointed = await waitFor(async () => (await lastCheckpoint(join(dir, 'state'))) !== undefined, 10_000);
      expect(checkpointed).toBe(true);
      await new Promise((r) => setTimeout(r, 3000));
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status, await ready.text()).toBe(200);
      expect(log).not.toMatch(/checkpoint failed|PW_INTERNAL|PW_ARCHIVE_WRITE/);
      // The outboxes towards the broker are visible, and empty once checkpoints pass.
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(new RegExp(`^pitwall_outbox_messages\\{topic="${topic}\\.dlq"\\} 0$`, 'm'));
      expect(metrics).toMatch(/^pitwall_misrouted_total\{stream="ticks"\} 0$/m);
    } finally {
      proc.kill('SIGTERM');
      await proc;
    }
    expect(proc.exitCode ?? 0).toBe(0);
  });
});
