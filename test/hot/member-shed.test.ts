/**
 * Shedding with member threads without threads: a ShedCoordinator (main thread) wired to two
 * MemberShed replicas (members) by plain calls. Shedding opens the interval from the members'
 * lowest watermark; every operator set of a member (later ones included) skips and shares one
 * skipped range; resuming closes the interval with the union of the members' acknowledged
 * ranges; phase two's rows of affected windows are held back, and rows that only the still-open
 * interval covered wait for the closed log and are released.
 */
import { describe, expect, it } from 'vitest';
import { MemberShed, type ShedAck, type ShedUpdate } from '../../src/hot/member-shed.js';
import { MetricOperator } from '../../src/hot/metric-operator.js';
import type { RowChange } from '../../src/hot/operator-types.js';
import { ShedCoordinator } from '../../src/hot/shed-coordinator.js';
import { ShedLog } from '../../src/hot/shed-log.js';
import type { MetricPlan } from '../../src/plan/index.js';
import { ORDERS_YAML, catalogOf, events, plan } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML); // allowed_lateness 0s
const BATCH = `-- tier: batch
CREATE VIEW revenue_1m AS SELECT window_start, data.restaurantId AS r, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId`;
const CRITICAL = `-- tier: critical
CREATE VIEW orders_1m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start`;
const plans = [plan(CRITICAL, catalog), plan(BATCH, catalog)];
const [critical, batch] = plans as [MetricPlan, MetricPlan];
const T0 = Date.parse('2024-03-15T19:00:00.000Z');
const MIN = 60_000;

const ev = (ms: number) => events(batch.stream, [{ eventId: `e${ms}`, eventType: 'order.created', eventTime: new Date(ms).toISOString(), data: { restaurantId: 'r1', orderTotal: 1 } }])[0] as NonNullable<ReturnType<typeof events>[number]>;
const ops = (): MetricOperator[] => plans.map((p) => new MetricOperator(p, { result: () => undefined, late: () => undefined, overflow: () => undefined }, { maxGroups: 1000 }, 'partial'));
const row = (windowStart: number): RowChange => ({ kind: 'upsert', windowStart, id: 'r1', values: [windowStart, 'r1', 1], final: true });

/** A coordinator and two members, messages delivered at once unless `hold` keeps them. */
function rig(log = new ShedLog()) {
  const emitted: [number, string, number][] = [];
  const acks: ShedAck[] = [];
  let held: ShedUpdate[] | undefined;
  const members: MemberShed[] = [];
  const deliver = (u: ShedUpdate): void => {
    members.forEach((m, i) => acks.push(m.update(u, (p, c) => emitted.push([i, p.name, c.windowStart]))));
    for (const a of acks.splice(0)) coordinator.ack(a);
  };
  const coordinator = new ShedCoordinator(plans, log, 2, (u) => { if (held) held.push(u); else deliver(u); });
  for (let i = 0; i < 2; i++) members.push(new MemberShed(plans, coordinator.initial()));
  return {
    coordinator, members, emitted,
    hold() { held = []; },
    release() { const h = held ?? []; held = undefined; for (const u of h) deliver(u); },
    /** Delivers queued updates to the members, keeping their acknowledgements back. */
    deliverOnly(): ShedAck[] { const out: ShedAck[] = []; for (const u of held ?? []) members.forEach((m, i) => out.push(m.update(u, (p, c) => emitted.push([i, p.name, c.windowStart])))); held = []; return out; },
  };
}

