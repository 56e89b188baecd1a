/**
 * The enrichment stages of a run: one per stream whose metrics join an external lookup
 * (kind: lookup), sharing one client (cache, breaker, concurrency) per lookup.
 */
import type { FutureReference, StreamDef, ValidEvent } from '../../catalog/index.js';
import type { EventOrigin } from '../operator-types.js';
import { ExecutionError } from '../../errors.js';
import { findNode, type MetricPlan } from '../../plan/index.js';
import { compileRowExpr } from '../eval/compile-expr.js';
import { EnrichmentStage, type Enrichment, type StageLookup } from './enrichment-stage.js';
import type { FallbackReason } from './lookup-answer.js';
import { LookupClient, type BreakerState } from './lookup-client.js';

export interface Enrichments {
  /** Per stream name. */
  readonly stages: ReadonlyMap<string, EnrichmentStage>;
  /** Per lookup name. */
  readonly clients: ReadonlyMap<string, LookupClient>;
  /** Stops every client's breaker timers. */
  close(): void;
  /** Per lookup: what /metrics shows of it (hot/enrichment figures, README "External lookups"). */
  figures(): Record<string, EnrichmentFigures>;
  /** Archives every answer an accepted event carries (`to.enrichment` per lookup, in its lane), so recompute joins the same rows. */
  archive(to: { enrichment(lookup: StreamDef, stream: string, event: ValidEvent, origin: EventOrigin, e: Enrichment): void }, stream: string, event: ValidEvent, origin: EventOrigin, enriched: Readonly<Record<string, Enrichment>> | undefined): void;
}

/**
 * What /metrics shows of one lookup: cumulative counts (keys answered from the cache, HTTP
 * requests answered and failed, fallbacks by reason, breaker openings), the breaker's state and
 * the events waiting for it now (summed over the streams that join it).
 */
export interface EnrichmentFigures {
  readonly cacheHits: number;
  readonly answered: number;
  readonly failed: number;
  readonly fallbacks: Readonly<Record<FallbackReason, number>>;
  readonly opened: number;
  readonly state: BreakerState;
  readonly waiting: number;
  /** Seconds the streams that join it were held back by a full enrichment window, in all. */
  readonly windowFullSeconds: number;
}

/** True when a metric of `plans` joins an external lookup (kind: lookup). */
export function joinsExternalLookup(plans: readonly MetricPlan[]): boolean {
  return plans.some((p) => findNode(p.root, 'LookupJoinNode')?.table.kind === 'lookup');
}

/** The stages of `plans` ({@link buildEnrichments}), or undefined when no metric joins an external lookup. */
export function enrichmentsOf(plans: readonly MetricPlan[], futureReference: FutureReference): Enrichments | undefined {
  return joinsExternalLookup(plans) ? buildEnrichments(plans, futureReference) : undefined;
}

/**
 * Builds the stages of `plans`. The metrics of one stream that join one lookup must key it by
 * the same expression (the stage asks once per event and lookup): PW_ENRICH_PROBE otherwise.
 */
export function buildEnrichments(plans: readonly MetricPlan[], futureReference: FutureReference = 'event-time', now: () => number = Date.now): Enrichments {
  const clients = new Map<string, LookupClient>();
  const byStream = new Map<string, Map<string, { probe: string; lookup: StageLookup; metric: string }>>();
  for (const p of plans) {
    const join = findNode(p.root, 'LookupJoinNode');
    if (!join || join.table.kind !== 'lookup') continue;
    let client = clients.get(join.table.name);
    if (!client) { client = new LookupClient(join.table, now); clients.set(join.table.name, client); }
    const lookups = byStream.get(p.stream.name) ?? new Map<string, { probe: string; lookup: StageLookup; metric: string }>();
    byStream.set(p.stream.name, lookups);
    const probe = JSON.stringify(join.probe);
    const prior = lookups.get(join.table.name);
    if (prior && prior.probe !== probe) {
      throw new ExecutionError('PW_ENRICH_PROBE', `metrics ${prior.metric} and ${p.name} of stream ${p.stream.name} join lookup ${join.table.name} on different expressions; the stream's events are looked up once per lookup: join it on the same stream expression in both`);
    }
    if (!prior) lookups.set(join.table.name, { probe, lookup: { client, probe: compileRowExpr(join.probe) }, metric: p.name });
  }
  const stages = new Map([...byStream].map(([stream, lookups]) => {
    const def = plans.find((p) => p.stream.name === stream)?.stream;
    return [stream, new EnrichmentStage(def as NonNullable<typeof def>, [...lookups.values()].map((l) => l.lookup), futureReference)] as const;
  }));
  const figures = (): Record<string, EnrichmentFigures> => {
    const out: Record<string, EnrichmentFigures> = {};
    for (const [name, c] of clients) {
      let waiting = 0;
      let fullMs = 0;
      for (const s of stages.values()) if (s.lookupNames.includes(name)) { waiting += s.waiting; fullMs += s.fullMs; }
      out[name] = { cacheHits: c.stats.cacheHits, answered: c.stats.latencyCount, failed: c.stats.failures, fallbacks: { ...c.stats.fallbacks }, opened: c.stats.opened, state: c.stats.state, waiting, windowFullSeconds: fullMs / 1000 };
    }
    return out;
  };
  const archive: Enrichments['archive'] = (to, stream, event, origin, enriched) => {
    if (enriched) for (const [name, e] of Object.entries(enriched)) { const def = clients.get(name)?.def; if (def) to.enrichment(def, stream, event, origin, e); }
  };
  return { stages, clients, close: () => { for (const c of clients.values()) c.shutdown(); }, figures, archive };
}
