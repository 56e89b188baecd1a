/**
 * Provisional rows for dashboards: a metric that emits on window close publishes nothing for
 * its open window until the window closes (a 5-minute metric would stay blank for five
 * minutes). The feed reads the rows every open TUMBLE/HOP/CUMULATE window would emit now, every
 * `intervalMs` on the engine's thread, and hands the serving store what changed since the last
 * read as `final: false` upserts, and `final: false` deletes for rows gone from a still-open
 * window or from a window that closed (the serving store never lets those remove a final row;
 * ServingStore.apply). The results topic, the archive and reconciliation never see these rows:
 * each metric keeps its emit contract there.
 *
 * Bounds: a metric with more than `maxGroups` open groups is skipped (reading it every second
 * would cost the engine too much; `skipped` names it); the feed keeps one string per row shown.
 * SESSION metrics are not read (a session's rows exist only once it closes).
 */
import type { Engine } from '../hot/engine.js';
import type { MetricOperator } from '../hot/metric-operator.js';
import type { RowChange } from '../hot/operator-types.js';
import type { Val } from '../hot/eval/compile-expr.js';
import type { MetricPlan } from '../plan/index.js';

/** Most open groups of a metric the feed reads. */
export const PROVISIONAL_MAX_GROUPS = 20_000;

export class ProvisionalFeed {
  readonly #operators: () => readonly MetricOperator[];
  readonly #maxGroups: number;
  /** Per metric: row key (`windowStart|id`) → its values as JSON, as last handed over. */
  readonly #shown = new Map<string, Map<string, string>>();
  /** Metrics skipped at the last read (over the cap). */
  readonly skipped = new Set<string>();

  /**
   * `source`: an engine (its operators), or a function giving the operators that hold open
   * windows now (a group member's phase two: one per partials partition it owns, changing with
   * rebalances; the rows of every operator of a metric are read together).
   */
  constructor(source: Pick<Engine, 'streams'> | (() => readonly MetricOperator[]), maxGroups = PROVISIONAL_MAX_GROUPS) {
    this.#operators = typeof source === 'function' ? source : () => source.streams.flatMap((s) => s.metrics);
    this.#maxGroups = maxGroups;
  }

  /** What changed in the open windows since the last call, in order per metric. */
  changes(): [MetricPlan, RowChange][] {
    const out: [MetricPlan, RowChange][] = [];
    const byMetric = new Map<string, MetricOperator[]>();
    for (const m of this.#operators()) {
      if (m.plan.emit === 'on_update' || m.plan.window.type === 'session') continue;
      const list = byMetric.get(m.plan.name);
      if (list) list.push(m); else byMetric.set(m.plan.name, [m]);
    }
    // A metric no operator holds any more (its partitions moved): its rows go.
    for (const name of this.#shown.keys()) if (!byMetric.has(name)) byMetric.set(name, []);
    for (const [name, ops] of byMetric) {
      let rows: { windowStart: number; id: string; values: Val[] }[] | undefined = [];
      for (const op of ops) {
        const r = op.openRows(this.#maxGroups);
        if (r === undefined) { rows = undefined; break; }
        for (const x of r) rows.push(x);
      }
      if (rows === undefined) { this.skipped.add(name); continue; }
      this.skipped.delete(name);
      const plan = ops[0]?.plan ?? this.#plans.get(name);
      if (!plan) continue;
      this.#plans.set(name, plan);
      const before = this.#shown.get(name) ?? new Map<string, string>();
      const now = new Map<string, string>();
      const m = { plan };
      for (const r of rows) {
        const key = `${r.windowStart}|${r.id}`;
        const text = JSON.stringify(r.values);
        now.set(key, text);
        if (before.get(key) !== text) out.push([m.plan, { kind: 'upsert', windowStart: r.windowStart, id: r.id, values: r.values, final: false }]);
      }
      for (const key of before.keys()) {
        if (now.has(key)) continue;
        const at = key.indexOf('|');
        out.push([m.plan, { kind: 'delete', windowStart: Number(key.slice(0, at)), id: key.slice(at + 1), values: undefined, final: false }]);
      }
      if (now.size === 0 && ops.length === 0) this.#shown.delete(name); else this.#shown.set(name, now);
    }
    return out;
  }

  /** The plan of every metric shown (kept for retracting the rows of one no operator holds any more). */
  readonly #plans = new Map<string, MetricPlan>();
}