describe('shedding across member threads', () => {
  it('opens the interval from the lowest watermark, skips in every operator set, and closes with the union of the members\' skipped times', () => {
    const r = rig();
    const [a, b] = r.members as [MemberShed, MemberShed];
    const a1 = ops();
    a.adopt(a1);
    r.coordinator.apply((tier) => tier === 'batch', () => T0 + 5 * MIN, T0);
    a.adopt(a1);
    const a2 = ops(); // a partition assigned later
    a.adopt(a2);
    const b1 = ops();
    b.adopt(b1);
    expect(r.coordinator.shed).toEqual([batch.name]);
    expect(r.coordinator.log.intervals(batch.name)).toMatchObject([{ fromMs: T0 + 5 * MIN, toMs: null }]);
    expect(a1.map((o) => o.shed)).toEqual([false, true]);
    // Each operator set skips into its member's one range.
    a1[1]?.process(ev(T0 + 6 * MIN), { partition: 0, offset: 0 }, T0);
    a2[1]?.process(ev(T0 + 5 * MIN + 30_000), { partition: 1, offset: 0 }, T0);
    b1[1]?.process(ev(T0 + 8 * MIN + 10_000), { partition: 2, offset: 0 }, T0);
    a1[0]?.process(ev(T0 + 9 * MIN), { partition: 0, offset: 1 }, T0); // critical: computed
    expect(a.figures().skipped).toEqual([[batch.name, T0 + 5 * MIN + 30_000, T0 + 6 * MIN]]);
    expect(r.coordinator.sync([a.figures(), b.figures()])).toBe(true);
    expect(r.coordinator.log.intervals(batch.name)[0]?.skipped).toEqual({ minMs: T0 + 5 * MIN + 30_000, maxMs: T0 + 8 * MIN + 10_000 });

    r.coordinator.apply(() => false, () => T0 + 9 * MIN, T0 + 1000);
    expect(r.coordinator.closing).toBe(false);
    expect(r.coordinator.log.intervals(batch.name)).toMatchObject([{ fromMs: T0 + 5 * MIN, toMs: T0 + 8 * MIN + 10_001 }]);
    a.adopt([...a1, ...a2]);
    expect([...a1, ...a2].some((o) => o.shed)).toBe(false);
    // Windows 19:05 … 19:08; the critical metric untouched.
    const stats = r.coordinator.stats([a.figures(), b.figures()]);
    expect(stats[batch.name]).toEqual({ tier: 'batch', shed: false, since: undefined, shedWindows: 4, backfilledWindows: 0, pendingIntervals: 1 });
    expect(stats[critical.name]).toMatchObject({ shed: false, shedWindows: 0 });
    // Both replicas hold the closed interval: rows of its windows are held back, others go out.
    for (const m of [a, b]) {
      expect(m.filter(batch, row(T0 + 4 * MIN))).toBe(true);
      expect(m.filter(batch, row(T0 + 5 * MIN))).toBe(false);
      expect(m.filter(batch, row(T0 + 8 * MIN))).toBe(false);
      expect(m.filter(batch, row(T0 + 9 * MIN))).toBe(true);
      expect(m.filter(critical, row(T0 + 6 * MIN))).toBe(true);
    }
  });

  it('waits for every acknowledgement before closing, and rows only the open interval covered wait for the closed log', () => {
    const r = rig();
    const [a, b] = r.members as [MemberShed, MemberShed];
    const oa = ops();
    const ob = ops();
    r.coordinator.apply((tier) => tier === 'batch', () => T0 + 5 * MIN, T0);
    a.adopt(oa); b.adopt(ob);
    oa[1]?.process(ev(T0 + 6 * MIN), { partition: 0, offset: 0 }, T0);
    // While shed, every row past fromMs is held back.
    expect(a.filter(batch, row(T0 + 20 * MIN))).toBe(false);
    r.hold();
    r.coordinator.apply(() => false, () => T0 + 9 * MIN, T0 + 1000);
    const acks = r.deliverOnly();
    a.adopt(oa); b.adopt(ob);
    expect(acks.map((x) => x.closed)).toEqual([[[batch.name, { minMs: T0 + 6 * MIN, maxMs: T0 + 6 * MIN }, T0 + 21 * MIN]], [[batch.name, null, null]]]);
    // Members resumed, the interval is still open: a row of a window the closed interval will cover waits, as does one past it.
    expect(a.filter(batch, row(T0 + 6 * MIN))).toBe(false);
    expect(a.filter(batch, row(T0 + 12 * MIN))).toBe(false);
    expect(a.waiting).toBe(2);
    r.coordinator.ack(acks[0] as ShedAck);
    expect(r.coordinator.closing).toBe(true);
    // Nothing changes while a resume waits.
    expect(r.coordinator.apply((tier) => tier === 'batch', () => T0 + 9 * MIN, T0 + 2000)).toBe(false);
    r.coordinator.ack(acks[1] as ShedAck);
    expect(r.coordinator.closing).toBe(false);
    // The closed log: 19:06 stays held back, 19:12 goes out.
    expect(r.coordinator.log.intervals(batch.name)).toMatchObject([{ fromMs: T0 + 5 * MIN, toMs: T0 + 6 * MIN + 1 }]);
    r.release();
    expect(a.waiting).toBe(0);
    expect(r.emitted).toEqual([[0, batch.name, T0 + 12 * MIN]]);
  });

  it('an event skipped before the interval\'s start (a member re-reading after a reload) moves the start back', () => {
    const r = rig();
    const [a] = r.members as [MemberShed];
    const oa = ops();
    r.coordinator.apply((tier) => tier === 'batch', () => T0 + 5 * MIN, T0);
    a.adopt(oa);
    oa[1]?.process(ev(T0 + 2 * MIN + 5_000), { partition: 0, offset: 0 }, T0);
    r.coordinator.apply(() => false, () => T0 + 9 * MIN, T0 + 1000);
    expect(r.coordinator.log.intervals(batch.name)).toMatchObject([{ fromMs: T0 + 2 * MIN + 5_000, toMs: T0 + 2 * MIN + 5_001 }]);
    expect(a.filter(batch, row(T0 + 2 * MIN))).toBe(false);
  });

  it('a restart with an open interval starts shed from the floor, carrying the stored skipped times; disabling resumes every metric', () => {
    const stored = new ShedLog();
    stored.begin(batch.name, T0 + 5 * MIN, T0);
    const open = stored.intervals(batch.name)[0];
    if (open) open.skipped = { minMs: T0 + 5 * MIN, maxMs: T0 + 7 * MIN };
    const r = rig(stored);
    const [a] = r.members as [MemberShed];
    expect(r.coordinator.shed).toEqual([batch.name]);
    expect(a.isShed(batch.name)).toBe(true);
    expect(a.figures().skipped).toEqual([[batch.name, T0 + 5 * MIN, T0 + 7 * MIN]]);
    expect(a.filter(batch, row(T0))).toBe(false); // from the floor until it closes
    r.coordinator.disable('other processes share the group');
    r.coordinator.apply(() => true, () => T0 + 9 * MIN, T0 + 1000);
    expect(r.coordinator.shed).toEqual([]);
    // Closed from the earliest of the stored start, the skipped times and the rows held back.
    expect(r.coordinator.log.intervals(batch.name)).toMatchObject([{ fromMs: T0 + MIN - 1, toMs: T0 + 7 * MIN + 1 }]);
    r.coordinator.apply(() => true, () => T0 + 9 * MIN, T0 + 2000);
    expect(r.coordinator.shed).toEqual([]);
  });
});
