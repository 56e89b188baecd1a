/**
 * The payload fields a metric reads (before aggregation: WHERE, the window's time column, GROUP
 * BY keys, aggregate arguments and FILTER clauses), and where each catalog version of its
 * stream carries them. Used by `pitwall validate` to show what a metric reads per version.
 */
import { locationIn } from '../catalog/index.js';
import { fieldsOf, type Expr } from './expr.js';
import { planChain, type MetricPlan } from './nodes.js';

/** Declared paths the metric reads, in plan order (scan side first), each once. */
export function fieldsRead(plan: MetricPlan): string[] {
  const exprs: Expr[] = [];
  const paths: string[] = [];
  for (const node of planChain(plan.root).reverse()) {
    if (node.kind === 'FilterNode') exprs.push(node.predicate);
    else if (node.kind === 'WindowAssignNode') paths.push(node.timeField);
    else if (node.kind === 'AggregateNode') {
      for (const k of node.keys) exprs.push(k.expr);
      for (const a of node.aggregates) {
        if (a.arg) exprs.push(a.arg);
        if (a.filter) exprs.push(a.filter);
      }
    }
  }
  for (const e of exprs) for (const p of fieldsOf(e)) paths.push(p);
  return [...new Set(paths)];
}

/** Per catalog version of the metric's stream (ascending): where it carries each field the metric reads; null when it lacks it. Empty without versions. */
export function versionReads(plan: MetricPlan): { version: number; fields: { field: string; from: string | null }[] }[] {
  const versions = plan.stream.versions;
  if (!versions) return [];
  const read = fieldsRead(plan);
  return [...versions.byNumber.values()].map((v) => ({ version: v.version, fields: read.map((field) => ({ field, from: locationIn(v, field)?.path ?? null })) }));
}
