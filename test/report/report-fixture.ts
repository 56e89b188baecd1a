/**
 * A generated food-delivery archive for the report tests: replay with `--archive` over about an
 * hour of event time (so every orders metric has many windows), with duplicates, late arrivals
 * and malformed payloads, then `pitwall report` over it with the hot results to reconcile.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { loadCatalog, type Catalog } from '../../src/catalog/index.js';
import { replay, type ReplaySummary } from '../../src/hot/replay.js';
import { loadQueries, type MetricPlan } from '../../src/plan/index.js';
import { buildReport, type ReportResult } from '../../src/report/build-report.js';
import { generate } from '../../src/sources/generator.js';

export const PII_KEY = 'report-test-key';

export interface ReportFixture extends ArchiveFixture {
  readonly out: string;
  readonly report: ReportResult;
}

export interface ArchiveFixture {
  readonly dir: string;
  readonly archive: string;
  readonly hot: string;
  readonly catalog: Catalog;
  readonly plans: readonly MetricPlan[];
  readonly hotSummary: ReplaySummary;
}

/** Generates `count` orders over about `count / 3` seconds and replays them into an archive. */
export async function buildArchiveFixture(count = 8000): Promise<ArchiveFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-report-'));
  const input = join(dir, 'orders.ndjson');
  const records = generate('food-delivery', count, { ratePerSec: 3, duplicateRate: 0.05, lateRate: 0.02, lateByMs: 600_000, malformedRate: 0.01 });
  writeFileSync(input, `${records.map((r) => r.value).join('\n')}\n`);
  const catalog = loadCatalog('catalog');
  const plans = loadQueries('queries', catalog);
  const archive = join(dir, 'archive');
  const hot = join(dir, 'hot');
  const writer = new ArchiveWriter(archive, catalog, { piiKey: PII_KEY });
  writer.open();
  const hotSummary = await replay(catalog, plans, [{ stream: 'orders', file: input }], hot, { archive: writer });
  return { dir, archive, hot, catalog, plans, hotSummary };
}

/** The archive fixture and the report built over it (reconciled against the hot results). */
export async function buildReportFixture(): Promise<ReportFixture> {
  const a = await buildArchiveFixture();
  const out = join(a.dir, 'report');
  const report = await buildReport(a.catalog, a.plans, { archive: a.archive, out, hot: a.hot, piiKey: PII_KEY });
  return { ...a, out, report };
}

/** Runs one query in a fresh in-memory DuckDB. */
export async function duck(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try { return (await conn.runAndReadAll(sql)).getRowsJS() as unknown[][]; } finally { conn.closeSync(); instance.closeSync(); }
}
