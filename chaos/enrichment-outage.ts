/**
 * Enrichment outage: a stream fed at a fixed offered rate through the engine twice in one
 * process — once with a metric that joins no lookup (the no-enrichment rate), once with the same
 * metric LEFT JOINed to an external lookup on 127.0.0.1 whose service goes dead (accepts, never
 * answers) for `outageMs` mid-run. Measures the events folded per second of each pass over the
 * outage seconds, the breaker's transitions and the fallbacks counted. No broker.
 */
import { rmSync } from 'node:fs';
import { Engine } from '../src/hot/engine.js';
import { buildEnrichments } from '../src/hot/enrichment/build-stages.js';
import type { LookupStats } from '../src/hot/enrichment/lookup-client.js';
import type { RawRecord } from '../src/hot/stream-runtime.js';
import { enrichmentCatalog, lookupPlan, scan } from '../test/hot/enrichment/fixture.js';
import { LookupServer } from '../test/hot/enrichment/lookup-server.js';

export interface OutageOptions {
  /** Events offered per second. */
  readonly rate: number;
  readonly beforeMs: number;
  readonly outageMs: number;
  readonly afterMs: number;
  /** Distinct room keys (answers are cached `cacheTtl`, so the outage also meets expired keys). */
  readonly keys: number;
  readonly cacheTtl: string;
  readonly resetTimeout: string;
  readonly timeout: string;
  /** The breaker's rolling window. */
  readonly window: string;
  /** The lookup's `max_in_flight` (events waiting for answers; the catalog's default when absent). */
  readonly maxInFlight?: number;
}

export interface OutageResult {
  readonly offered: number;
  /** Events folded per second during the outage: without any lookup, and with the lookup whose service is down. */
  readonly baselineRate: number;
  readonly outageRate: number;
  /** outageRate / baselineRate. */
  readonly ratio: number;
  /** The worst whole second of the outage: events folded with the lookup / without, that second. */
  readonly worstSecondRatio: number;
  /** Events folded in each pass (all offered events, in both). */
  readonly baselineEvents: number;
  readonly enrichedEvents: number;
  readonly stats: LookupStats;
  /** Most events waiting in the enrichment window at once. */
  readonly peakWaiting: number;
  /** Seconds the source was held back by a full enrichment window over the run (stage.fullMs). */
  readonly heldBackSeconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Feeds `total` events at `rate`/s in 10 ms ticks; `fold` takes each tick's records, resolving when they are processed; counts events folded per phase. */
async function paced(o: OutageOptions, fold: (records: RawRecord[]) => Promise<number>, onPhase: (phase: 'outage' | 'after') => void): Promise<{ folded: number; outageFolded: number; outageSeconds: number[] }> {
  const total = Math.round((o.rate * (o.beforeMs + o.outageMs + o.afterMs)) / 1000);
  const perTick = o.rate / 100;
  const start = performance.now();
  let next = 0;
  let folded = 0;
  let outageFolded = 0;
  const outageSeconds: number[] = [];
  let phase: 'before' | 'outage' | 'after' = 'before';
  while (next < total) {
    const elapsed = performance.now() - start;
    const due = Math.min(total, Math.floor((elapsed / 10) * perTick) + Math.ceil(perTick));
    const batch: RawRecord[] = [];
    for (; next < due; next++) batch.push(scan(next, `room${next % o.keys}`, Math.floor(next / o.rate)));
    const n = await fold(batch);
    folded += n;
    const now = performance.now() - start;
    if (phase === 'outage') {
      outageFolded += n;
      const second = Math.floor((now - o.beforeMs) / 1000);
      if (second < Math.floor(o.outageMs / 1000)) outageSeconds[second] = (outageSeconds[second] ?? 0) + n;
    }
    if (phase === 'before' && now >= o.beforeMs) { phase = 'outage'; onPhase('outage'); }
    if (phase === 'outage' && now >= o.beforeMs + o.outageMs) { phase = 'after'; onPhase('after'); }
    await sleep(Math.max(0, 10 - (performance.now() - start - now)));
  }
  return { folded: folded + (await fold([])), outageFolded, outageSeconds };
}

export async function enrichmentOutage(o: OutageOptions): Promise<OutageResult> {
  const server = new LookupServer();
  await server.start();
  const { dir, catalog } = enrichmentCatalog(server.port, {
    timeout: o.timeout, concurrency: '8', cache: `{ ttl: ${o.cacheTtl}, size: 100000 }`, breaker: `{ error_threshold: 50, volume_threshold: 5, reset_timeout: ${o.resetTimeout}, window: ${o.window} }`,
    ...(o.maxInFlight === undefined ? {} : { max_in_flight: String(o.maxInFlight) }),
  });
  try {
    const plain = lookupPlan(catalog, `CREATE VIEW room_fill AS
SELECT window_start, window_end, s.data.roomId AS room, COUNT(*) AS entries
FROM TUMBLE(scans, eventTime, INTERVAL '1 minute') s
GROUP BY window_start, window_end, s.data.roomId;`);
    const base = new Engine(catalog, [plain], { result: () => undefined });
    const baseline = await paced(o, (records) => { base.process('scans', records, 0); return Promise.resolve(records.length); }, () => undefined);

    const joined = lookupPlan(catalog);
    const engine = new Engine(catalog, [joined], { result: () => undefined });
    const enrich = buildEnrichments([joined]);
    const stage = enrich.stages.get('scans');
    const client = enrich.clients.get('room_info');
    if (!stage || !client) throw new Error('no enrichment stage');
    let ended = false;
    const enriched = await paced(o, async (records) => {
      for (const r of records) await stage.admit(r);
      if (records.length === 0 && !ended) { ended = true; await stage.drain(); }
      const out = stage.take();
      engine.process('scans', out, 0);
      return out.length;
    }, (phase) => { server.mode = phase === 'outage' ? 'hang' : 'ok'; });
    enrich.close();
    const seconds = o.outageMs / 1000;
    const baselineRate = baseline.outageFolded / seconds;
    const outageRate = enriched.outageFolded / seconds;
    return {
      offered: o.rate, baselineRate, outageRate, ratio: outageRate / baselineRate,
      worstSecondRatio: baseline.outageSeconds.reduce((m, b, i) => Math.min(m, (enriched.outageSeconds[i] ?? 0) / b), Number.POSITIVE_INFINITY), baselineEvents: baseline.folded, enrichedEvents: enriched.folded,
      stats: { ...client.stats, fallbacks: { ...client.stats.fallbacks } }, peakWaiting: stage.peakWaiting, heldBackSeconds: stage.fullMs / 1000,
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
