/**
 * (g) SESSION scaling: CPU per event of the per-courier session metric (queries/
 * courier_sessions.sql, 15-minute gap) on the same number of events, about 20 events per second
 * of event time, with couriers drawn from 500 vs 50,000 ids, through the metric operator alone
 * (pre-decoded events, watermark = latest event time). Closing goes through a timer queue, so
 * the cost per event should not grow with the open keys beyond a log factor (target ≤ 2×).
 */
import type { ValidEvent } from '../src/catalog/index.js';
import { loadCatalog } from '../src/catalog/index.js';
import { MetricOperator } from '../src/hot/metric-operator.js';
import { loadQueries } from '../src/plan/index.js';
import { fmt, gc, timeIt, type Figure } from './common.js';

function events(n: number, couriers: number): ValidEvent[] {
  const out: ValidEvent[] = new Array(n);
  let seed = 7;
  const rand = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648; };
  for (let i = 0; i < n; i++) {
    const t = 1_710_000_000_000 + i * 50;
    const payload = { eventId: `e${i}`, eventType: i % 3 === 0 ? 'order.delivered' : 'order.picked_up', eventTime: t, data: { courierId: `k${Math.floor(rand() * couriers)}` } };
    out[i] = { ok: true, eventId: `e${i}`, eventTimeMs: t, payload };
  }
  return out;
}

export async function sessionScaling(n = Number(process.env.PITWALL_BENCH_SESSION_EVENTS ?? 300_000)): Promise<Figure[]> {
  const catalog = loadCatalog('catalog');
  const plan = loadQueries('queries', catalog).find((p) => p.name === 'courier_sessions');
  if (!plan) throw new Error('queries/courier_sessions.sql is missing');
  const origin = { partition: 0, offset: 0 };
  let rows = 0;
  const sink = { result: () => { rows++; }, late: () => undefined, overflow: () => undefined };
  const run = (evs: readonly ValidEvent[]): void => {
    const op = new MetricOperator(plan, sink, { maxGroups: 1_000_000 });
    let wm = Number.NEGATIVE_INFINITY;
    for (const ev of evs) {
      op.process(ev, origin, wm);
      if (ev.eventTimeMs > wm) { wm = ev.eventTimeMs; op.onWatermark(wm); }
    }
    op.onWatermark(Number.POSITIVE_INFINITY);
  };
  const few = events(n, 500);
  const many = events(n, 50_000);
  run(few); // JIT warm-up
  gc();
  rows = 0;
  const fewSecs = await timeIt(() => run(few));
  const fewRows = rows;
  gc();
  rows = 0;
  const manySecs = await timeIt(() => run(many));
  const manyRows = rows;
  const ratio = manySecs / fewSecs;
  const us = (s: number): string => `${fmt((s * 1e6) / n)} µs`;
  return [{
    id: 'g', what: `SESSION per courier (15-min gap), operator alone, ${n.toLocaleString('en-US')} events at 20/s of event time: CPU per event with 50,000 couriers vs 500`,
    // With 50,000 couriers nearly every event opens and later closes its own session (a row each).
    value: `${us(manySecs)} vs ${us(fewSecs)} per event (${manyRows.toLocaleString('en-US')} vs ${fewRows.toLocaleString('en-US')} session rows)`, ratio: ratio.toFixed(2), target: '≤ 2× (time ratio)', met: ratio <= 2,
  }];
}
