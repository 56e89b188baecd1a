/** (a) operator-only throughput on pre-decoded events; (d) bytes of state per open (window, key). */
import type { ValidEvent } from '../src/catalog/index.js';
import { Engine } from '../src/hot/engine.js';
import { benchCatalog, benchPayload, gc, timeIt, type Figure } from './common.js';

function decoded(n: number, keys: number): ValidEvent[] {
  const out: ValidEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const payload = benchPayload(i, keys);
    out[i] = { ok: true, eventId: payload.eventId as string, eventTimeMs: payload.eventTime as number, payload };
  }
  return out;
}

export async function operatorThroughput(n = 3_000_000): Promise<Figure[]> {
  const { catalog, plan } = benchCatalog();
  const events = decoded(n, 10_000);
  let rows = 0;
  const engine = new Engine(catalog, [plan], { result: () => { rows++; } });
  const rt = engine.stream('orders');
  const origin = { partition: 0, offset: 0 };
  // Warm up the JIT on a slice, then measure a fresh engine on the whole set.
  for (let i = 0; i < 200_000; i++) rt.processValid(events[i] as ValidEvent, origin, 0);
  const engine2 = new Engine(catalog, [plan], { result: () => { rows++; } });
  const rt2 = engine2.stream('orders');
  gc();
  const secs = await timeIt(() => {
    for (let i = 0; i < n; i++) rt2.processValid(events[i] as ValidEvent, origin, 0);
    rt2.endOfInput();
  });
  const rate = n / secs;
  return [{ id: 'a', what: `operator-only, pre-decoded: 1-min TUMBLE count/sum/avg over 10,000 keys (${n.toLocaleString('en-US')} events, ${rows.toLocaleString('en-US')} rows)`, value: `${Math.round(rate).toLocaleString('en-US')} events/s`, target: '≥ 1,000,000 events/s', met: rate >= 1_000_000 }];
}

export async function stateBytes(): Promise<Figure[]> {
  // A watermark delay of ten years keeps every window open while we measure.
  const { catalog, plan } = benchCatalog('orders', '3650d');
  const windows = 20;
  const keys = 50_000;
  const engine = new Engine(catalog, [plan], { result: () => undefined }, { maxGroups: 10_000_000 });
  const rt = engine.stream('orders');
  const origin = { partition: 0, offset: 0 };
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let w = 0; w < windows; w++) {
    for (let k = 0; k < keys; k++) {
      const payload = { eventId: `w${w}k${k}`, eventTime: 1_710_000_000_000 + w * 60_000, data: { restaurantId: `r${k}`, orderTotal: 1.5 } };
      rt.processValid({ ok: true, eventId: payload.eventId, eventTimeMs: payload.eventTime, payload }, origin, 0);
      rt.dedup.expire(Number.POSITIVE_INFINITY); // measure window state only, not dedup ids
    }
  }
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const after = process.memoryUsage().heapUsed;
  const groups = engine.stateSize().bench_1m?.groups ?? 0;
  const perGroup = (after - before) / groups;
  return [{ id: 'd', what: `heap bytes per open (window, key), count/sum/avg state (${groups.toLocaleString('en-US')} groups; the bench metric keeps count and two sums)`, value: `${Math.round(perGroup)} bytes`, target: '≤ 300 bytes (count/sum)', met: perGroup <= 300 }];
}
