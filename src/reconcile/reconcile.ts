/**
 * Reconciliation: hot results (replay or a running engine) against the cold recomputation,
 * per (metric, window, key). Every difference is classified:
 *
 * - `match`: same row (numbers within the column's tolerance: exact for integers, strings,
 *   timestamps; 1e-9 relative for doubles; the documented sketch error for approx_*);
 * - `late`: the rows differ, or one side is missing, in a window for which the hot path
 *   counted late (event, window) pairs of this metric, each late in its own partition (its
 *   window closed by that partition's own watermark) or after its partition was idle (the
 *   idle rule) — explained;
 * - `false_late`: the same, but some pair was neither: the watermark passed the event through
 *   other partitions while its own partition was behind and not idle (a rebalance, or a
 *   partition the watermark did not hold: ../shared/cases/run-restart-false-late) — unexplained;
 * - `missing_hot`, `missing_cold`, `mismatch`: unexplained.
 *
 * Late pairs written before the hot path recorded its partition evidence (no
 * `partition_idle`) are taken as explained, as before.
 *
 * Caps the hot path hit are never silent: the hot run's `_summary.json` names them as causes
 * (event ids forgotten at the dedup cap, pairs dropped at the group cap). They do not explain a
 * difference away (the data really differs), but they say where to look.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionError } from '../errors.js';
import { piiHash } from '../archive/pii.js';
import { findNode, outputWindowBound, type Expr, type MetricPlan } from '../plan/index.js';
import type { ResultRow, ResultValue } from '../util/result-row.js';
import type { ReplaySummary } from '../hot/replay.js';

/**
 * `backfilled`: a hot row marked `backfilled: true` (its window was shed on the hot path and
 * recomputed from the archive: README "Shedding and backfill") equal to the cold one: explained.
 */
export type DiffClass = 'match' | 'backfilled' | 'late' | 'false_late' | 'missing_hot' | 'missing_cold' | 'mismatch';

export interface Difference {
  readonly metric: string;
  readonly class: Exclude<DiffClass, 'match' | 'backfilled'>;
  readonly windowStart: string;
  readonly key: Record<string, ResultValue>;
  readonly hot: ResultRow | undefined;
  readonly cold: ResultRow | undefined;
  /** Late pairs the hot path counted for this window (0 for missing_hot, missing_cold, mismatch). */
  readonly latePairs: number;
}

export interface MetricReconciliation {
  readonly metric: string;
  readonly windows: number;
  readonly rows: number;
  readonly matches: number;
  readonly explained: number;
  readonly unexplained: number;
  readonly latePairs: number;
  /** Late pairs that lateness in their own partition or the idle rule does not explain (see `false_late`). */
  readonly falseLatePairs: number;
  readonly classes: Record<DiffClass, number>;
}

/**
 * A cap the hot run hit, read from its `_summary.json`: a possible cause of differences in the
 * metrics it names (hot counts a redelivery twice, or misses dropped pairs).
 */
export interface ReconcileCause {
  readonly kind: 'dedup_evicted' | 'group_overflow' | 'false_late';
  /** The stream (dedup_evicted) or metric (group_overflow, false_late) concerned. */
  readonly where: string;
  /** Ids forgotten, (event, window) pairs dropped, or false late pairs. */
  readonly count: number;
  /** Metrics whose rows it can change. */
  readonly metrics: readonly string[];
  readonly message: string;
}

export interface Reconciliation {
  readonly metrics: MetricReconciliation[];
  readonly differences: Difference[];
  readonly unexplained: number;
  /** Caps the hot run hit (see {@link ReconcileCause}); empty when none. */
  readonly causes: ReconcileCause[];
}

function readRows(path: string): ResultRow[] {
  if (!existsSync(path)) throw new ExecutionError('PW_RECONCILE_INPUT', `missing ${path}; run pitwall replay/recompute into that directory first`);
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ResultRow);
}

/** A result directory must exist and be a directory; a typo must not reconcile as a clean pass. */
function checkResultDir(side: 'hot' | 'cold', dir: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  const made = side === 'hot' ? 'pitwall replay --out' : 'pitwall recompute --out';
  if (!st) throw new ExecutionError('PW_RECONCILE_INPUT', `${side} result directory '${dir}' does not exist; pass the directory of ${made}, or run that first`);
  if (!st.isDirectory()) throw new ExecutionError('PW_RECONCILE_INPUT', `${side} result directory '${dir}' is a file, not a directory; pass the directory of ${made}`);
}

