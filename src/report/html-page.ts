/**
 * The report page: one self-contained HTML document (inline CSS, inline SVG charts, no
 * scripts, no external fonts, images or links to anything but the sibling metric files).
 * Every value that did not come from this template is escaped with {@link escapeHtml}.
 */
import type { Reconciliation } from '../reconcile/reconcile.js';
import { escapeHtml } from './html-escape.js';
import type { MetricSeries } from './metric-series.js';
import type { StreamReport } from './stream-counts.js';
import { lineChartSvg } from './svg-chart.js';

export interface MetricSection {
  readonly name: string;
  readonly stream: string;
  /** The window, as EXPLAIN shows it (`TUMBLE(size=5m)`). */
  readonly window: string;
  readonly rows: number;
  /** Whether the archive holds any events of the metric's stream (for the "no rows" note). */
  readonly streamArchived: boolean;
  readonly series: MetricSeries;
  readonly sql: string;
  /** File names of the metric's Parquet and CSV files, relative to the page. */
  readonly files: readonly string[];
}

export interface ReportPage {
  readonly archive: string;
  readonly generatedAt: string;
  readonly streams: readonly StreamReport[];
  readonly metrics: readonly MetricSection[];
  readonly reconciliation: Reconciliation | undefined;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:980px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.25rem;margin:32px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
h3{font-size:1.05rem;margin:24px 0 4px}.meta{color:#5b6475;font-size:.9rem;margin:0 0 8px}
table{border-collapse:collapse;font-size:.9rem;margin:8px 0}th,td{border:1px solid #d8dde6;padding:4px 8px;text-align:left}
th{background:#f3f5f9;vertical-align:bottom}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}
.empty{border:1px dashed #b8c0cc;border-radius:6px;padding:24px;color:#5b6475;text-align:center;max-width:728px}
.chart{max-width:100%;height:auto;font-size:11px;font-family:inherit}.chart .grid{stroke:#e6e9ef}.chart .axis{stroke:#8a93a3}
.chart .tick{fill:#5b6475}.chart .axis-label{fill:#1d2330;font-size:12px}.chart .chart-title{fill:#1d2330;font-size:14px;font-weight:600}
.chart .line{fill:none;stroke:#2f6fdb;stroke-width:2;stroke-linejoin:round}.chart .point{fill:#2f6fdb}
.scroll{overflow-x:auto}details{margin:6px 0}pre{background:#f3f5f9;padding:8px;overflow-x:auto;font-size:.85rem}
`;

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number): string => (typeof v === 'number' ? `<td class="num">${escapeHtml(v.toLocaleString('en-US'))}</td>` : `<td>${escapeHtml(v)}</td>`);
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}\n</tbody></table></div>`;
}

function streamsSection(streams: readonly StreamReport[]): string {
  if (streams.length === 0) return '<h2>Streams</h2><p class="empty">The archive holds no segments.</p>';
  const counts = table(['stream', 'events (archived)', 'accepted', 'quarantined', 'duplicates', 'late events'],
    streams.map((s) => [s.stream, s.events, s.accepted, s.quarantined, s.duplicates ?? 'not archived', s.lateEvents]));
  const codes = streams.flatMap((s) => s.quarantineByCode.map((q) => [s.stream, q.code, q.count] as const));
  const late = streams.flatMap((s) => s.latePairsByMetric.map((l) => [s.stream, l.metric, l.pairs] as const));
  return [
    '<h2>Streams</h2>', counts,
    '<p class="meta">Duplicates are dropped before archiving: their count comes from the hot run\'s _summary.json (--hot).</p>',
    '<h3>Quarantined by reason</h3>', codes.length ? table(['stream', 'code', 'payloads'], codes) : '<p class="meta">No quarantined payloads.</p>',
    '<h3>Late (event, window) pairs by metric</h3>', late.length ? table(['stream', 'metric', 'late pairs'], late) : '<p class="meta">No late pairs.</p>',
  ].join('\n');
}

function reconciliationSection(r: Reconciliation | undefined): string {
  if (!r) return '';
  const rows = r.metrics.map((m) => [m.metric, m.windows, m.rows, m.matches, m.explained, m.latePairs, m.classes.false_late, m.classes.missing_hot, m.classes.missing_cold, m.classes.mismatch, m.unexplained]);
  const status = r.unexplained === 0 ? '<p class="ok">ok: every difference is explained</p>' : `<p class="bad">FAILED: ${escapeHtml(r.unexplained)} unexplained difference(s)</p>`;
  const diffs = r.differences.filter((d) => d.class !== 'late').slice(0, 20)
    .map((d) => [d.class, d.metric, d.windowStart, JSON.stringify(d.key), JSON.stringify(d.hot ?? null), JSON.stringify(d.cold ?? null)]);
  return ['<h2>Reconciliation (hot vs cold)</h2>',
    table(['metric', 'windows', 'rows', 'match', 'late (explained)', 'late pairs', 'false late', 'missing hot', 'missing cold', 'mismatch', 'unexplained'], rows),
    status, diffs.length ? table(['class', 'metric', 'window_start', 'key', 'hot', 'cold'], diffs) : ''].join('\n');
}

function metricSection(m: MetricSection): string {
  const files = m.files.map((f) => `<a href="${escapeHtml(encodeURIComponent(f))}">${escapeHtml(f)}</a>`).join(' · ');
  const chart = m.series.points.length
    ? lineChartSvg(m.series.points, { title: m.name, xLabel: 'window_start (UTC)', yLabel: m.series.yLabel })
    : `<p class="empty">no rows: ${m.streamArchived ? 'no window of this metric has data in the archive' : `the archive holds no events of stream ${escapeHtml(m.stream)}`}</p>`;
  return [`<section class="metric" id="metric-${escapeHtml(m.name)}">`, `<h3>${escapeHtml(m.name)}</h3>`,
    `<p class="meta">stream ${escapeHtml(m.stream)} · ${escapeHtml(m.window)} · ${escapeHtml(m.rows.toLocaleString('en-US'))} rows · ${files}</p>`,
    chart, `<details><summary>SQL</summary><pre>${escapeHtml(m.sql.trim())}</pre></details>`, '</section>'].join('\n');
}

/** Renders the whole report page. */
export function renderReportHtml(page: ReportPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pitwall report: ${escapeHtml(page.archive)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>pitwall report</h1>
<p class="meta">archive ${escapeHtml(page.archive)} · generated ${escapeHtml(page.generatedAt)} · ${escapeHtml(page.metrics.length)} metrics recomputed in DuckDB over the whole archive</p>
${streamsSection(page.streams)}
${reconciliationSection(page.reconciliation)}
<h2>Metrics</h2>
${page.metrics.map(metricSection).join('\n')}
</body>
</html>
`;
}
