/**
 * `pitwall run --shed` and `--backfill D` with member threads (the default; README "Shedding and
 * backfill"). The main thread samples the pool's lag every {@link SHED_SAMPLE_MS} ms (records
 * behind, summed over members, and processing time − the lowest watermark members report for
 * the streams metrics read), feeds the controller, and its ShedCoordinator sheds and resumes
 * metrics in every member. Backfills run here, against the coordinator's log and the members'
 * watermarks, and publish through a producer of the main thread.
 */
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import type { MemberPool } from '../hot/member-pool.js';
import type { MemberFigures } from '../hot/member-protocol.js';
import type { RowChange } from '../hot/operator-types.js';
import type { LagSample, ShedThresholds } from '../hot/shed-controller.js';
import type { ShedCoordinator } from '../hot/shed-coordinator.js';
import type { MetricPlan } from '../plan/index.js';
import { ResultsTopicSink } from '../sinks/results-topic.js';
import { Kafka, logLevel } from '../sources/kafkajs.js';
import { backfillDue, levelChangeMessage, restoredController, SHED_SAMPLE_MS, type ShedSource } from './run-shedding.js';

/** How long (ms) this process's members must own only part of the group's partitions before other processes are taken to share it. */
export const SHARED_AFTER_MS = 15_000;

/** The lowest watermark (ms) members report per stream (−∞ for a stream none reported). */
function watermarks(pool: MemberPool): (stream: string) => number {
  const by = new Map(pool.view().streams.map((s) => [s.stream.name, s.watermark.watermarkMs]));
  return (stream) => by.get(stream) ?? Number.NEGATIVE_INFINITY;
}

/**
 * The watermark (ms) per stream that every event before it has been read at: the lowest of the
 * members owning the stream's input partitions, a member that owns some without a watermark yet
 * counting as −∞, and −∞ while some partition is owned by no member (a rebalance) or before every
 * member reported. What a backfill's "every window closed" check and a shed interval's start use.
 */
export function settledWatermarks(figures: readonly (MemberFigures | undefined)[], topicOf: (stream: string) => string | undefined): (stream: string) => number {
  return (stream) => {
    const topic = topicOf(stream);
    if (topic === undefined) return Number.NEGATIVE_INFINITY;
    let wm = Number.POSITIVE_INFINITY;
    let total: number | undefined;
    const owned = new Set<number>();
    for (const f of figures) {
      if (!f) return Number.NEGATIVE_INFINITY;
      total ??= f.owned.counts[topic];
      const parts = f.owned.input[topic] ?? [];
      if (parts.length === 0) continue;
      for (const p of parts) owned.add(p);
      wm = Math.min(wm, f.streams.find((s) => s.name === stream)?.watermarkMs ?? Number.NEGATIVE_INFINITY);
    }
    return total !== undefined && total > 0 && owned.size >= total && Number.isFinite(wm) ? wm : Number.NEGATIVE_INFINITY;
  };
}

/** The pool's lag: records behind summed over every member's partitions, and processing time − the lowest watermark of the streams metrics read. */
export function poolLagSample(lag: ReadonlyMap<string, number>, streamWatermarks: readonly number[], nowMs: number): LagSample {
  let records = 0;
  for (const n of lag.values()) records += n;
  let wm = Number.POSITIVE_INFINITY;
  for (const w of streamWatermarks) if (Number.isFinite(w)) wm = Math.min(wm, w);
  return { consumerLagRecords: lag.size > 0 ? records : undefined, eventLagMs: Number.isFinite(wm) ? Math.max(0, nowMs - wm) : undefined };
}

/**
 * Starts the sampling loop; returns its stop function and the source a backfill reads. Shedding
 * is turned off for good (every metric resumed) once other processes share the group: their
 * members neither hear this thread nor report to it.
 */
export function startMemberShedding(pool: MemberPool, coordinator: ShedCoordinator, plans: readonly MetricPlan[], thresholds: ShedThresholds, group: string, log: (msg: string) => void): { stop: () => void; source: ShedSource } {
  const controller = restoredController(thresholds, plans, (m) => coordinator.shed.includes(m));
  const streams = [...new Set(plans.map((p) => p.stream.name))];
  let partialSince: number | undefined;
  const topics = new Map(plans.map((p) => [p.stream.name, p.stream.topic]));
  const topicOf = (stream: string): string | undefined => topics.get(stream);
  const timer = setInterval(() => {
    const now = Date.now();
    const share = pool.ownsEverything();
    // A rebalance between this process's own threads leaves partitions unowned for a moment: only a share that stays partial counts.
    if (share && !share.whole) partialSince ??= now; else partialSince = undefined;
    if (share && !share.whole && now - (partialSince ?? now) >= SHARED_AFTER_MS && coordinator.disabled === undefined) {
      const why = `other processes share group ${group} (this process's members own ${share.owned} of its ${share.total} input and partials partitions): shedding runs within one process only, so every metric is resumed and none is shed again until restart; run the group's processes without --shed`;
      coordinator.disable(why);
      log(`ERROR shedding turned off: ${why}`);
    }
    const all = pool.figures();
    if (coordinator.sync(all.map((f) => f?.shed))) coordinator.log.onChange?.();
    const sample = poolLagSample(pool.lag(), streams.map(watermarks(pool)), now);
    const wm = settledWatermarks(all, topicOf);
    const before = controller.level;
    const level = coordinator.disabled === undefined ? controller.observe(sample, now) : controller.level;
    if (level !== before) log(`${levelChangeMessage(before, level, sample)} (${pool.size} member threads)`);
    coordinator.apply((tier) => controller.isShed(tier), wm, now);
  }, SHED_SAMPLE_MS);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    source: { plans, shedLog: coordinator.log, watermarkOf: (stream) => settledWatermarks(pool.figures(), topicOf)(stream) },
  };
}

/**
 * --backfill D with member threads: on the schedule, recomputes the due intervals from the
 * archive, publishes the rows marked backfilled to the results topic through the main thread's
 * own producer (acknowledged before the intervals are marked done) and to `serve`, then sends
 * the log to the members. Returns the stop function (disconnects the producer).
 */
export function scheduleMemberBackfill(source: ShedSource, coordinator: ShedCoordinator, catalog: Catalog, archive: ArchiveWriter | undefined, archiveDir: string, everyMs: number,
  kafka: { brokers: readonly string[]; resultsTopic: string }, serve: (p: MetricPlan, c: RowChange) => void, log: (msg: string) => void): () => Promise<void> {
  const producer = new Kafka({ clientId: 'pitwall-backfill', brokers: [...kafka.brokers], logLevel: logLevel.ERROR }).producer({ idempotent: true });
  const sink = new ResultsTopicSink(producer, kafka.resultsTopic);
  let connected: Promise<void> | undefined;
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = (connected ??= producer.connect())
      .then(() => backfillDue(source, catalog, archive, archiveDir, (p, c) => { sink.write(p, c); serve(p, c); }, () => sink.flush()))
      .then((n) => {
        if (!n) return;
        coordinator.sendLog();
        log(`backfill: ${n} windows recomputed from the archive and published marked backfilled`);
      }, (err: unknown) => { connected = undefined; log(`backfill failed (will retry): ${(err as Error).message}`); })
      .finally(() => { running = undefined; });
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    if (connected) await producer.disconnect().catch(() => undefined);
  };
}