/** The caps the hot run hit, from its `_summary.json` (none when it has no summary). */
export function capCauses(plans: readonly MetricPlan[], hotDir: string): ReconcileCause[] {
  const path = join(hotDir, '_summary.json');
  if (!existsSync(path)) return [];
  const summary = JSON.parse(readFileSync(path, 'utf8')) as Partial<ReplaySummary>;
  const causes: ReconcileCause[] = [];
  for (const [stream, s] of Object.entries(summary.streams ?? {})) {
    const count = s.dedupEvicted ?? 0;
    if (count <= 0) continue;
    const metrics = plans.filter((p) => p.stream.name === stream).map((p) => p.name);
    causes.push({
      kind: 'dedup_evicted', where: stream, count, metrics,
      message: `stream ${stream}: ${count} event id(s) forgotten at the dedup cap (--max-dedup-ids); a later copy of one counted again on the hot path, the cold path drops it (metrics: ${metrics.join(', ') || 'none'})`,
    });
  }
  for (const [metric, m] of Object.entries(summary.metrics ?? {})) {
    if (!(m.overflow > 0)) continue;
    causes.push({
      kind: 'group_overflow', where: metric, count: m.overflow, metrics: [metric],
      message: `metric ${metric}: ${m.overflow} (event, window) pair(s) dropped at the open-group cap (--max-groups); the hot rows miss them`,
    });
  }
  return causes;
}

/**
 * One line of a hot run's `_late.ndjson` (or a row of the archive's late lane). Timestamps are
 * ISO-8601 UTC. `partition_watermark` / `partition_idle`: the event's own partition at its
 * arrival (hot/operator-types.ts LateEvidence; null watermark: −∞); absent in lanes written
 * before they were recorded.
 */
export interface LateLine {
  metric: string; window_start: string; window_end: string; event_time: string;
  partition?: number | null;
  partition_watermark?: string | null; partition_idle?: boolean | null;
}

/**
 * Whether a late pair is explained: late in its own partition, by the idle rule, or recorded
 * without evidence. A TUMBLE/HOP/CUMULATE window closed by the partition's own watermark has
 * end + allowed lateness ≤ it; a SESSION event was late for a session span starting at its
 * event time (or for a closed session it falls in), so its time + allowed lateness ≤ it.
 */
export function lateExplained(plan: MetricPlan, l: LateLine): boolean {
  if (l.partition_idle === undefined || l.partition_idle === null || l.partition_idle) return true;
  if (l.partition_watermark === undefined || l.partition_watermark === null) return false;
  const own = Date.parse(l.partition_watermark);
  const due = plan.window.type === 'session' ? Date.parse(l.event_time) : Date.parse(l.window_end);
  return due + plan.stream.allowedLatenessMs <= own;
}

/** The `false_late` cause of a metric with unexplained late pairs. */
function falseLateCause(plan: MetricPlan, lines: readonly LateLine[]): ReconcileCause {
  const parts = [...new Set(lines.map((l) => l.partition).filter((p): p is number => typeof p === 'number'))].sort((a, b) => a - b);
  return {
    kind: 'false_late', where: plan.name, count: lines.length, metrics: [plan.name],
    message: `metric ${plan.name}: ${lines.length} late pair(s) were not late in their own partition${parts.length ? ` (stream ${plan.stream.name} partition(s) ${parts.join(', ')})` : ''}, which was not idle: other partitions moved the watermark past them (a rebalance, or a partition the watermark did not hold); the hot rows miss these events`,
  };
}

function readLate(dir: string): LateLine[] {
  const path = join(dir, '_late.ndjson');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LateLine);
}

/** Relative tolerance per output column (0 = exact). */
export function columnTolerances(plan: MetricPlan): Map<string, number> {
  const agg = findNode(plan.root, 'AggregateNode');
  const project = findNode(plan.root, 'ProjectNode');
  const out = new Map<string, number>();
  for (const c of project?.columns ?? []) {
    let tol = c.type === 'double' ? 1e-9 : 0;
    if (c.expr.kind === 'AggRefExpr') {
      const fn = agg?.aggregates[c.expr.index]?.fn;
      // Exact below the sketch thresholds; past them: HLL p=12 (1.6% std error, ~3σ bound) and DDSketch (1%).
      if (fn === 'approx_count_distinct') tol = 0.05;
      if (fn === 'approx_quantile' || fn === 'quantile_cont') tol = 0.02;
    }
    out.set(c.name, tol);
  }
  return out;
}

function same(a: ResultValue | undefined, b: ResultValue | undefined, tol: number): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number' && tol > 0) return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
  return false;
}

/**
 * Output columns that carry a `pii: hash` field's value (a group key on the field, or MIN/MAX of
 * it): the archive holds that field hashed, so hot values are hashed before comparison.
 */
