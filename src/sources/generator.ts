/**
 * Seeded, deterministic scenario generators: the same seed gives the same events, byte for
 * byte. Each scenario emits the stream's envelope (eventId, eventType, eventTime, data{…})
 * with the disorder live events have: jitter in arrival order, redelivered duplicates, a
 * fraction of late arrivals and a trickle of malformed payloads.
 */

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SCENARIOS = ['food-delivery', 'conference', 'esports', 'nexmark'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The catalog stream each scenario feeds. */
export const SCENARIO_STREAM: Record<Scenario, string> = { 'food-delivery': 'orders', conference: 'badge_scans', esports: 'match_events', nexmark: 'nexmark' };

export interface GeneratorOptions {
  readonly seed?: number;
  /** Event time of the first event (epoch ms). */
  readonly startMs?: number;
  /** Mean events per second of event time. */
  readonly ratePerSec?: number;
  /** Arrival jitter: events arrive up to this much event time out of order. */
  readonly jitterMs?: number;
  /** Fraction of events redelivered (a second copy, same eventId, a little later). */
  readonly duplicateRate?: number;
  /** Fraction of events delivered very late (held back by `lateByMs`). */
  readonly lateRate?: number;
  readonly lateByMs?: number;
  /** Fraction of payloads that are malformed (not JSON, missing or mistyped fields). */
  readonly malformedRate?: number;
  /** Number of distinct keys (restaurants, rooms, matches). */
  readonly keys?: number;
}

export interface GeneratedRecord {
  /** The raw payload text as a producer sends it. */
  readonly value: string;
  /** Event time in ms (NaN for malformed payloads). */
  readonly eventTimeMs: number;
  readonly kind: 'event' | 'duplicate' | 'late' | 'malformed';
  /** Partitioning key (the catalog's partition_key value). */
  readonly key: string;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

export function payload(scenario: Scenario, r: () => number, n: number, timeMs: number, keys: number): { body: Record<string, unknown>; key: string } {
  const id = `${scenario.slice(0, 3)}-${n.toString(36)}-${Math.floor(r() * 1e9).toString(36)}`;
  const eventTime = new Date(timeMs).toISOString();
  switch (scenario) {
    case 'food-delivery': {
      const restaurantId = `r${Math.floor(Math.pow(r(), 1.6) * keys)}`;
      const eventType = pick(r, ['order.created', 'order.created', 'order.created', 'order.delivered', 'order.cancelled']);
      const correlationId = `c-${Math.floor(r() * 1e6)}`;
      const data: Record<string, unknown> = {
        orderId: `o${n}`, customerId: `cust${Math.floor(r() * keys * 20)}`, restaurantId,
        orderTotal: Math.round((8 + r() * 80) * 100) / 100, itemCount: 1 + Math.floor(r() * 6),
        prepSeconds: Math.round(120 + r() * 900), courierId: r() < 0.8 ? `k${Math.floor(r() * keys)}` : null,
      };
      // Every fourth order comes from a newer producer: payload version 2 carries the prep time
      // as data.prep.seconds (catalog/orders.yaml maps it back), same values otherwise.
      const version = n % 4 === 3 ? 2 : 1;
      if (version === 2) {
        data.prep = { seconds: data.prepSeconds };
        delete data.prepSeconds;
      }
      return { key: restaurantId, body: { eventId: id, eventType, eventVersion: version, eventTime, correlationId, data } };
    }
    case 'conference': {
      const roomId = `room${Math.floor(Math.pow(r(), 1.3) * keys)}`;
      return {
        key: roomId,
        body: {
          eventId: id, eventType: 'badge.scanned', eventTime,
          data: { roomId, attendeeId: `a${Math.floor(r() * keys * 50)}`, direction: r() < 0.7 ? 'in' : 'out', ticketTier: r() < 0.1 ? 'vip' : 'standard', scannerId: `s${Math.floor(r() * 40)}` },
        },
      };
    }
    case 'nexmark': {
      // Nexmark's proportions: of every 50 events, 1 person, 3 auctions, 46 bids. Bids favour
      // recent auctions (hot items), as the benchmark's generator does.
      const slot = n % 50;
      const auctions = Math.max(1, Math.floor(n / 50) * 3 + (slot >= 1 ? Math.min(3, slot) : 0));
      if (slot === 0) {
        const person = Math.floor(n / 50);
        return { key: `p${person}`, body: { eventId: id, eventType: 'person', eventTime, data: { person, name: `person ${person}`, city: pick(r, ['Phoenix', 'Portland', 'Seattle', 'Boise']), state: pick(r, ['AZ', 'OR', 'WA', 'ID']) } } };
      }
      if (slot <= 3) {
        const auction = auctions - 1;
        return { key: `a${auction}`, body: { eventId: id, eventType: 'auction', eventTime, data: { auction, seller: Math.floor(r() * Math.max(1, n / 50)), category: 10 + Math.floor(r() * 5), initialBid: Math.round(r() * 1000) } } };
      }
      const hot = r() < 0.5;
      const auction = hot ? Math.max(0, auctions - 1 - Math.floor(r() * 10)) : Math.floor(r() * auctions);
      return { key: `a${auction}`, body: { eventId: id, eventType: 'bid', eventTime, data: { auction, bidder: Math.floor(r() * Math.max(1, n / 50 + 1)), price: Math.round(100 + Math.pow(r(), 3) * 100_000), channel: pick(r, ['Google', 'Facebook', 'Baidu', 'Apple']) } } };
    }
    case 'esports': {
      const matchId = `m${Math.floor(r() * keys)}`;
      const eventType = pick(r, ['combat.hit', 'combat.hit', 'economy.gold', 'objective.taken', 'debug.tick']);
      return {
        key: matchId,
        body: {
          eventId: id, eventType, eventTime,
          data: {
            matchId, teamId: r() < 0.95 ? pick(r, ['blue', 'red']) : null, playerId: `p${Math.floor(r() * 10)}`,
            damage: eventType === 'combat.hit' ? Math.round(r() * 500 * 10) / 10 : null, gold: eventType === 'economy.gold' ? Math.floor(r() * 300) : null,
            latencyMs: Math.round((10 + r() * r() * 120) * 10) / 10, highlight: r() < 0.03,
          },
        },
      };
    }
  }
}

export function malformed(r: () => number, body: Record<string, unknown>): string {
  switch (Math.floor(r() * 4)) {
    case 0: return JSON.stringify(body).slice(0, 20);
    case 1: { const { eventId: _drop, ...rest } = body; return JSON.stringify(rest); }
    case 2: return JSON.stringify({ ...body, eventTime: 'yesterday at noon' });
    // A required string field holding a number: wrong in every scenario's catalog.
    default: return JSON.stringify({ ...body, eventType: 42, data: { ...(body.data as object), orderTotal: 'twelve', damage: 'lots', attendeeId: 42 } });
  }
}

/**
 * Generates `count` deliveries (events plus duplicates), in arrival order. Arrival order is
 * event time plus jitter (and `lateByMs` for late ones).
 */
export function generate(scenario: Scenario, count: number, opts: GeneratorOptions = {}): GeneratedRecord[] {
  const r = prng(opts.seed ?? 42);
  const start = opts.startMs ?? Date.UTC(2024, 2, 15, 19, 0, 0);
  const rate = opts.ratePerSec ?? 200;
  const jitter = opts.jitterMs ?? 2000;
  const keys = opts.keys ?? 20;
  const out: { rec: GeneratedRecord; arrival: number }[] = [];
  let t = start;
  let n = 0;
  while (out.length < count) {
    // Bursts: the rate swings with a slow wave, like a dinner rush or a keynote surge.
    const wave = 1 + 0.8 * Math.sin((t - start) / 600_000);
    t += Math.max(1, Math.round((-Math.log(1 - r()) * 1000) / (rate * wave)));
    const { body, key } = payload(scenario, r, n++, t, keys);
    let arrival = t + r() * jitter;
    if (r() < (opts.malformedRate ?? 0)) {
      out.push({ rec: { value: malformed(r, body), eventTimeMs: Number.NaN, kind: 'malformed', key }, arrival });
      continue;
    }
    let kind: GeneratedRecord['kind'] = 'event';
    if (r() < (opts.lateRate ?? 0)) { arrival += opts.lateByMs ?? 120_000; kind = 'late'; }
    const value = JSON.stringify(body);
    out.push({ rec: { value, eventTimeMs: t, kind, key }, arrival });
    if (r() < (opts.duplicateRate ?? 0) && out.length < count) {
      out.push({ rec: { value, eventTimeMs: t, kind: 'duplicate', key }, arrival: arrival + r() * 5000 });
    }
  }
  return out.sort((a, b) => a.arrival - b.arrival).slice(0, count).map((o) => o.rec);
}
