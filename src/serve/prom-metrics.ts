/**
 * Prometheus metrics (prom-client): the pit-wall figures of a running engine. Totals are read
 * from the engine's counters at scrape time (`pitwall_dedup_evicted_total`, a counter, follows
 * each stream's DedupFilter.evicted); latency and checkpoint durations are histograms
 * observed as they happen.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FALLBACK_REASONS } from '../hot/enrichment/lookup-answer.js';
import { findNode } from '../plan/index.js';
import type { EngineHandle } from './engine-handle.js';

export class PitwallMetrics {
  readonly registry = new Registry();
  readonly latency: Histogram;
  readonly appendToResult: Histogram<'tier'>;
  readonly checkpointSeconds: Histogram;
  /** Time each checkpoint held the processing thread (capturing its changes). */
  readonly checkpointCaptureSeconds: Histogram;
  /** Bytes the state store's checkpoint transactions wrote. */
  readonly checkpointBytes: Counter;
  readonly sseClients: Gauge;
  readonly sseDropped: Counter;
  readonly sseResets: Counter<'reason'>;
  readonly sseRefused: Counter;
  readonly reconcile: Gauge;
  /** 1 while scheduled self-reconciliation is skipped (the group spans other processes), else 0. */
  readonly reconcileSkipped: Gauge;

  constructor(handle: EngineHandle) {
    const r = this.registry;
    /**
     * A cumulative figure the engine keeps, exposed as a counter (promtool and Prometheus' rate()
     * want `_total` series to be counters): each scrape reports, per label set, the most the figure
     * has reached, so work a group member dropped and then redid never makes the counter go back.
     */
    const observedCounter = <L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Iterable<[Partial<Record<L, string>>, number]>): void => {
      const reached = new Map<string, [Partial<Record<L, string>>, number]>();
      new Counter({ name, help, labelNames: [...labelNames], registers: [r], collect() {
        for (const [labels, v] of read()) {
          const key = JSON.stringify(labels);
          if (v > (reached.get(key)?.[1] ?? -1)) reached.set(key, [labels, v]);
        }
        this.reset();
        for (const [labels, v] of reached.values()) this.inc(labels as never, v);
      } });
    };
    const streamTotal = (name: string, help: string, pick: (s: ReturnType<EngineHandle['engine']['stats']>['streams'][string]) => number): void => {
      observedCounter(name, help, ['stream'], function* () {
        for (const [stream, s] of Object.entries(handle.engine.stats().streams)) yield [{ stream }, pick(s)];
      });
    };
    streamTotal('pitwall_events_total', 'Records read per stream (valid or not).', (s) => s.events);
    streamTotal('pitwall_accepted_total', 'Valid, first-arrival events per stream.', (s) => s.accepted);
    streamTotal('pitwall_quarantined_total', 'Payloads sent to the quarantine lane per stream.', (s) => s.quarantined);
    streamTotal('pitwall_duplicates_total', 'Redelivered events dropped by dedup per stream.', (s) => s.duplicates);
    streamTotal('pitwall_late_total', 'Events late for at least one window, per stream.', (s) => s.late);
    streamTotal('pitwall_misrouted_total', 'Records whose key belongs on another partition under Kafka\'s default (murmur2) partitioner, per stream: their producer uses another partitioner (deduplicated where the key belongs).', (s) => s.misrouted);
    const evictedSeen = new Map<string, number>();
    new Counter({ name: 'pitwall_dedup_evicted_total', help: 'Event ids forgotten early at the per-partition dedup cap (--max-dedup-ids), per stream: a later copy of one counts again on the hot path.', labelNames: ['stream'], registers: [r], collect() {
      // The engine's count only grows (a restore starts it at the checkpoint's); the counter follows it.
      for (const s of handle.engine.streams) {
        const stream = s.stream.name;
        const delta = s.dedup.evicted - (evictedSeen.get(stream) ?? 0);
        if (delta < 0) continue;
        this.inc({ stream }, delta);
        evictedSeen.set(stream, s.dedup.evicted);
      }
    } });
    const metricGauge = (name: string, help: string, pick: (name: string) => number): void => {
      new Gauge({ name, help, labelNames: ['metric'], registers: [r], collect() {
        for (const p of handle.plans) this.set({ metric: p.name }, pick(p.name));
      } });
    };
    const metricTotal = (name: string, help: string, pick: (name: string) => number): void => {
      observedCounter(name, help, ['metric'], function* () { for (const p of handle.plans) yield [{ metric: p.name }, pick(p.name)]; });
    };
    metricTotal('pitwall_rows_emitted_total', 'Final result rows emitted per metric.', (m) => handle.engine.stats().metrics[m]?.rows ?? 0);
    metricTotal('pitwall_updates_emitted_total', 'Provisional (on_update) rows emitted per metric.', (m) => handle.engine.stats().metrics[m]?.updates ?? 0);
    metricTotal('pitwall_late_pairs_total', 'Late (event, window) pairs per metric.', (m) => handle.engine.stats().metrics[m]?.late ?? 0);
    metricTotal('pitwall_overflow_total', '(event, window) pairs dropped at the open-group cap per metric.', (m) => handle.engine.stats().metrics[m]?.overflow ?? 0);
    metricTotal('pitwall_partials_after_close_total', 'Partials that reached their key\'s owner after its window closed, per metric (group mode; the partials protocol rules this out: anything but 0 is a bug to report).', (m) => handle.engine.stats().metrics[m]?.partialsAfterClose ?? 0);
    observedCounter('pitwall_join_misses_total', 'Events of a metric with a lookup join that found no version of their key valid at their event time (JOIN drops them, LEFT JOIN keeps them with NULL table columns), per metric and table.', ['metric', 'table'], function* () {
      for (const p of handle.plans) {
        const join = findNode(p.root, 'LookupJoinNode');
        if (join) yield [{ metric: p.name, table: join.table.name }, handle.engine.stats().metrics[p.name]?.joinMisses ?? 0];
      }
    });
    const shed = handle.shed?.bind(handle);
    if (shed) {
      new Gauge({ name: 'pitwall_metric_shed', help: '1 while the metric is shed (its hot-path operators skipped under load: README "Shedding and backfill"), else 0; per metric and tier.', labelNames: ['metric', 'tier'], registers: [r], collect() {
        this.reset();
        for (const [metric, s] of Object.entries(shed())) this.set({ metric, tier: s.tier }, s.shed ? 1 : 0);
      } });
      observedCounter('pitwall_shed_windows_total', 'Windows left incomplete on the hot path by shedding (their rows held back until backfilled), per metric.', ['metric'], function* () { for (const [metric, s] of Object.entries(shed())) yield [{ metric }, s.shedWindows]; });
      observedCounter('pitwall_backfilled_windows_total', 'Windows recomputed from the archive by backfill and published marked backfilled, per metric.', ['metric'], function* () { for (const [metric, s] of Object.entries(shed())) yield [{ metric }, s.backfilledWindows]; });
    }
    const enrichment = handle.enrichment?.bind(handle);
    if (enrichment) {
      observedCounter('pitwall_enrichment_fallback_total', 'Events that went on with NULL lookup columns, per external lookup and reason (breaker_open, timeout, http_status, network, bad_response).', ['lookup', 'reason'], function* () {
        for (const [lookup, e] of Object.entries(enrichment())) for (const reason of FALLBACK_REASONS) yield [{ lookup, reason }, e.fallbacks[reason]];
      });
      observedCounter('pitwall_enrichment_requests_total', 'HTTP requests to an external lookup by outcome: answered (a row or 404) or failed (timeout, network, HTTP status, bad answer).', ['lookup', 'outcome'], function* () {
        for (const [lookup, e] of Object.entries(enrichment())) { yield [{ lookup, outcome: 'answered' }, e.answered]; yield [{ lookup, outcome: 'failed' }, e.failed]; }
      });
      observedCounter('pitwall_enrichment_cache_hits_total', 'Keys answered from an external lookup\'s cache (no request).', ['lookup'], function* () {
        for (const [lookup, e] of Object.entries(enrichment())) yield [{ lookup }, e.cacheHits];
      });
      observedCounter('pitwall_enrichment_breaker_opened_total', 'Times an external lookup\'s circuit breaker opened.', ['lookup'], function* () {
        for (const [lookup, e] of Object.entries(enrichment())) yield [{ lookup }, e.opened];
      });
      const breakerCode = { closed: 0, half_open: 1, open: 2 } as const;
      new Gauge({ name: 'pitwall_enrichment_breaker_state', help: 'An external lookup\'s circuit breaker: 0 closed, 1 half-open (one trial call), 2 open (events fall back at once).', labelNames: ['lookup'], registers: [r], collect() {
        for (const [lookup, e] of Object.entries(enrichment())) this.set({ lookup }, breakerCode[e.state]);
      } });
      new Gauge({ name: 'pitwall_enrichment_waiting', help: 'Events waiting for an external lookup\'s answers now (in the enrichment window; the consumer stops pulling while it is full).', labelNames: ['lookup'], registers: [r], collect() {
        for (const [lookup, e] of Object.entries(enrichment())) this.set({ lookup }, e.waiting);
      } });
      observedCounter('pitwall_enrichment_window_full_seconds_total', 'Seconds the source was held back because the enrichment window was full (max_in_flight events or max_in_flight_bytes waiting for answers); a dead service costs one timeout per wave of calls, so size max_in_flight to at least the peak events/s times the lookup\'s timeout.', ['lookup'], function* () {
        for (const [lookup, e] of Object.entries(enrichment())) yield [{ lookup }, e.windowFullSeconds];
      });
    }
    metricGauge('pitwall_state_groups', 'Open (window, key) groups per metric.', (m) => handle.engine.stateSize()[m]?.groups ?? 0);
    metricGauge('pitwall_state_bytes', 'Approximate bytes of open state per metric.', (m) => handle.engine.stateSize()[m]?.bytes ?? 0);
    new Gauge({ name: 'pitwall_watermark_lag_seconds', help: 'Wall clock minus the stream watermark.', labelNames: ['stream'], registers: [r], collect() {
      for (const s of handle.engine.streams) {
        const wm = s.watermark.watermarkMs;
        if (Number.isFinite(wm)) this.set({ stream: s.stream.name }, (Date.now() - wm) / 1000);
      }
    } });
    new Gauge({ name: 'pitwall_consumer_lag', help: 'Messages behind the high watermark per topic partition.', labelNames: ['topic', 'partition'], registers: [r], collect() {
      for (const [tp, lag] of handle.lag()) {
        const i = tp.lastIndexOf(':');
        this.set({ topic: tp.slice(0, i), partition: tp.slice(i + 1) }, lag);
      }
    } });
    new Gauge({ name: 'pitwall_outbox_messages', help: 'Messages buffered for the broker per output topic (results topic, DLQs), not yet handed to a send; a growing figure means the broker falls behind.', labelNames: ['topic'], registers: [r], collect() {
      for (const [topic, n] of handle.outboxes?.() ?? []) this.set({ topic }, n);
    } });
    const group = handle.group?.bind(handle);
    if (group) {
      const groupFigure = (name: string, help: string, pick: (g: ReturnType<NonNullable<EngineHandle['group']>>) => number): void => {
        if (name.endsWith('_total')) observedCounter(name, help, [], function* () { yield [{}, pick(group())]; });
        else new Gauge({ name, help, registers: [r], collect() { this.set(pick(group())); } });
      };
      groupFigure('pitwall_group_members', 'Member threads of this process in its group.', (g) => g.members);
      groupFigure('pitwall_group_rebalances_total', 'Rebalances of the input group this process\'s members took part in (each reloads what it owns).', (g) => g.rebalances);
      groupFigure('pitwall_state_fenced_total', 'Checkpoints refused because another member owned what they would write (PW_STATE_FENCED).', (g) => g.fenced);
      groupFigure('pitwall_partials_resent_skipped_total', 'Partials messages skipped as already applied (a flush re-sent after its sender stopped).', (g) => g.skippedFlushes);
      groupFigure('pitwall_partials_foreign_store_total', 'Partials received from members with another state directory (a misconfigured group: results are not exact).', (g) => g.foreignFlushes);
    }
    new Gauge({ name: 'pitwall_last_checkpoint_age_seconds', help: 'Seconds since the last checkpoint.', registers: [r], collect() {
      const at = handle.lastCheckpointAt();
      if (at !== undefined) this.set((Date.now() - at) / 1000);
    } });
    const archive = handle.archive;
    if (archive) {
      observedCounter('pitwall_archive_rows_total', 'Rows handed to the archive per lane (events, quarantine, late).', ['lane'], function* () {
        yield [{ lane: 'events' }, archive.stats.events];
        yield [{ lane: 'quarantine' }, archive.stats.quarantined];
        yield [{ lane: 'late' }, archive.stats.late];
      });
      const archiveGauge = (name: string, help: string, pick: () => number): void => {
        if (name.endsWith('_total')) observedCounter(name, help, [], function* () { yield [{}, pick()]; });
        else new Gauge({ name, help, registers: [r], collect() { this.set(pick()); } });
      };
      archiveGauge('pitwall_archive_segments_total', 'Archive segments written and listed in the manifest.', () => archive.stats.segments);
      archiveGauge('pitwall_archive_bytes_total', 'Bytes of archive segments written.', () => archive.stats.bytes);
      archiveGauge('pitwall_archive_pending_segments', 'Segments handed to the archive writer and not yet listed (sources wait at 4).', () => archive.pendingSegments);
      archiveGauge('pitwall_archive_write_failures_total', 'Segment writes that failed (each is kept and retried).', () => archive.stats.writeFailures);
      archiveGauge('pitwall_archive_rejected_total', 'Accepted events the archive could not encode: moved to its quarantine lane as PW_ARCHIVE_RECORD (reconcile shows each as a difference).', () => archive.stats.rejected);
    }
    // In a group, rows come from partials published at checkpoints: up to an interval (5 s by default) later.
    this.latency = new Histogram({ name: 'pitwall_event_to_result_seconds', help: 'From a batch reaching the engine to the result rows it produced (in a group: from the first batch behind the partials flush that produced them).', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [r] });
    this.appendToResult = new Histogram({ name: 'pitwall_append_to_result_seconds', help: 'Per metric tier (pitwall run --single): from the first record of a batch reaching its input topic (its Kafka timestamp) to the first result row of that tier the batch produced. Unlike pitwall_event_to_result_seconds it includes the time records waited in Kafka (consumer lag): what shedding keeps low for critical metrics.', labelNames: ['tier'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [r] });
    this.checkpointSeconds = new Histogram({ name: 'pitwall_checkpoint_duration_seconds', help: 'Checkpoint duration, from capturing the changes to the offsets committed (processing goes on meanwhile).', buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [r] });
    this.checkpointCaptureSeconds = new Histogram({ name: 'pitwall_checkpoint_capture_seconds', help: 'Time a checkpoint held the processing thread: copying the state changed since the last checkpoint (the rest is written by the state store\'s own thread).', buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: [r] });
    this.checkpointBytes = new Counter({ name: 'pitwall_checkpoint_bytes_total', help: 'Bytes written to the state store by checkpoints (only what changed since the previous checkpoint).', registers: [r] });
    this.sseClients = new Gauge({ name: 'pitwall_sse_clients', help: 'Connected Server-Sent Events clients.', registers: [r] });
    this.sseDropped = new Counter({ name: 'pitwall_sse_dropped_total', help: 'SSE clients dropped: they fell behind their byte budget and did not read for the stall timeout.', registers: [r] });
    this.sseResets = new Counter({ name: 'pitwall_sse_resets_total', help: 'event: reset sent to SSE clients (they refetch /rows): reason behind (fell behind the byte budget, then drained), history (Last-Event-ID older than the kept history), bad_id (not an id of the stream).', labelNames: ['reason'], registers: [r] });
    this.sseRefused = new Counter({ name: 'pitwall_sse_refused_total', help: 'SSE streams refused with 503 PW_SERVE_BUSY (the cap in all or per address was reached).', registers: [r] });
    this.reconcile = new Gauge({ name: 'pitwall_reconcile_rows', help: 'Rows by reconciliation class at the last reconciliation.', labelNames: ['metric', 'class'], registers: [r] });
    this.reconcileSkipped = new Gauge({ name: 'pitwall_reconcile_skipped', help: '1 while --reconcile-every is skipped because other processes share the group (this process holds part of its rows and archive), else 0.', registers: [r] });
  }
}
