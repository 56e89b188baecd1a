/**
 * The serving store: the latest version of every result row per metric, for the API and the
 * page. It is an idempotent upsert sink (the same change twice leaves the same rows) fed by
 * the engine, and it never blocks the engine: writes are O(1) map updates and subscriber
 * pushes into bounded per-client queues (the SSE route drops a client that falls behind).
 *
 * Memory: at most `maxWindows` windows per metric (the oldest are evicted, counted) and a
 * change log of the last `maxChanges` changes per metric for `Last-Event-ID` resume.
 */
import type { RowChange } from '../hot/operator-types.js';
import { formatRow } from '../hot/result-collector.js';
import { outputWindowBound, type MetricPlan } from '../plan/index.js';
import type { ResultRow } from '../util/result-row.js';
import { formatTimestamp } from '../util/timestamp.js';

export interface StoredRow {
  readonly windowStart: number;
  readonly id: string;
  readonly row: ResultRow;
  readonly final: boolean;
  /** Recomputed from the archive by a backfill: its window was shed on the hot path. */
  readonly backfilled?: boolean;
}

/** One change as pushed to subscribers and kept in the resume log. */
export interface ChangeEvent {
  /** Per-metric sequence number (the SSE event id). */
  readonly seq: number;
  readonly kind: 'upsert' | 'delete';
  readonly final: boolean;
  readonly windowStart: string;
  readonly key: string;
  readonly row: ResultRow | null;
}

export type Subscriber = (change: ChangeEvent) => void;

class MetricRows {
  readonly rows = new Map<string, StoredRow>();
  readonly windows = new Map<number, Set<string>>();
  readonly log: ChangeEvent[] = [];
  readonly subscribers = new Set<Subscriber>();
  seq = 0;
  lastUpdateAt = 0;
  evictedWindows = 0;
}

export interface QueryOptions {
  /** window_start >= from (epoch ms). */
  readonly from?: number | undefined;
  /** window_start < to (epoch ms). */
  readonly to?: number | undefined;
  /** Column equality filters (values compared as strings). */
  readonly filters?: Readonly<Record<string, string>>;
  readonly limit: number;
  readonly offset: number;
}

export class ServingStore {
  readonly #metrics = new Map<string, MetricRows>();
  readonly #plans = new Map<string, MetricPlan>();
  readonly maxWindows: number;
  readonly maxChanges: number;

  constructor(plans: readonly MetricPlan[], options: { maxWindows?: number; maxChanges?: number } = {}) {
    this.maxWindows = options.maxWindows ?? 1000;
    this.maxChanges = options.maxChanges ?? 10_000;
    for (const p of plans) {
      this.#plans.set(p.name, p);
      this.#metrics.set(p.name, new MetricRows());
    }
  }

