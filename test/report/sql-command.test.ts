/** `pitwall sql`: ad-hoc SQL over the archive's raw nested columns and lanes, and its errors. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Manifest } from '../../src/archive/manifest.js';
import { PitwallError } from '../../src/errors.js';
import { runArchiveSql } from '../../src/report/archive-sql.js';
import { formatResult } from '../../src/report/format-results.js';
import { buildArchiveFixture, type ArchiveFixture } from './report-fixture.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';

let fx: ArchiveFixture;
beforeAll(async () => { fx = await buildArchiveFixture(2000); }, 60_000);

const laneRows = (lane: string): number => Manifest.read(fx.archive).filter((e) => e.lane === lane && e.stream === 'orders').reduce((n, e) => n + e.rows, 0);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/pitwall.js', ...args], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('runArchiveSql', () => {
  it('reads a nested struct field of the stream view, one row per archived event', async () => {
    const r = await runArchiveSql(fx.archive, 'SELECT data.restaurantId AS restaurant, count(*) AS n FROM orders GROUP BY ALL ORDER BY n DESC', fx.catalog);
    expect(r.columns).toEqual(['restaurant', 'n']);
    expect(r.js.length).toBeGreaterThan(1);
    expect(r.js.reduce((s, row) => s + Number(row[1]), 0)).toBe(fx.hotSummary.streams.orders?.accepted);
    expect(r.js.every((row) => typeof row[0] === 'string' && /^r\d+$/.test(row[0]))).toBe(true);
  });

  it('has <stream>_quarantine and <stream>_late views over the lanes', async () => {
    const q = await runArchiveSql(fx.archive, 'SELECT count(*) FROM orders_quarantine WHERE code LIKE \'PW_PAYLOAD_%\'');
    expect(Number(q.js[0]?.[0])).toBe(laneRows('quarantine'));
    const l = await runArchiveSql(fx.archive, 'SELECT count(*) FROM orders_late WHERE window_end > window_start');
    expect(Number(l.js[0]?.[0])).toBe(laneRows('late'));
    expect(q.views.map((v) => v.name)).toEqual(expect.arrayContaining(['orders', 'orders_quarantine', 'orders_late']));
  });

  it('gives catalog streams with nothing archived an empty view of the same shape', async () => {
    const r = await runArchiveSql(fx.archive, 'SELECT count(*), count(data.roomId) FROM badge_scans', fx.catalog);
    expect(r.js).toEqual([[0n, 0n]]);
    await expect(runArchiveSql(fx.archive, 'SELECT count(*) FROM badge_scans')).rejects.toMatchObject({ code: 'PW_SQL_QUERY' });
  });

  it('turns a DuckDB error into PW_SQL_QUERY with DuckDB\'s message and the views', async () => {
    const err = await runArchiveSql(fx.archive, 'SELECT data.nope FROM orders').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PitwallError);
    expect((err as PitwallError).code).toBe('PW_SQL_QUERY');
    expect((err as PitwallError).message).toMatch(/Binder Error/);
    expect((err as PitwallError).message).toMatch(/nope/);
    expect((err as PitwallError).message).toContain('views over the archive: orders, orders_quarantine, orders_late');
  });

  it('rejects a directory that is not an archive', async () => {
    // Neither an archive nor a directory of archives (a group's processes each write one).
    const empty = mkdtempSync(join(tmpdir(), 'pw-not-archive-'));
    mkdirSync(join(empty, 'sub'));
    await expect(runArchiveSql(empty, 'SELECT 1')).rejects.toMatchObject({ code: 'PW_ARCHIVE_MISSING' });
    await expect(runArchiveSql(join(empty, 'missing'), 'SELECT 1')).rejects.toMatchObject({ code: 'PW_ARCHIVE_MISSING' });
  });
});

describe('formatResult', () => {
  const result = {
    columns: ['name', 'n', 'note'], types: [], views: [],
    values: [['a', 1n, null], ['long name', 12345n, 'x, "y"\nz']],
    js: [['a', 1n, null], ['long name', 12345n, 'x, "y"\nz']],
  } as unknown as Parameters<typeof formatResult>[0];

  it('aligns a text table, numbers right-aligned, with a row count', () => {
    expect(formatResult(result, 'table')).toBe([
      'name      |     n | note',
      '----------+-------+----------',
      'a         |     1 | NULL',
      'long name | 12345 | x, "y"\\nz',
      '(2 rows)',
    ].join('\n'));
  });

  it('writes RFC 4180 CSV and JSON objects', () => {
    expect(formatResult(result, 'csv')).toBe('name,n,note\na,1,\nlong name,12345,"x, ""y""\nz"');
    expect(JSON.parse(formatResult(result, 'json'))).toEqual([{ name: 'a', n: 1, note: null }, { name: 'long name', n: 12345, note: 'x, "y"\nz' }]);
  });
});

// ../shared/cases/sql-json-csv-date-time: DATE came out as a UTC-midnight timestamp, TIME as microseconds.
describe('dates, times and intervals in json and csv', () => {
  it('are written as DuckDB prints them; timestamps stay ISO-8601', async () => {
    const r = await runArchiveSql(fx.archive, "SELECT DATE '2026-11-29' AS d, TIME '12:34:56' AS t, TIME '01:02:03.5' AS t2, TIMESTAMP '2026-11-29 12:00:00' AS ts, INTERVAL 90 MINUTE AS i, CAST(NULL AS DATE) AS n");
    expect(JSON.parse(formatResult(r, 'json'))).toEqual([{ d: '2026-11-29', t: '12:34:56', t2: '01:02:03.5', ts: '2026-11-29T12:00:00.000Z', i: '01:30:00', n: null }]);
    expect(formatResult(r, 'csv')).toBe('d,t,t2,ts,i,n\n2026-11-29,12:34:56,01:02:03.5,2026-11-29T12:00:00.000Z,01:30:00,');
    // The archive's own date partition column is a DATE too.
    const part = await runArchiveSql(fx.archive, 'SELECT date FROM orders LIMIT 1');
    expect((JSON.parse(formatResult(part, 'json')) as { date: string }[])[0]?.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('pitwall sql (CLI)', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('prints an aligned table for a query over a nested field', () => {
    const r = cli('sql', 'SELECT data.restaurantId AS restaurant, count(*) AS n FROM orders GROUP BY ALL ORDER BY restaurant LIMIT 3', '--archive', fx.archive);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^restaurant \|\s+n$/);
    expect(lines[1]).toMatch(/^-+-\+-+$/);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('(3 rows)');
  });

  it('prints JSON and CSV', () => {
    const json = cli('sql', 'SELECT code, count(*) AS n FROM orders_quarantine GROUP BY ALL', '--archive', fx.archive, '--format', 'json');
    expect(json.status).toBe(0);
    const rows = JSON.parse(json.stdout) as { code: string; n: number }[];
    expect(rows.reduce((s, x) => s + x.n, 0)).toBe(laneRows('quarantine'));
    const csv = cli('sql', 'SELECT 1 AS a, \'x,y\' AS b', '--archive', fx.archive, '--format', 'csv');
    expect(csv.stdout).toBe('a,b\n1,"x,y"\n');
  });

  it('fails with error[PW_SQL_QUERY] and DuckDB\'s message on a bad query', () => {
    const r = cli('sql', 'SELECT * FROM ordrs', '--archive', fx.archive);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error\[PW_SQL_QUERY\] DuckDB rejected the query: Catalog Error: Table with name ordrs does not exist/);
    expect(r.stderr).toContain('Did you mean "orders"');
  });

  it('rejects an unknown --format', () => {
    const r = cli('sql', 'SELECT 1', '--archive', fx.archive, '--format', 'xml');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error\[PW_BAD_OPTION\]/);
  });
});
