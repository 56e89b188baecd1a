/**
 * The enrichment stage of one stream: between the source and the stream's runtime, it asks
 * each external lookup its metrics join (kind: lookup) for every valid event's key, and hands
 * the events on with the answers attached (RawRecord.enriched), in arrival order.
 *
 * - Order: events leave in the order they came (Flink's ordered async I/O): per-key order,
 *   watermarks and offsets are exactly as without enrichment, so a checkpoint never covers an
 *   event still waiting for its answer (an event is processed, and its offset passed, only
 *   once enriched and folded). Lookups of different keys run concurrently, so a slow key
 *   holds the events behind it for at most the lookup's timeout; an open breaker answers at once.
 * - Bounded: at most `max_in_flight` events and `max_in_flight_bytes` payload characters wait
 *   (the smallest limits of the stream's lookups; one event is always let in). Backpressure:
 *   {@link admit} resolves only when there is room, so the caller stops pulling from its
 *   source while the window is full. Nothing is ever dropped.
 * - Events the validator rejects are passed on untouched (the runtime quarantines them).
 */
import type { StreamDef, ValidEvent } from '../../catalog/index.js';
import { enrichmentLaneRecord, enrichmentLaneStream, RecordValidator, type FutureReference } from '../../catalog/index.js';
import type { Evaluator } from '../eval/compile-expr.js';
import type { RawRecord } from '../stream-runtime.js';
import type { LookupAnswer } from './lookup-answer.js';
import type { LookupClient } from './lookup-client.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** One lookup a stream's metrics join, with the expression over the event that gives its key. */
export interface StageLookup {
  readonly client: LookupClient;
  readonly probe: Evaluator<Record<string, unknown>>;
}

/** What an event got from one lookup: the key asked (null: the probe was NULL, nothing asked) and the answer. */
export interface Enrichment {
  readonly key: string | number | null;
  readonly answer: LookupAnswer;
}

/**
 * What `lookup` gave `event` of `stream`, as the archive keeps it: an accepted event of the lane
 * `<lookup>.enrichment.<stream>` (catalog/enrichment-lane.ts) and its JSON text. Used by the
 * archive writer and by member threads, which send it to the main thread's archive.
 */
export function enrichmentLaneEvent(lookup: StreamDef, stream: string, event: ValidEvent, e: Enrichment): { lane: StreamDef; event: ValidEvent; raw: string } {
  const payload = enrichmentLaneRecord(event.eventId, event.eventTimeMs, e.key, e.answer.kind === 'row' ? e.answer.row : null, e.answer.kind === 'fallback' ? e.answer.reason : null);
  return { lane: enrichmentLaneStream(lookup, stream), event: { ok: true, eventId: event.eventId, eventTimeMs: event.eventTimeMs, payload }, raw: JSON.stringify(payload) };
}

interface Waiting {
  record: RawRecord;
  readonly chars: number;
  pending: number;
  readonly enriched: Record<string, Enrichment>;
}

export class EnrichmentStage {
  readonly stream: StreamDef;
  readonly #lookups: readonly StageLookup[];
  readonly #validator: RecordValidator;
  readonly #maxEvents: number;
  readonly #maxChars: number;
  readonly #queue: Waiting[] = [];
  #head = 0;
  #chars = 0;
  #ready: RawRecord[] = [];
  #room: (() => void) | undefined;
  #settled: (() => void) | undefined;
  /** The lookups this stage asks, by name. */
  readonly lookupNames: readonly string[];
  /** Most events waiting at once (for tests and benchmarks). */
  peakWaiting = 0;
  /**
   * Time (ms) {@link admit} spent waiting for room in a full window, in all: the time the source
   * was held back by slow answers (/metrics `pitwall_enrichment_window_full_seconds_total`).
   * It grows when `max_in_flight` is below the peak rate × the lookup's timeout.
   */
  fullMs = 0;

  constructor(stream: StreamDef, lookups: readonly StageLookup[], futureReference: FutureReference = 'event-time') {
    this.stream = stream;
    this.#lookups = lookups;
    this.lookupNames = lookups.map((l) => l.client.def.name);
    this.#validator = new RecordValidator(stream, futureReference);
    this.#maxEvents = lookups.reduce((m, l) => Math.min(m, l.client.def.lookup?.maxInFlight ?? 1), Number.POSITIVE_INFINITY);
    this.#maxChars = lookups.reduce((m, l) => Math.min(m, l.client.def.lookup?.maxInFlightBytes ?? 1), Number.POSITIVE_INFINITY);
  }

