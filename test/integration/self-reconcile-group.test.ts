/**
 * `pitwall run --reconcile-every` in a group of several processes. A process holds the final
 * rows of the keys its members merge and archives the input partitions they read, so once
 * another process shares the group:
 * - with `--reconcile-archive` (the directory of every process's archive), it reconciles the
 *   rows it holds, key by key, against the group's archives read as one: nothing unexplained;
 * - without it, it says self-reconciliation is skipped and why (log and
 *   `pitwall_reconcile_skipped` 1), rather than report its missing share as differences.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { freePort } from '../connect/free-port.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { GROUP_METRICS, GROUP_PARTITIONS, groupDeliveries } from './group-scenario.js';
import { brokers, createTopic, ordersProjectWith, sendToPartitions, testKafka, uniqueName, waitFor } from './support.js';

const METRICS = { rest_minute: GROUP_METRICS.rest_minute as string, cust_session: GROUP_METRICS.cust_session as string };

async function gauge(port: number, name: string): Promise<number | undefined> {
  try {
    const m = new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The rows compared by each "self-reconcile: N rows compared …, U unexplained" line. */
function reconciles(log: string): { rows: number; unexplained: number; keyByKey: boolean }[] {
  return [...log.matchAll(/self-reconcile: (\d+) rows compared(.*?), (\d+) unexplained/g)].map((m) => ({ rows: Number(m[1]), keyByKey: (m[2] ?? '').includes('key by key'), unexplained: Number(m[3]) }));
}

describe.skipIf(!brokers)('--reconcile-every in a group of several processes', () => {
  it('reconciles key by key over every process\'s archive, or says it is skipped', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 240_000) }, async () => {
    if (!brokers) return;
    const kafka = testKafka('self-reconcile-group');
    const topic = uniqueName('orders-srg');
    const group = uniqueName('srg');
    const dir = ordersProjectWith('pw-srg-', topic, METRICS);
    await createTopic(kafka, topic, GROUP_PARTITIONS);
    const events = groupDeliveries(4242, 6000, 20 * 60_000, false);
    const half = Math.floor(events.length / 2);
    const archives = join(dir, 'archives');
    const logs = new Map<string, string>();
    const procs: ResultPromise[] = [];
    const spawn = (name: string, port: number, extra: string[]): ResultPromise => {
      const proc = execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers as string,
        '--state-dir', join(dir, 'state'), '--results-topic', uniqueName('results-srg'), '--group', group, '--checkpoint-interval', '500ms',
        '--from-beginning', '--port', String(port), '--workers', '1', '--archive', join(archives, name), '--reconcile-every', '1s', ...extra],
      { env: { PITWALL_PII_KEY: 'srg-key' }, reject: false, stdio: ['ignore', 'ignore', 'pipe'], forceKillAfterDelay: 30_000 });
      proc.stderr?.on('data', (d: Buffer) => { logs.set(name, (logs.get(name) ?? '') + d.toString()); });
      procs.push(proc);
      return proc;
    };
    const log = (name: string): string => logs.get(name) ?? '';
    const tail = (): string => [...logs].map(([n, l]) => `--- ${n}\n${l.split('\n').filter((x) => !x.includes('kafkajs')).slice(-20).join('\n')}`).join('\n');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const portA = await freePort();
      void spawn('a', portA, ['--reconcile-archive', archives]);
      await sendToPartitions(producer, topic, events, 0, half, 0);
      // Alone in the group: the whole comparison, and windows of the first half closed.
      expect(await waitFor(() => reconciles(log('a')).some((r) => r.rows > 0 && !r.keyByKey), 90_000, 250), tail()).toBe(true);
      const before = Math.max(...reconciles(log('a')).map((r) => r.rows));
      const portB = await freePort();
      void spawn('b', portB, []);
      expect(await waitFor(() => log('b').includes('assigned input partitions') && (log('a').match(/assigned input partitions/g) ?? []).length >= 2, 90_000, 250), tail()).toBe(true);
      await sendToPartitions(producer, topic, events, half, events.length, 0);
      // A: key by key over both archives, more rows than before, nothing unexplained.
      expect(await waitFor(() => reconciles(log('a')).some((r) => r.keyByKey && r.rows > before), 120_000, 250), tail()).toBe(true);
      // B: no --reconcile-archive, so it says why it skips.
      expect(await waitFor(() => log('b').includes('self-reconcile skipped: other processes share group'), 60_000, 250), tail()).toBe(true);
      expect(await gauge(portB, 'pitwall_reconcile_skipped'), tail()).toBe(1);
      expect(await gauge(portA, 'pitwall_reconcile_skipped'), tail()).toBe(0);
      // Rows from partials carry event→result latency in a group too (from the flush's first batch).
      expect(await gauge(portA, 'pitwall_event_to_result_seconds_count'), tail()).toBeGreaterThan(0);
      expect(reconciles(log('a')).filter((r) => r.unexplained > 0), tail()).toEqual([]);
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.allSettled(procs);
      await producer.disconnect();
    }
  });
});
