/**
 * Reconciliation never passes by default: missing result directories or metric files are
 * PW_RECONCILE_INPUT, the caps the hot run hit are named as causes, and the archive's late lane
 * is read at any size (no spreading of its rows into call arguments).
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { PitwallError } from '../../src/errors.js';
import { capCauses, formatReconciliation, lateExplained, reconcile } from '../../src/reconcile/reconcile.js';
import { lateLane } from '../../src/reconcile/self-reconcile.js';
import { ORDERS_YAML, catalogOf, plan } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML);
const count = plan(`CREATE VIEW per_minute AS SELECT window_start, COUNT(*) AS n
  FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start`, catalog);
const row = (n: number): string => `${JSON.stringify({ window_start: '2024-03-15T19:00:00.000Z', n })}\n`;

function dirs(): { hot: string; cold: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'pw-reconcile-'));
  const hot = join(root, 'hot');
  const cold = join(root, 'cold');
  mkdirSync(hot);
  mkdirSync(cold);
  return { hot, cold, root };
}

function reconcileError(run: () => unknown): PitwallError {
  try {
    run();
  } catch (err) {
    expect((err as PitwallError).code).toBe('PW_RECONCILE_INPUT');
    return err as PitwallError;
  }
  throw new Error('expected PW_RECONCILE_INPUT');
}

describe('reconcile inputs', () => {
  it('refuses a result directory that does not exist or is a file', () => {
    const { hot, cold, root } = dirs();
    expect(reconcileError(() => reconcile([count], join(root, 'typo'), cold)).message).toContain(`hot result directory '${join(root, 'typo')}' does not exist`);
    writeFileSync(join(root, 'file'), '');
    expect(reconcileError(() => reconcile([count], hot, join(root, 'file'))).message).toContain('is a file');
  });

  it('refuses a metric missing on both sides, or on one, listing every missing file', () => {
    const { hot, cold } = dirs();
    const both = reconcileError(() => reconcile([count], hot, cold)).message;
    expect(both).toContain(join(hot, 'per_minute.ndjson'));
    expect(both).toContain(join(cold, 'per_minute.ndjson'));
    writeFileSync(join(hot, 'per_minute.ndjson'), row(1));
    expect(reconcileError(() => reconcile([count], hot, cold)).message).not.toContain(join(hot, 'per_minute.ndjson'));
    writeFileSync(join(cold, 'per_minute.ndjson'), row(1));
    expect(reconcile([count], hot, cold)).toMatchObject({ unexplained: 0, causes: [] });
  });
});

describe('caps as causes', () => {
  it('names ids forgotten at the dedup cap and pairs dropped at the group cap from the hot _summary.json', () => {
    const { hot, cold } = dirs();
    writeFileSync(join(hot, 'per_minute.ndjson'), row(5));
    writeFileSync(join(cold, 'per_minute.ndjson'), row(4));
    writeFileSync(join(hot, '_summary.json'), JSON.stringify({
      streams: { orders: { events: 5, accepted: 5, quarantined: 0, duplicates: 0, late: 0, dedupEvicted: 7 } },
      metrics: { per_minute: { rows: 1, late: 0, overflow: 2, hash: count.hash } },
    }));
    const r = reconcile([count], hot, cold);
    expect(r.unexplained).toBe(1); // a cap is a cause to look at, not an explanation: the data differs
    expect(r.causes.map((c) => [c.kind, c.where, c.count, c.metrics])).toEqual([['dedup_evicted', 'orders', 7, ['per_minute']], ['group_overflow', 'per_minute', 2, ['per_minute']]]);
    const text = formatReconciliation(r);
    expect(text).toContain('possible cause: stream orders: 7 event id(s) forgotten at the dedup cap (--max-dedup-ids)');
    expect(text).toContain('possible cause: metric per_minute: 2 (event, window) pair(s) dropped at the open-group cap (--max-groups)');
    expect(text.trimEnd().split('\n').pop()).toBe('FAILED: 1 unexplained difference(s)');
  });

  it('reads summaries without the field (older runs) and results without a summary as no cause', () => {
    const { hot } = dirs();
    expect(capCauses([count], hot)).toEqual([]);
    writeFileSync(join(hot, '_summary.json'), JSON.stringify({ streams: { orders: { events: 1, accepted: 1, quarantined: 0, duplicates: 0, late: 0 } }, metrics: {} }));
    expect(capCauses([count], hot)).toEqual([]);
  });
});

/** The manifest line that makes a hand-written late-lane file part of the archive at `root`. */
function listLate(root: string, file: string, rows: number): void {
  const entry = { lane: 'late', stream: 'orders', topic: 'orders', file, rows, bytes: 0, ranges: {}, hour: 'date=2024-03-15/hour=19', writtenAt: '2024-03-15T20:00:00.000Z' };
  appendFileSync(join(root, '_manifest.ndjson'), `${JSON.stringify(entry)}\n`);
}

describe('the late lane', () => {
  it('is read whole at a size whose rows would overflow the stack as call arguments', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-late-lane-'));
    const dir = join(root, '_late', 'orders', 'date=2024-03-15', 'hour=19');
    mkdirSync(dir, { recursive: true });
    const rows = 300_000;
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      await conn.run(`COPY (SELECT 'per_minute' AS metric, 'e' || i AS event_id,
          TIMESTAMP '2024-03-15 19:00:00' + INTERVAL (i % 60) SECOND AS event_time,
          TIMESTAMP '2024-03-15 19:00:00' AS window_start, TIMESTAMP '2024-03-15 19:01:00' AS window_end
        FROM range(${rows}) t(i)) TO '${join(dir, 'part-0.parquet')}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
    }
    listLate(root, '_late/orders/date=2024-03-15/hour=19/part-0.parquet', rows);
    const late = await lateLane(root, ['orders']);
    expect(late.length).toBe(rows);
    expect(late[0]).toMatchObject({ metric: 'per_minute', window_start: '2024-03-15T19:00:00.000Z', window_end: '2024-03-15T19:01:00.000Z' });
  });

  it('reads the partition evidence where segments have it, and none from segments written before it existed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-late-lane-'));
    const dir = join(root, '_late', 'orders', 'date=2024-03-15', 'hour=19');
    mkdirSync(dir, { recursive: true });
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    const common = `'per_minute' AS metric, 'e' AS event_id, TIMESTAMP '2024-03-15 19:00:30' AS event_time,
      TIMESTAMP '2024-03-15 19:00:00' AS window_start, TIMESTAMP '2024-03-15 19:01:00' AS window_end, 2::INTEGER AS _pw_partition, 7::BIGINT AS _pw_offset`;
    try {
      await conn.run(`COPY (SELECT ${common}) TO '${join(dir, 'old.parquet')}' (FORMAT parquet)`);
      await conn.run(`COPY (SELECT ${common}, NULL::TIMESTAMP AS partition_watermark, false AS partition_idle) TO '${join(dir, 'new.parquet')}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
    }
    listLate(root, '_late/orders/date=2024-03-15/hour=19/old.parquet', 1);
    listLate(root, '_late/orders/date=2024-03-15/hour=19/new.parquet', 1);
    const late = await lateLane(root, ['orders']);
    expect(late).toHaveLength(2);
    const byIdle = late.map((l) => l.partition_idle ?? null).sort();
    expect(byIdle).toEqual([false, null]);
    expect(late.every((l) => l.partition === 2)).toBe(true);
    // The new segment's pair is not late in its own partition (−∞) and it was not idle: unexplained; the old one cannot say.
    expect(late.filter((l) => !lateExplained(count, l))).toHaveLength(1);
  });
});
