/**
 * ../shared/cases/run-restart-false-late: a restart that overlaps its predecessor in the same
 * consumer group. Instance A consumes live, in-order events (event time = now, 3 partitions);
 * instance B joins the group, takes a partition and is SIGKILLed right after. The partition B
 * held goes unread until B's session times out. A must not let its watermark pass that
 * partition's unread records (it is not A's, and later it has lag): no event may be late,
 * since the input has none. Before, A released the partition after idle_timeout and counted
 * every event of it before the watermark as late (133 in the case's run).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { freePort } from '../connect/free-port.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, createTopic, testKafka, uniqueName, waitFor } from './support.js';

const FIX = join('test', 'fixtures', 'cases', 'run-restart-false-late');

async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const m = new RegExp(`^${name}\\{stream="orders"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

describe.skipIf(!brokers)('run-restart-false-late', () => {
  it('a partition left unread by a member that died holds the watermark: no in-order event is late', async () => {
    if (!brokers) return;
    const topic = uniqueName('rrfl-orders');
    const dir = mkdtempSync(join(tmpdir(), 'pw-rrfl-'));
    cpSync(FIX, dir, { recursive: true });
    const yaml = join(dir, 'catalog', 'orders.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^topic: .*$/m, `topic: ${topic}`));
    const kafka = testKafka('rrfl');
    await createTopic(kafka, topic, 3);
    const group = uniqueName('rrfl-g');
    const resultsTopic = uniqueName('rrfl-results');

    // Live producer: event time = now, round-robin over the 3 partitions, ~100 events/s.
    const producer = kafka.producer();
    await producer.connect();
    let produced = 0;
    let producing = true;
    const produce = (async () => {
      while (producing) {
        const messages = Array.from({ length: 10 }, () => {
          const n = produced++;
          return { partition: n % 3, value: JSON.stringify({ eventId: `live-${n}`, eventType: 'order.created', eventTime: new Date().toISOString(), data: { restaurantId: `r${n % 3}`, orderTotal: 1, customerId: `c${n % 50}` } }) };
        });
        await producer.send({ topic, messages });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const run = async (name: string): Promise<{ proc: ResultPromise; port: number; log: () => string }> => {
      const port = await freePort();
      const proc = execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers as string,
        '--state-dir', join(dir, `state${name}`), '--group', group, '--results-topic', resultsTopic, '--checkpoint-interval', '1s', '--from-beginning', '--port', String(port), '--single'],
      { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env: { PITWALL_PII_KEY: 'k' } });
      let log = '';
      proc.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
      return { proc, port, log: () => log };
    };

    const a = await run('A');
    try {
      expect(await waitFor(() => a.log().includes('assigned'), 60_000, 200), a.log()).toBe(true);
      await new Promise((r) => setTimeout(r, 10_000));
      const b = await run('B');
      expect(await waitFor(() => b.log().includes('assigned'), 60_000, 100), b.log()).toBe(true);
      b.proc.kill('SIGKILL');
      await b.proc;
      // B's partitions stay unread until its session times out and A gets them back; the
      // producer goes on meanwhile, then stops, and A catches up.
      await new Promise((r) => setTimeout(r, 25_000));
      producing = false;
      await produce;
      await producer.disconnect();
      const accepted = await waitFor(async () => (await metric(a.port, 'pitwall_accepted_total')) === produced, 90_000, 500);
      expect(accepted, `${await metric(a.port, 'pitwall_accepted_total')} of ${produced}\n${a.log()}`).toBe(true);
      // A was assigned three times: all partitions, a share when B joined, all again after B died.
      expect((a.log().match(/assigned orders\[/g) ?? []).length, a.log()).toBeGreaterThanOrEqual(3);
      expect(await metric(a.port, 'pitwall_late_total'), a.log()).toBe(0);
    } finally {
      producing = false;
      a.proc.kill('SIGTERM');
      await a.proc;
    }
  }, Math.max(PROCESS_TEST_TIMEOUT_MS, 240_000));
});
