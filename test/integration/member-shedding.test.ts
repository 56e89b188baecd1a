/**
 * `pitwall run --shed --backfill` with member threads (`--workers 2`, a 2-partition topic) on a
 * real broker, as test/integration/shedding.test.ts does with --single: a backlog past a tiny consumer-lag
 * threshold sheds the batch metric (never the critical one), the lag falling below the resume
 * threshold brings it back, the windows it touched are recomputed from the archive and published
 * marked backfilled, and the final rows on the results topic then equal an unshed run (pitwall
 * replay of the same events) exactly, for both metrics.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/sources/generator.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { freePort } from '../connect/free-port.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { BATCH_REVENUE_1M, CRITICAL_ORDERS_1M, shedInfo, sortedRows, type ShedInfo } from '../support/shedding-metrics.js';
import { brokers, createTopic, ordersProjectWith, readResults, testKafka, uniqueName, waitFor } from './support.js';

describe.skipIf(!brokers)('pitwall run --shed with member threads', () => {
  it('sheds the batch metric under a backlog, backfills its windows from the archive, and ends equal to an unshed run', async () => {
    if (!brokers) return;
    const topic = uniqueName('shed-orders');
    const dir = ordersProjectWith('pw-mshed-', topic, { orders_1m: CRITICAL_ORDERS_1M, revenue_1m: BATCH_REVENUE_1M });
    const kafka = testKafka('shed-test');
    await createTopic(kafka, topic, 2);
    // A backlog of 100,000 events over 1,000 s of event time on both partitions, then (once caught
    // up) a tail three minutes later, on both partitions, that closes every window.
    const t0 = Date.now() - 1_200_000;
    const clean = { duplicateRate: 0, lateRate: 0, malformedRate: 0, jitterMs: 2_000 };
    const backlog = generate('food-delivery', 100_000, { seed: 11, ratePerSec: 100, startMs: t0, ...clean });
    const tail = generate('food-delivery', 200, { seed: 12, ratePerSec: 1, startMs: t0 + 1_180_000, ...clean });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < backlog.length; i += 2_000) await producer.send({ topic, acks: -1, messages: backlog.slice(i, i + 2_000).map((g, j) => ({ partition: (i + j) % 2, value: g.value })) });

    const stateDir = join(dir, 'state');
    const archive = join(dir, 'archive');
    const resultsTopic = uniqueName('shed-results');
    const port = await freePort();
    const env = { PITWALL_PII_KEY: 'shed' };
    const proc = execa('node', ['bin/pitwall.js', 'run', '--workers', '2', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers,
      '--state-dir', stateDir, '--archive', archive, '--group', uniqueName('shed-g'), '--results-topic', resultsTopic, '--checkpoint-interval', '1s', '--from-beginning', '--port', String(port),
      '--shed', '--shed-records', '2000', '--resume-records', '200', '--shed-lag', '7d', '--resume-lag', '7d', '--shed-dwell', '100ms', '--backfill', '1s'],
    { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env, forceKillAfterDelay: 30_000 });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const info = (name: string): Promise<ShedInfo> => shedInfo(port, name);
    try {
      expect(await waitFor(() => stderr.includes('shedding: level 1') || proc.exitCode !== null, 90_000, 200), stderr).toBe(true);
      expect(stderr).toContain('shedding: level 1');
      expect(await waitFor(async () => (await info('revenue_1m'))?.shed === true || stderr.includes('resuming: level 0'), 30_000, 100)).toBe(true);
      // Caught up for good: every member has joined (a rebalance while members join moves partitions,
      // and a member that reloads reads its backlog again, so the level can go up and down more
      // than once), the last step resumed every metric, and the lowest watermark members report is
      // past the backlog. Only then does the tail go out (skipped, it would open windows that never close).
      const backlogEndMs = backlog.reduce((m, g) => Math.max(m, g.eventTimeMs), Number.NEGATIVE_INFINITY);
      const lastStep = (): string | undefined => stderr.match(/(shedding|resuming): level \d/g)?.pop();
      const watermarkMs = async (): Promise<number> => {
        try {
          const lag = /pitwall_watermark_lag_seconds\{stream="orders"\} (\S+)/.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1];
          return lag === undefined ? Number.NEGATIVE_INFINITY : Date.now() - Number(lag) * 1000;
        } catch { return Number.NEGATIVE_INFINITY; }
      };
      // Held for 4 s: a member's first checkpoint after the group settles can still be fenced and re-read its partition.
      let settledSince: number | undefined;
      expect(await waitFor(async () => {
        const caughtUp = stderr.includes('running 2 metrics') && lastStep() === 'resuming: level 0' && (await watermarkMs()) >= backlogEndMs - 60_000;
        settledSince = caughtUp ? settledSince ?? Date.now() : undefined;
        return settledSince !== undefined && Date.now() - settledSince >= 4_000;
      }, 120_000, 200), stderr).toBe(true);
      await producer.send({ topic, acks: -1, messages: tail.map((g, j) => ({ partition: j % 2, value: g.value })) });
      expect(await waitFor(async () => { const s = await info('revenue_1m'); return s !== undefined && s.backfilledWindows > 0 && s.pendingIntervals === 0 && !s.shed; }, 120_000, 500), `${JSON.stringify(await info('revenue_1m'))}\n${stderr}`).toBe(true);
      const batch = await info('revenue_1m');
      const critical = await info('orders_1m');
      expect(critical).toMatchObject({ shed: false, shedWindows: 0, backfilledWindows: 0 });
      expect(batch?.backfilledWindows).toBeGreaterThan(0);
      const rows = ((await (await fetch(`http://127.0.0.1:${port}/v1/metrics/revenue_1m/rows?from=${t0}&to=${t0 + 1_200_000}&limit=1000`)).json()) as { rows: { backfilled?: boolean }[] }).rows;
      expect(rows.filter((r) => r.backfilled === true).length).toBeGreaterThan(0);
      const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(scrape).toMatch(/pitwall_backfilled_windows_total\{metric="revenue_1m"\} [1-9]/);
      expect(scrape).toMatch(/pitwall_shed_windows_total\{metric="revenue_1m"\} [1-9]/);
      expect(scrape).toMatch(/pitwall_metric_shed\{metric="orders_1m",tier="critical"\} 0/);
      // The critical metric was never shed.
      expect(stderr).not.toContain('ERROR shedding turned off');
      // Let checkpoints hand the last hot rows to the results topic.
      await new Promise((r) => setTimeout(r, 2_500));
    } finally {
      proc.kill('SIGTERM');
      await proc;
      await producer.disconnect();
    }
    expect(stderr).toContain('stopped');

    // The unshed reference: the hot path over the same events in a file.
    const input = join(dir, 'orders.ndjson');
    writeFileSync(input, [...backlog, ...tail].map((g) => g.value).join('\n') + '\n');
    const replay = await execa('node', ['bin/pitwall.js', 'replay', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--input', `orders=${input}`, '--out', join(dir, 'ref')], { reject: false, env });
    expect(replay.exitCode).toBe(0);
    const reference = (m: string): ResultRow[] => readFileSync(join(dir, 'ref', `${m}.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow);
    // Windows closed by the tail: starting at least two minutes before its last event.
    const untilMs = Math.max(...tail.map((g) => g.eventTimeMs)) - 120_000;
    const reader = await readResults(kafka, resultsTopic);
    try {
      expect(await reader.drained(30_000)).toBe(true);
      const finals = reader.finals(['orders_1m', 'revenue_1m'], untilMs);
      for (const m of ['orders_1m', 'revenue_1m']) {
        const want = reference(m).filter((r) => Date.parse(String(r.window_start)) <= untilMs);
        expect(want.length).toBeGreaterThan(10);
        expect(sortedRows(finals.get(m) ?? []), `${m}; log:\n${stderr.split('\n').filter((l) => !l.includes('kafkajs')).slice(-80).join('\n')}`).toEqual(sortedRows(want));
      }
    } finally {
      await reader.stop();
    }
    // Every interval is done: the command has nothing left to backfill.
    const dry = await execa('node', ['bin/pitwall.js', 'backfill', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--state-dir', stateDir, '--archive', archive, '--dry-run'], { reject: false, env });
    expect(dry.stdout).toContain('nothing to backfill');
  }, PROCESS_TEST_TIMEOUT_MS * 2);
});
