/** EXPLAIN: one line per plan node, indented from the root down to the scan. */
import { assertNever } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { displayExpr } from './display-expr.js';
import type { AggregateCall, MetricPlan, PlanNode, WindowSpec } from './nodes.js';
import { planChain } from './nodes.js';

export function displayWindow(w: WindowSpec): string {
  switch (w.type) {
    case 'tumble': return `TUMBLE(size=${formatDuration(w.sizeMs)}${w.offsetMs ? `, offset=${formatDuration(w.offsetMs)}` : ''})`;
    case 'hop': return `HOP(slide=${formatDuration(w.slideMs)}, size=${formatDuration(w.sizeMs)}${w.offsetMs ? `, offset=${formatDuration(w.offsetMs)}` : ''})`;
    case 'cumulate': return `CUMULATE(step=${formatDuration(w.stepMs)}, size=${formatDuration(w.sizeMs)}${w.offsetMs ? `, offset=${formatDuration(w.offsetMs)}` : ''})`;
    case 'session': return `SESSION(gap=${formatDuration(w.gapMs)})`;
    default: return assertNever(w, 'window');
  }
}

export function displayAggregate(a: AggregateCall): string {
  const arg = a.arg ? displayExpr(a.arg) : '*';
  const body = a.fn === 'count_star' ? 'count(*)'
    : a.fn === 'count_distinct' ? `count(DISTINCT ${arg})`
      : a.quantile !== undefined ? `${a.fn}(${arg}, ${a.quantile})` : `${a.fn}(${arg})`;
  return `${a.name} := ${body}${a.filter ? ` FILTER (WHERE ${displayExpr(a.filter)})` : ''}`;
}

/** The one-line display of a plan node (used by EXPLAIN and golden tests). */
export function displayNode(node: PlanNode): string {
  switch (node.kind) {
    case 'ScanNode': {
      const s = node.stream;
      return `Scan: ${s.name} (topic=${s.topic}, event_id=${s.eventId}, event_time=${s.eventTime}, watermark_delay=${formatDuration(s.watermarkDelayMs)}, allowed_lateness=${formatDuration(s.allowedLatenessMs)}, dedup_ttl=${formatDuration(s.dedupTtlMs)})`;
    }
    case 'LookupJoinNode':
      if (node.table.lookup) {
        const l = node.table.lookup;
        return `LookupJoin: ${node.joinType.toUpperCase()} ${node.table.name} (external lookup, url=${l.url}, timeout=${l.timeoutMs}ms) ON ${node.table.name}.${l.key} = ${displayExpr(node.probe)}`;
      }
      return `LookupJoin: ${node.joinType.toUpperCase()} ${node.table.name} (key=${node.table.table?.key ?? '?'}, valid_from=${node.table.table?.validFrom ?? '?'}) ON ${node.table.name}.${node.table.table?.key ?? '?'} = ${displayExpr(node.probe)} AS OF event time`;
    case 'FilterNode': return `Filter: ${displayExpr(node.predicate)}`;
    case 'WindowAssignNode': return `WindowAssign: ${displayWindow(node.window)} on ${node.timeField}`;
    case 'AggregateNode': {
      const keys = node.keys.map((k) => (k.name === displayExpr(k.expr) ? k.name : `${k.name} := ${displayExpr(k.expr)}`));
      return `Aggregate: group=[window${keys.length ? `, ${keys.join(', ')}` : ''}] aggregates=[${node.aggregates.map(displayAggregate).join(', ')}]`;
    }
    case 'HavingNode': return `Having: ${displayExpr(node.predicate)}`;
    case 'ProjectNode': return `Project: ${node.columns.map((c) => (c.name === displayExpr(c.expr) ? c.name : `${c.name} := ${displayExpr(c.expr)}`)).join(', ')}`;
    case 'TopNNode': {
      const cols = node.input.kind === 'ProjectNode' ? node.input.columns : [];
      const order = node.orderBy.map((o) => `${cols[o.column]?.name ?? `#${o.column}`} ${o.descending ? 'DESC' : 'ASC'}${o.nullsFirst ? ' NULLS FIRST' : ''}`).join(', ');
      return `TopN: per window, ORDER BY ${order}, limit=${node.limit}${node.rankFunction ? ` (${node.rankFunction.toUpperCase()})` : ''}${node.rankColumn ? `, rank=${node.rankColumn}` : ''}`;
    }
    default: return assertNever(node, 'plan node');
  }
}

/** The plan as an indented tree, root first. */
export function explainPlan(plan: MetricPlan): string {
  const head = `Metric ${plan.name} [emit=${plan.emit}${plan.tier === 'standard' ? '' : `, tier=${plan.tier}`}, hash=${plan.hash}] -> (${plan.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`;
  return [head, ...planChain(plan.root).map((n, depth) => `${'  '.repeat(depth + 1)}${displayNode(n)}`)].join('\n');
}
