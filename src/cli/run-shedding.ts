/**
 * `pitwall run --shed` and `--backfill D` (README "Shedding and backfill"), with --single: four
 * times a second the engine's lag goes to the shedding controller and its level to the engine; on the
 * backfill schedule, every closed shed interval whose windows have all closed on the hot path is
 * recomputed from the archive and its rows published marked backfilled.
 */
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import { backfillWindows } from '../cold/backfill.js';
import { backfillChanges } from '../hot/backfill-changes.js';
import type { Engine } from '../hot/engine.js';
import type { RowChange } from '../hot/operator-types.js';
import { ShedController, type LagSample, type ShedThresholds } from '../hot/shed-controller.js';
import type { ShedInterval, ShedLog } from '../hot/shed-log.js';
import type { MetricPlan } from '../plan/index.js';

/** How often the lag is sampled (ms): often enough to see a burst's backlog; the dwell keeps the level steady. */
export const SHED_SAMPLE_MS = 250;

/** The lag of a running engine: records behind the partition ends, and processing time − the lowest watermark of the streams metrics read. */
export function lagSample(engine: Engine, lag: ReadonlyMap<string, number>, nowMs: number): LagSample {
  let records = 0;
  for (const n of lag.values()) records += n;
  let wm = Number.POSITIVE_INFINITY;
  for (const s of engine.streams) if (s.metrics.length > 0) wm = Math.min(wm, s.watermark.watermarkMs);
  return { consumerLagRecords: lag.size > 0 ? records : undefined, eventLagMs: Number.isFinite(wm) ? Math.max(0, nowMs - wm) : undefined };
}

/**
 * A controller for `plans`: a metric left shed by a stop (`isShed`) stays shed until the lag
 * says otherwise, so the level starts at 2 when a standard metric is shed, 1 for batch only.
 */
export function restoredController(thresholds: ShedThresholds, plans: readonly MetricPlan[], isShed: (metric: string) => boolean): ShedController {
  const controller = new ShedController(thresholds);
  const shedTiers = new Set(plans.filter((p) => isShed(p.name)).map((p) => p.tier));
  if (shedTiers.size > 0) controller.restoreLevel(shedTiers.has('standard') ? 2 : 1, Date.now());
  return controller;
}

/** The log line of a level change from `before` to `level`. */
export function levelChangeMessage(before: number, level: number, sample: LagSample): string {
  return `${level > before ? 'shedding' : 'resuming'}: level ${level} (${level === 0 ? 'every metric live' : level === 1 ? 'batch metrics shed' : 'batch and standard metrics shed'}); event-time lag ${sample.eventLagMs ?? '?'} ms, ${sample.consumerLagRecords ?? '?'} records behind`;
}

/** Samples the lag every {@link SHED_SAMPLE_MS} ms and sheds or resumes metrics by tier. Returns a stop function. */
export function startShedding(engine: Engine, lag: () => ReadonlyMap<string, number>, thresholds: ShedThresholds, log: (msg: string) => void): () => void {
  const controller = restoredController(thresholds, engine.plans, (m) => engine.shedLog.isOpen(m));
  const timer = setInterval(() => {
    const now = Date.now();
    const sample = lagSample(engine, lag(), now);
    const before = controller.level;
    const level = controller.observe(sample, now);
    if (level !== before) log(levelChangeMessage(before, level, sample));
    engine.applyShedLevel(controller, now);
  }, SHED_SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Event time (ms) past which every window an interval affects has closed: its end + the window's reach + allowed lateness. */
function closedAfterMs(plan: MetricPlan, i: ShedInterval): number {
  const w = plan.window;
  const reach = w.type === 'session' ? w.gapMs : w.sizeMs;
  return (i.toMs as number) + reach + plan.stream.allowedLatenessMs;
}

/**
 * Backfills the closed intervals whose windows have all closed on the hot path: flushes the
 * archive, recomputes in DuckDB, publishes the rows (`publish`: results topic and serving
 * store) and marks the intervals done. Resolves with the number of windows backfilled.
 */
export async function backfillDue(engine: Engine | ShedSource, catalog: Catalog, archive: Pick<ArchiveWriter, 'flush'> | undefined, archiveDir: string, publish: (plan: MetricPlan, change: RowChange) => void, published?: () => Promise<void>): Promise<number> {
  const source: ShedSource = 'watermarkOf' in engine ? engine : { plans: engine.plans, shedLog: engine.shedLog, watermarkOf: (stream) => engine.stream(stream).watermark.watermarkMs };
  const plans = new Map(source.plans.map((p) => [p.name, p]));
  const due = source.shedLog.pending().filter((i) => {
    const p = plans.get(i.metric);
    return p !== undefined && source.watermarkOf(p.stream.name) >= closedAfterMs(p, i);
  });
  if (due.length === 0) return 0;
  await archive?.flush();
  const done = await backfillWindows(catalog, source.plans, { archive: archiveDir }, due.map((i) => ({ id: i.id, metric: i.metric, fromMs: i.fromMs, toMs: i.toMs as number })));
  let windows = 0;
  for (const d of done) {
    const toChange = backfillChanges(d.plan);
    for (const row of d.rows) publish(d.plan, toChange(row));
    windows += d.done.reduce((n, x) => n + x.windows, 0);
  }
  // Marked done once the rows are out (when the publisher says when: a failure leaves them pending for the next round).
  await published?.();
  source.shedLog.markBackfilled(done.flatMap((d) => d.done), Date.now());
  return windows;
}

/** What a backfill needs of a shedding run: its plans, its shed log and the watermark (ms) per stream (member threads: the lowest members report). */
export interface ShedSource {
  readonly plans: readonly MetricPlan[];
  readonly shedLog: ShedLog;
  watermarkOf(stream: string): number;
}