export function piiColumns(plan: MetricPlan): string[] {
  const agg = findNode(plan.root, 'AggregateNode');
  const project = findNode(plan.root, 'ProjectNode');
  const isPii = (e: Expr | undefined): boolean => e?.kind === 'FieldExpr' && plan.stream.fields.get(e.path)?.pii === 'hash';
  return (project?.columns ?? []).filter((c) => {
    if (c.expr.kind === 'KeyRefExpr') return isPii(agg?.keys[c.expr.index]?.expr);
    if (c.expr.kind === 'AggRefExpr') { const a = agg?.aggregates[c.expr.index]; return (a?.fn === 'min' || a?.fn === 'max') && isPii(a.arg); }
    return false;
  }).map((c) => c.name);
}

export function hashPii(plan: MetricPlan, rows: readonly ResultRow[], key: string | undefined): readonly ResultRow[] {
  const cols = piiColumns(plan);
  if (cols.length === 0 || rows.length === 0) return rows;
  if (!key) throw new ExecutionError('PW_RECONCILE_PII_KEY', `metric '${plan.name}' outputs pii: hash field values (${cols.join(', ')}) that the archive holds hashed; pass --pii-key (or set PITWALL_PII_KEY) with the archive's key`);
  return rows.map((r) => ({ ...r, ...Object.fromEntries(cols.map((c) => [c, r[c] === null || r[c] === undefined ? null : piiHash(key, r[c])])) }));
}

/** A metric's window-start column and group-key columns, by output name. */
function rowKeyColumns(plan: MetricPlan): { wsCol: string; keyCols: string[] } {
  const wsCol = plan.columns.find((c) => c.name === 'window_start')?.name ?? plan.columns.find((c) => c.type === 'timestamp')?.name ?? 'window_start';
  return { wsCol, keyCols: plan.keyColumns.map((i) => plan.columns[i]?.name as string) };
}

/** The identity of a metric's row: its window start and group key, as one string. */
export function rowIdOf(plan: MetricPlan): (r: ResultRow) => string {
  const { wsCol, keyCols } = rowKeyColumns(plan);
  return (r) => JSON.stringify([r[wsCol], ...keyCols.map((k) => r[k] ?? null)]);
}

/** Reconciles one metric's hot and cold rows. */
export function reconcileMetric(plan: MetricPlan, hot: readonly ResultRow[], cold: readonly ResultRow[], late: readonly LateLine[]): { summary: MetricReconciliation; differences: Difference[]; cause: ReconcileCause | undefined } {
  const { wsCol, keyCols } = rowKeyColumns(plan);
  const idOf = rowIdOf(plan);
  const tolerances = columnTolerances(plan);
  const hotBy = new Map(hot.map((r) => [idOf(r), r]));
  const coldBy = new Map(cold.map((r) => [idOf(r), r]));
  const mine = late.filter((l) => l.metric === plan.name);
  const falseLate = mine.filter((l) => !lateExplained(plan, l));
  // CUMULATE windows of one period share their start: late pairs count per (start, end).
  const weCol = plan.window.type === 'cumulate' ? plan.columns[outputWindowBound(plan, 'window_end')]?.name : undefined;
  const byWindow = (lines: readonly LateLine[]): Map<string, number> => {
    const out = new Map<string, number>();
    for (const l of lines) {
      const w = weCol ? `${l.window_start}|${l.window_end}` : l.window_start;
      out.set(w, (out.get(w) ?? 0) + 1);
    }
    return out;
  };
  const lateByWindow = byWindow(mine);
  const falseByWindow = byWindow(falseLate);
  const session = plan.window.type === 'session';
  const pairsFor = (r: ResultRow, lines: readonly LateLine[], counts: ReadonlyMap<string, number>): number => {
    const ws = String(r[wsCol]);
    if (!session) return counts.get(weCol ? `${ws}|${String(r[weCol])}` : ws) ?? 0;
    // A late event would have joined or bridged a session it falls within (or next to).
    const start = Date.parse(ws);
    const end = Date.parse(String(r.window_end ?? ws));
    return lines.filter((l) => { const t = Date.parse(l.event_time); return t >= start - (end - start) && t < end; }).length;
  };
  const classes: Record<DiffClass, number> = { match: 0, backfilled: 0, late: 0, false_late: 0, missing_hot: 0, missing_cold: 0, mismatch: 0 };
  const differences: Difference[] = [];
  const ids = new Set([...hotBy.keys(), ...coldBy.keys()]);
  const windows = new Set<string>();
  for (const id of ids) {
    const h = hotBy.get(id);
    const c = coldBy.get(id);
    const row = (h ?? c) as ResultRow;
    windows.add(String(row[wsCol]));
    let cls: DiffClass;
    if (h && c) cls = plan.columns.every((col) => same(h[col.name], c[col.name], tolerances.get(col.name) ?? 0)) ? 'match' : 'mismatch';
    else cls = h ? 'missing_cold' : 'missing_hot';
    if (cls === 'match') { if (h?.backfilled === true) classes.backfilled++; else classes.match++; continue; }
    const pairs = Math.max(h ? pairsFor(h, mine, lateByWindow) : 0, c ? pairsFor(c, mine, lateByWindow) : 0);
    const falsePairs = falseLate.length === 0 ? 0 : Math.max(h ? pairsFor(h, falseLate, falseByWindow) : 0, c ? pairsFor(c, falseLate, falseByWindow) : 0);
    if (falsePairs > 0) cls = 'false_late';
    else if (pairs > 0) cls = 'late';
    classes[cls]++;
    differences.push({ metric: plan.name, class: cls as Difference['class'], windowStart: String(row[wsCol]), key: Object.fromEntries(keyCols.map((k) => [k, row[k] ?? null])), hot: h, cold: c, latePairs: cls === 'late' || cls === 'false_late' ? pairs : 0 });
  }
  const unexplained = classes.false_late + classes.missing_hot + classes.missing_cold + classes.mismatch;
  return {
    summary: { metric: plan.name, windows: windows.size, rows: ids.size, matches: classes.match, explained: classes.late + classes.backfilled, unexplained, latePairs: mine.length, falseLatePairs: falseLate.length, classes },
    differences,
    cause: falseLate.length > 0 ? falseLateCause(plan, falseLate) : undefined,
  };
}

