/**
 * ../shared/cases/session-close-scan: closing SESSION windows used to walk every open key's
 * session list on each watermark step, so CPU per event grew with the number of open keys.
 * Sessions now close through a timer queue: the sessions examined while closing are bounded by
 * sessions opened + events, whatever the number of keys, and the rows stay those of the cold path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, type ValidEvent } from '../../src/catalog/index.js';
import { GroupFolder } from '../../src/hot/group-folder.js';
import { SessionOperator } from '../../src/hot/session-operator.js';
import { findNode } from '../../src/plan/index.js';
import { events, plan, runCold } from '../support/cold-harness.js';
import { runHot } from '../support/parity.js';

const FIX = join('test', 'fixtures', 'cases', 'session-close-scan');
const catalog = loadCatalog('catalog');
const SQL = readFileSync(join(FIX, 'metric.sql'), 'utf8');
const metric = plan(SQL, catalog);

function courierEvents(n: number, couriers: number): ValidEvent[] {
  let seed = 7;
  const rand = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648; };
  const payloads = Array.from({ length: n }, (_, i) => ({
    eventId: `e${i}`, eventType: i % 3 === 0 ? 'order.delivered' : 'order.picked_up',
    eventTime: new Date(Date.UTC(2024, 2, 15, 19) + i * 50).toISOString(), data: { courierId: `k${Math.floor(rand() * couriers)}` },
  }));
  return events(metric.stream, payloads);
}

/** Runs the operator alone with watermark = latest event time; returns work and row counts. */
function closeWork(evs: readonly ValidEvent[]): { examined: number; opened: number; rows: number } {
  let rows = 0;
  const agg = findNode(metric.root, 'AggregateNode');
  if (!agg) throw new Error('no aggregate');
  const op = new SessionOperator(metric, new GroupFolder(agg), { emit: () => { rows++; }, late: () => undefined, overflow: () => undefined }, { maxGroups: 1_000_000 });
  let wm = Number.NEGATIVE_INFINITY;
  for (const ev of evs) {
    op.process(ev, { partition: 0, offset: 0 }, wm);
    if (ev.eventTimeMs > wm) { wm = ev.eventTimeMs; op.onWatermark(wm); }
  }
  op.onWatermark(Number.POSITIVE_INFINITY);
  // Every session that opened produced exactly one final row (none merged here: one courier per event).
  return { examined: op.examined, opened: rows, rows };
}

describe('session-close-scan', () => {
  it('examines at most sessions opened + events while closing, with 500 or 50,000 couriers', () => {
    const n = 60_000;
    for (const couriers of [500, 50_000]) {
      const w = closeWork(courierEvents(n, couriers));
      expect(w.rows).toBeGreaterThan(0);
      // A walk over open keys per watermark step would examine about open × steps: with 50,000
      // couriers and a 15-minute gap that is tens of thousands per step, billions in all.
      expect(w.examined, `${couriers} couriers`).toBeLessThanOrEqual(w.opened + n);
    }
  });

  it('gives the rows of the cold path on the case input', async () => {
    const lines = readFileSync(join(FIX, 'in.ndjson'), 'utf8').trim().split('\n');
    const hot = runHot(catalog, [metric], 'orders', lines.map((value, offset) => ({ partition: 0, offset, value })), 50);
    const cold = await runCold(SQL, catalog, lines.map((l) => JSON.parse(l) as Record<string, unknown>));
    const sort = (rows: readonly unknown[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
    expect(hot.rows.get(metric.name)?.length).toBeGreaterThan(50);
    expect(sort(hot.rows.get(metric.name) ?? [])).toEqual(sort(cold));
  });
});
