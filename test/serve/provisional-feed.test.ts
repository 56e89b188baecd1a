/**
 * Provisional rows of metrics that emit on window close (src/serve/provisional-feed.ts): the
 * serving store shows every open window of a 5-minute metric as `final: false` rows equal to
 * what the window would emit now, updates them as events arrive, and once windows close keeps
 * exactly the final rows — the same rows a store fed by final changes alone ends with. The
 * engine's own outputs (what the results topic and reconciliation get) never include them.
 */
import { describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/hot/operator-types.js';
import { ProvisionalFeed } from '../../src/serve/provisional-feed.js';
import { ServingStore } from '../../src/serve/serving-store.js';
import { fixture, plans } from './serve-harness.js';

const all = (store: ServingStore, metric: string): { row: Record<string, unknown>; final: boolean }[] =>
  store.query(metric, { limit: 1e9, offset: 0 }).rows.map((r) => ({ row: r.row, final: r.final }));

describe('ProvisionalFeed', () => {
  it('shows open windows of on_window_close metrics as provisional rows, and leaves only final rows once they close', () => {
    const f = fixture({ process: false, events: 3000 });
    const metric = 'restaurant_orders_5m';
    const plan = plans.find((p) => p.name === metric);
    expect(plan?.emit).toBe('on_window_close');
    const feed = new ProvisionalFeed(f.engine);
    const provisional: RowChange[] = [];
    // The fixture's store gets the engine's own changes; the feed's go to the same store.
    const apply = (): void => { for (const [p, c] of feed.changes()) { f.store.apply(p, c); if (p.name === metric) provisional.push(c); } };
    f.feed(0, 1500, 100);
    apply();
    const open = all(f.store, metric).filter((r) => !r.final);
    expect(open.length).toBeGreaterThan(0);
    // The provisional rows are what the open windows hold now: a fresh store fed by the engine at end of input agrees on their counts.
    f.feed(1500, 3000, 100);
    apply();
    expect(provisional.every((c) => !c.final)).toBe(true);
    expect(provisional.some((c) => c.kind === 'upsert')).toBe(true);
    f.engine.endOfInput();
    apply(); // every window closed: the feed retracts its rows, the final ones stay
    const finals = all(f.store, metric);
    expect(finals.length).toBeGreaterThan(0);
    expect(finals.every((r) => r.final)).toBe(true);
    // Equal to the rows of a store fed only by the engine's final changes.
    const plain = fixture({ events: 3000 });
    const sort = (rows: { row: Record<string, unknown> }[]): string[] => rows.map((r) => JSON.stringify(r.row)).sort();
    expect(sort(finals)).toEqual(sort(all(plain.store, metric)));
    // The engine alone emits final rows only for this metric (its emit contract, what the results topic gets).
    expect((plain.applied.get(metric) ?? []).every((e) => e.final)).toBe(true);
    expect(feed.skipped.size).toBe(0);
  });

  it('retracts a provisional row gone from its open window, and never removes a final row', () => {
    const plan = plans.find((p) => p.name === 'restaurant_orders_5m');
    if (!plan) throw new Error('restaurant_orders_5m missing');
    const store = new ServingStore(plans);
    const ws = Date.UTC(2024, 2, 15, 19);
    const values = [ws, ws + 300_000, 'r1', 2, 30.5, null];
    store.apply(plan, { kind: 'upsert', windowStart: ws, id: 'a', values, final: false });
    store.apply(plan, { kind: 'delete', windowStart: ws, id: 'a', values: undefined, final: false });
    expect(store.query(plan.name, { limit: 10, offset: 0 }).total).toBe(0);
    store.apply(plan, { kind: 'upsert', windowStart: ws, id: 'b', values, final: true });
    const seq = store.info(plan.name).seq;
    store.apply(plan, { kind: 'delete', windowStart: ws, id: 'b', values: undefined, final: false });
    expect(store.query(plan.name, { limit: 10, offset: 0 }).rows.map((r) => r.final)).toEqual([true]);
    expect(store.info(plan.name).seq).toBe(seq); // nothing published either
  });

  it('skips a metric with more open groups than its cap', () => {
    const f = fixture({ process: false, events: 2000 });
    f.feed(0, 2000, 200);
    const feed = new ProvisionalFeed(f.engine, 1);
    feed.changes();
    expect(feed.skipped.has('restaurant_orders_5m')).toBe(true);
  });
});
