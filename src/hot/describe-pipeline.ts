/**
 * The hot path's operator chain for a metric, one line per operator, as `pitwall plan`
 * prints it. Each operator states how its memory is bounded.
 */
import { assertNever } from '../errors.js';
import { displayAggregate, displayExpr, displayWindow, planChain, type MetricPlan, type PlanNode } from '../plan/index.js';
import { formatDuration } from '../util/duration.js';

function describe(node: PlanNode, plan: MetricPlan): string[] {
  switch (node.kind) {
    case 'ScanNode': {
      const s = node.stream;
      return [
        `source(topic=${s.topic}, per-partition offsets)`,
        'decode(json) -> bad payloads to the quarantine lane',
        `validate(${s.fields.size} fields) -> failures to the quarantine lane with the reason`,
        `dedup(${s.eventId}, ttl=${formatDuration(s.dedupTtlMs)} event time) [memory: ids expire at ttl]`,
        `watermark(max event time - ${formatDuration(s.watermarkDelayMs)} per partition, min over partitions, idle after ${formatDuration(s.idleTimeoutMs)})`,
      ];
    }
    case 'LookupJoinNode':
      if (node.table.lookup) {
        const l = node.table.lookup;
        return [
          `enrich(${node.table.name}.${l.key} = ${displayExpr(node.probe)}: cache ttl=${formatDuration(l.cacheTtlMs)} size=${l.cacheSize}, breaker, concurrency=${l.concurrency}, timeout=${formatDuration(l.timeoutMs)}) -> fallbacks NULL, counted by reason; answers archived per event [memory: at most max_in_flight=${l.maxInFlight} events / ${l.maxInFlightBytes} chars waiting, in arrival order; full: the source is not read]`,
          `lookup_join(${node.joinType}, the event's answer) -> misses (404, NULL key, fallback) counted`,
        ];
      }
      return [`lookup_join(${node.joinType}, ${node.table.name}.${node.table.table?.key ?? '?'} = ${displayExpr(node.probe)}, version valid at event time) -> misses counted; table changes at or before the latest joined event time to the late lane [memory: versions older than the one valid at the watermark horizon dropped; at most max_versions=${node.table.table?.maxVersions ?? 0}, overflow counted]`];
    case 'FilterNode': return [`filter(${displayExpr(node.predicate)})`];
    case 'WindowAssignNode':
      return [`window_assign(${displayWindow(node.window)}) -> late (event, window) pairs past allowed_lateness=${formatDuration(plan.stream.allowedLatenessMs)} to the late lane`];
    case 'AggregateNode':
      return [`keyed_aggregate(keys=[${node.keys.map((k) => k.name).join(', ')}], ${node.aggregates.map(displayAggregate).join(', ')}) [memory: state freed at window close; open keys capped]`];
    case 'HavingNode': return [`having(${displayExpr(node.predicate)})`];
    case 'ProjectNode': return [`project(${node.columns.map((c) => c.name).join(', ')})`];
    case 'TopNNode': return [`top_n(per window, limit=${node.limit}) [memory: rows of open windows only]`];
    default: return assertNever(node, 'plan node');
  }
}

/** The operators, source first. */
export function describeHotPipeline(plan: MetricPlan): string[] {
  const ops = planChain(plan.root).reverse().flatMap((n) => describe(n, plan));
  ops.push(plan.emit === 'on_update'
    ? `emit(on_update: upsert per (metric, window_start, ${plan.window.type === 'cumulate' ? 'window_end, ' : ''}key) as results change; final row at window close)`
    : 'emit(on_window_close: one final row per (window, key) when watermark >= window_end + allowed_lateness)');
  return ops;
}