  /** Events waiting for an answer now. */
  get waiting(): number { return this.#queue.length - this.#head; }

  /**
   * Takes one record in (arrival order): resolves once it is in the window, which may mean
   * waiting for earlier events to leave. `nowMs` is what the validator's far-future rule measures against.
   */
  async admit(record: RawRecord, nowMs = 0): Promise<void> {
    if (this.#full(record)) {
      const since = performance.now();
      while (this.#full(record)) await new Promise<void>((resolve) => { this.#room = resolve; });
      this.fullMs += performance.now() - since;
    }
    const w: Waiting = { record, chars: record.value.length, pending: 0, enriched: {} };
    this.#queue.push(w);
    this.#chars += w.chars;
    if (this.waiting > this.peakWaiting) this.peakWaiting = this.waiting;
    const v = this.#validator.check(record, nowMs);
    if (v.ok) {
      for (const l of this.#lookups) {
        const key = l.probe(v.payload);
        const name = l.client.def.name;
        if (key === null || key === undefined) { w.enriched[name] = { key: null, answer: { kind: 'row', row: null } }; continue; }
        const k = key as string | number;
        const answer = l.client.ask(k);
        if (!(answer instanceof Promise)) {
          if (answer.kind === 'fallback') l.client.stats.fallbacks[answer.reason]++;
          w.enriched[name] = { key: k, answer };
          continue;
        }
        w.pending++;
        void answer.then((a) => {
          if (a.kind === 'fallback') l.client.stats.fallbacks[a.reason]++;
          w.enriched[name] = { key: k, answer: a };
          w.pending--;
          this.#release();
        });
      }
    }
    this.#release();
  }

  /** True when `record` must wait for room (one event is always let in). */
  #full(record: RawRecord): boolean {
    return this.waiting > 0 && (this.waiting >= this.#maxEvents || this.#chars + record.value.length > this.#maxChars);
  }

  /** The events that left the window since the last call, in arrival order, answers attached. */
  take(): RawRecord[] {
    const out = this.#ready;
    this.#ready = [];
    return out;
  }

  /** Resolves when every admitted event has left the window (then {@link take} them). */
  async drain(): Promise<void> {
    while (this.waiting > 0) await new Promise<void>((resolve) => { this.#settled = resolve; });
  }

  #release(): void {
    let moved = false;
    while (this.#head < this.#queue.length && (this.#queue[this.#head] as Waiting).pending === 0) {
      const w = this.#queue[this.#head++] as Waiting;
      this.#chars -= w.chars;
      this.#ready.push(Object.keys(w.enriched).length ? { ...w.record, enriched: w.enriched } : w.record);
      moved = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) { this.#queue.splice(0, this.#head); this.#head = 0; }
    if (!moved) return;
    const room = this.#room;
    this.#room = undefined;
    room?.();
    if (this.waiting === 0) { const s = this.#settled; this.#settled = undefined; s?.(); }
  }
}

/** Records admitted between two hand-overs to the fold (and heartbeats) in {@link enrichThenProcess}. */
export const ENRICH_SLICE = 256;

/**
 * One batch through a stream's enrichment stage: records are admitted in order (admit waits
 * while the window is full: the caller, and so its consumer, waits with it); what has left the
 * window goes to `fold` every {@link ENRICH_SLICE} records, and the batch ends once every record
 * is enriched and folded. `heartbeat` keeps the consumer's group membership meanwhile (its
 * failures are ignored: a rebalance under way still lets the batch finish; its offsets are
 * skipped on redelivery). Used by `pitwall run --single` and by member threads.
 */
export async function enrichThenProcess(stage: EnrichmentStage, records: readonly RawRecord[], fold: (ready: RawRecord[]) => void, heartbeat: () => Promise<void>): Promise<void> {
  const handOver = async (): Promise<void> => {
    const ready = stage.take();
    if (ready.length) fold(ready);
    await heartbeat().catch(() => undefined);
    await yieldToLoop();
  };
  for (let i = 0; i < records.length; i++) {
    await stage.admit(records[i] as RawRecord, Date.now());
    if (i % ENRICH_SLICE === ENRICH_SLICE - 1) await handOver();
  }
  await stage.drain();
  await handOver();
}