/**
 * Reconciles every metric between a hot result directory and a cold one. When the cold side
 * was computed from the archive, hot values of `pii: hash` fields are hashed with `piiKey`
 * first, so both sides compare the same form.
 */
export function reconcile(plans: readonly MetricPlan[], hotDir: string, coldDir: string, piiKey?: string): Reconciliation {
  checkResultDir('hot', hotDir);
  checkResultDir('cold', coldDir);
  // Every metric needs its file on both sides: a metric in neither is not a pass, it was never computed.
  const missing = plans.flatMap((p) => [join(hotDir, `${p.name}.ndjson`), join(coldDir, `${p.name}.ndjson`)]).filter((f) => !existsSync(f));
  if (missing.length) {
    throw new ExecutionError('PW_RECONCILE_INPUT', `missing result file(s): ${missing.join(', ')}; run pitwall replay (hot) and pitwall recompute (cold) with the same --queries into those directories first`);
  }
  const late = readLate(hotDir);
  const coldSummary = join(coldDir, '_summary.json');
  const fromArchive = existsSync(coldSummary) && (JSON.parse(readFileSync(coldSummary, 'utf8')) as { source?: string }).source === 'archive';
  const metrics: MetricReconciliation[] = [];
  const differences: Difference[] = [];
  const causes = capCauses(plans, hotDir);
  for (const p of plans) {
    const hotPath = join(hotDir, `${p.name}.ndjson`);
    const coldPath = join(coldDir, `${p.name}.ndjson`);
    const hot = readRows(hotPath);
    const r = reconcileMetric(p, fromArchive ? hashPii(p, hot, piiKey) : hot, readRows(coldPath), late);
    metrics.push(r.summary);
    for (const d of r.differences) differences.push(d);
    if (r.cause) causes.push(r.cause);
  }
  return { metrics, differences, unexplained: metrics.reduce((n, m) => n + m.unexplained, 0), causes };
}

/** The per-metric summary as a text table. */
export function formatReconciliation(r: Reconciliation): string {
  const head = ['metric', 'windows', 'rows', 'match', 'backfilled', 'late (explained)', 'late pairs', 'false_late', 'missing_hot', 'missing_cold', 'mismatch', 'unexplained'];
  const rows = r.metrics.map((m) => [m.metric, m.windows, m.rows, m.matches, m.classes.backfilled, m.classes.late, m.latePairs, m.classes.false_late, m.classes.missing_hot, m.classes.missing_cold, m.classes.mismatch, m.unexplained].map(String));
  const widths = head.map((h, i) => rows.reduce((w, row) => Math.max(w, (row[i] as string).length), h.length));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const out = [line(head), ...rows.map(line)];
  for (const d of r.differences.filter((x) => x.class !== 'late').slice(0, 20)) {
    out.push(`UNEXPLAINED ${d.class} ${d.metric} window ${d.windowStart} key ${JSON.stringify(d.key)}: hot ${JSON.stringify(d.hot ?? null)} cold ${JSON.stringify(d.cold ?? null)}`);
  }
  for (const c of r.causes) out.push(`${r.unexplained === 0 ? 'note' : 'possible cause'}: ${c.message}`);
  out.push(r.unexplained === 0 ? 'ok: every difference is explained' : `FAILED: ${r.unexplained} unexplained difference(s)`);
  return out.join('\n');
}