  plan(name: string): MetricPlan | undefined { return this.#plans.get(name); }
  get plans(): MetricPlan[] { return [...this.#plans.values()]; }

  /** Applies one change from the engine. */
  apply(plan: MetricPlan, change: RowChange): void {
    const m = this.#metrics.get(plan.name);
    if (!m) return;
    const key = `${change.windowStart}|${change.id}`;
    let row: ResultRow | null = null;
    // A provisional delete retracts a provisional row only: never a final one, never nothing.
    if (change.kind === 'delete' && !change.final) {
      const existing = m.rows.get(key);
      if (!existing || existing.final) return;
    }
    if (change.kind === 'delete') {
      m.rows.delete(key);
      m.windows.get(change.windowStart)?.delete(key);
    } else {
      row = formatRow(plan, change.values ?? []);
      m.rows.set(key, { windowStart: change.windowStart, id: change.id, row, final: change.final, ...(change.backfilled ? { backfilled: true } : {}) });
      let w = m.windows.get(change.windowStart);
      if (!w) { w = new Set(); m.windows.set(change.windowStart, w); this.#evict(m); }
      w.add(key);
    }
    m.lastUpdateAt = Date.now();
    const event: ChangeEvent = { seq: ++m.seq, kind: change.kind, final: change.final, windowStart: formatTimestamp(change.windowStart), key: change.id, row };
    m.log.push(event);
    if (m.log.length > this.maxChanges) m.log.splice(0, m.log.length - this.maxChanges);
    for (const s of m.subscribers) s(event);
  }

  #evict(m: MetricRows): void {
    if (m.windows.size <= this.maxWindows) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const w of m.windows.keys()) if (w < oldest) oldest = w; // no spread: keys can be many
    for (const key of m.windows.get(oldest) ?? []) m.rows.delete(key);
    m.windows.delete(oldest);
    m.evictedWindows++;
  }

  /** Rows by window range and filters, newest window first, then by key. */
  query(metric: string, q: QueryOptions): { rows: StoredRow[]; total: number } {
    const m = this.#metrics.get(metric);
    if (!m) return { rows: [], total: 0 };
    const filters = Object.entries(q.filters ?? {});
    const matching = [...m.rows.values()].filter((r) => (q.from === undefined || r.windowStart >= q.from)
      && (q.to === undefined || r.windowStart < q.to)
      && filters.every(([col, v]) => String(r.row[col] ?? 'null') === v));
    matching.sort((a, b) => b.windowStart - a.windowStart || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { rows: matching.slice(q.offset, q.offset + q.limit), total: matching.length };
  }

  /**
   * Per key, the row of its newest window (final or still open): the latest window_start, and
   * for CUMULATE (whose windows of a period share it) the latest window_end.
   */
  latest(metric: string): StoredRow[] {
    const m = this.#metrics.get(metric);
    const plan = this.#plans.get(metric);
    if (!m || !plan) return [];
    const weCol = plan.window.type === 'cumulate' ? plan.columns[outputWindowBound(plan, 'window_end')]?.name : undefined;
    const keyCols = plan.keyColumns.map((i) => plan.columns[i]?.name as string).filter((n) => n !== weCol);
    const keyOf = (r: StoredRow): string => (weCol ? JSON.stringify(keyCols.map((k) => r.row[k] ?? null)) : r.id);
    const endOf = (r: StoredRow): number => (weCol ? Date.parse(String(r.row[weCol])) : 0);
    const byKey = new Map<string, StoredRow>();
    for (const r of m.rows.values()) {
      const k = keyOf(r);
      const prior = byKey.get(k);
      if (!prior || r.windowStart > prior.windowStart || (r.windowStart === prior.windowStart && endOf(r) > endOf(prior))) byKey.set(k, r);
    }
    return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  }

  /**
   * Subscribes to a metric's changes. With `afterSeq`, first replays the logged changes after
   * it; returns `resumed: false` when they are no longer in the log (the client must refetch).
   */
  subscribe(metric: string, fn: Subscriber, afterSeq?: number): { unsubscribe: () => void; resumed: boolean } {
    const m = this.#metrics.get(metric);
    if (!m) return { unsubscribe: () => undefined, resumed: false };
    let resumed = true;
    if (afterSeq !== undefined) {
      const first = m.log[0];
      // Ahead of this store's sequence: the id is from another server run, its history is gone.
      if (afterSeq > m.seq || (afterSeq < m.seq && (!first || first.seq > afterSeq + 1))) resumed = false;
      for (const e of m.log) if (e.seq > afterSeq) fn(e);
    }
    m.subscribers.add(fn);
    return { unsubscribe: () => { m.subscribers.delete(fn); }, resumed };
  }

  info(metric: string): { rows: number; windows: number; seq: number; lastUpdateAt: number; evictedWindows: number } {
    const m = this.#metrics.get(metric) as MetricRows;
    return { rows: m.rows.size, windows: m.windows.size, seq: m.seq, lastUpdateAt: m.lastUpdateAt, evictedWindows: m.evictedWindows };
  }
}
