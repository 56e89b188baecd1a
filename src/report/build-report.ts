/**
 * `pitwall report`: every metric recomputed in DuckDB over the whole archive, written as
 * `<out>/<metric>.parquet` and `<out>/<metric>.csv`, with one self-contained `<out>/report.html`
 * (a chart per metric, per-stream counts from the archive's lanes and, given a hot result
 * directory, the reconciliation summary). The recomputation itself (`<metric>.ndjson` and
 * `_summary.json`) is kept under `<out>/cold/`, ready for `pitwall reconcile --cold`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Catalog } from '../catalog/index.js';
import { recompute } from '../cold/recompute.js';
import { displayWindow, type MetricPlan } from '../plan/index.js';
import { reconcile, type Reconciliation } from '../reconcile/reconcile.js';
import type { ResultRow } from '../util/result-row.js';
import { hasLane, readArchiveManifest } from '../archive/archive-lanes.js';
import { exportMetric } from './export-metric.js';
import { renderReportHtml, type MetricSection } from './html-page.js';
import { metricSeries } from './metric-series.js';
import { streamCounts, type StreamReport } from './stream-counts.js';

export interface ReportOptions {
  readonly archive: string;
  readonly out: string;
  /** A hot result directory (`pitwall replay --out`) to reconcile against. */
  readonly hot?: string | undefined;
  /** The archive's key for `pii: hash` fields, so hot values compare hashed (see reconcile). */
  readonly piiKey?: string | undefined;
  /** Fixed "generated at" time (tests); defaults to now. */
  readonly generatedAt?: string;
}

export interface ReportResult {
  readonly html: string;
  readonly coldDir: string;
  readonly streams: readonly StreamReport[];
  readonly metrics: readonly { name: string; rows: number; parquet: string; csv: string }[];
  readonly reconciliation: Reconciliation | undefined;
}

function readRows(path: string): ResultRow[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ResultRow);
}

/** Builds the report (see the module comment); returns what it wrote. */
export async function buildReport(catalog: Catalog, plans: readonly MetricPlan[], options: ReportOptions): Promise<ReportResult> {
  const entries = readArchiveManifest(options.archive);
  const coldDir = join(options.out, 'cold');
  mkdirSync(options.out, { recursive: true });
  const summary = await recompute(catalog, plans, { archive: options.archive }, coldDir);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const metrics: ReportResult['metrics'][number][] = [];
    const sections: MetricSection[] = [];
    for (const plan of plans) {
      const ndjson = join(coldDir, `${plan.name}.ndjson`);
      const files = await exportMetric(conn, plan, ndjson, options.out);
      const rows = readRows(ndjson);
      metrics.push({ name: plan.name, rows: rows.length, ...files });
      sections.push({
        name: plan.name, stream: plan.stream.name, window: displayWindow(plan.window), rows: summary.metrics[plan.name]?.rows ?? rows.length,
        streamArchived: hasLane(entries, 'events', plan.stream.name), series: metricSeries(plan, rows), sql: plan.sql,
        files: [`${plan.name}.parquet`, `${plan.name}.csv`],
      });
    }
    const streams = await streamCounts(conn, options.archive, entries, options.hot);
    const reconciliation = options.hot ? reconcile(plans, options.hot, coldDir, options.piiKey) : undefined;
    const html = join(options.out, 'report.html');
    writeFileSync(html, renderReportHtml({ archive: options.archive, generatedAt: options.generatedAt ?? new Date().toISOString(), streams, metrics: sections, reconciliation }));
    return { html, coldDir, streams, metrics, reconciliation };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
