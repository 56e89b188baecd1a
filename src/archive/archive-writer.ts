/**
 * The archive: every accepted event, and in their own lanes every quarantined payload and every
 * late (event, window) pair, written as Arrow record batches rolled into Parquet segments under
 * Hive partitions `archive/<stream>/date=YYYY-MM-DD/hour=HH/` (quarantine and late lanes under
 * `archive/_quarantine/<stream>/…` and `archive/_late/<stream>/…`).
 *
 * - Atomic: a segment is written under a temp name and renamed when complete; the manifest
 *   line follows the rename (manifest.ts).
 * - Idempotent: offsets already listed in the manifest are not archived again, so replaying
 *   the input after a crash never doubles the archive.
 * - PII: `pii: hash` fields are replaced by a keyed HMAC-SHA256 (hex), `pii: drop` fields are
 *   removed, both in the typed columns and in the JSON payload column.
 * - Off the processing thread: per event the processing thread only keeps the raw JSON text
 *   and three numbers, and every 1,024 events sends them as one chunk to the segment writer (a
 *   worker thread, segment-writer.ts); when a segment is complete it asks the writer to parse,
 *   build the Arrow batch, encode Parquet and write the file.
 * - Bounded: the open buffers of a (lane, stream), all hours together, hold at most
 *   `segmentRows` rows or `segmentChars` characters of payload before they are handed over;
 *   at most `maxInFlight` segments wait for the writer, and `relieve()` (awaited by the
 *   sources between batches) is the backpressure when more do.
 * - Nothing lost: `flush()` hands over every buffer and resolves once every segment up to that
 *   point is on disk and in the manifest (the runner awaits it before each checkpoint). A
 *   segment that failed to write is kept and retried at the next flush, and that flush fails,
 *   so no checkpoint moves past events the archive does not hold.
 * - Restart-exact: the skip rule "offset ≤ the last archived offset of its partition" is only
 *   right if the manifest always holds every event of a lane up to that offset. So when one
 *   buffer of a (lane, stream) is handed over, every other hour's buffer of it goes too, as one
 *   group whose manifest lines are appended together once all its segments are written, and
 *   groups are listed strictly in hand-over order (a segment written after one that failed
 *   waits for the retry; if the process dies first, it is an unlisted file or part of an
 *   incomplete group, and `open()` removes it).
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { enrichmentLanes, tableAsStream, type Catalog, type StreamDef, type ValidEvent } from '../catalog/index.js';
import { enrichmentLaneEvent, type Enrichment } from '../hot/enrichment/enrichment-stage.js';
import { ExecutionError } from '../errors.js';
import type { EventOrigin, LatePair } from '../hot/operator-types.js';
import type { TableChangeRecord } from '../hot/engine.js';
import type { QuarantineRecord } from '../hot/stream-runtime.js';
import type { MetricPlan } from '../plan/index.js';
import { Manifest, type Lane } from './manifest.js';
import type { EventChunk } from './columnar.js';
import type { EventsJob, RejectedEvent, SegmentJob } from './segment-job.js';
import { SegmentWriter } from './segment-writer.js';

export interface ArchiveOptions {
  /** Key for `pii: hash` fields; required when the catalog has any. */
  readonly piiKey?: string | undefined;
  /** Rows per segment before a buffer is handed over (default 50,000). */
  readonly segmentRows?: number;
  /** Characters of raw payload per segment before a buffer is handed over (default 32 Mi). */
  readonly segmentChars?: number;
  /** Segments handed over and not yet written before `relieve()` makes the caller wait (default 4). */
  readonly maxInFlight?: number;
  /** 1 (default): segments are written by a worker thread; 0: on the calling thread. */
  readonly threads?: 0 | 1;
  /** Nice value of the worker thread on Linux (default 10: the hot path gets the CPU first). */
  readonly niceness?: number;
}

interface LaneBuffer {
  readonly lane: Lane;
  readonly stream: StreamDef;
  readonly hour: string;
  /** Events lane: the chunk being filled (see `EventChunk`), sealed every CHUNK_ROWS events. */
  readonly raws: string[];
  readonly lengths: Int32Array;
  readonly partitions: Int32Array;
  readonly offsets: Float64Array;
  readonly times: Float64Array;
  /** The segment's id (an events segment's chunks go to the segment writer under it as they are sealed). */
  readonly segment: number;
  /** Events lane: rows so far. */
  events: number;
  /** Set when handed over (the buffer is then out of `#buffers`). */
  handed: boolean;
  /** Quarantine and late lanes: row objects. */
  readonly rows: Record<string, unknown>[];
  readonly ranges: Map<number, [number, number]>;
}

/** A segment handed to the writer: its job (kept until written, for retries) and the buffer it came from (its manifest line). */
interface Handed {
  readonly job: SegmentJob;
  readonly buf: LaneBuffer;
  /** The segments handed over with this one (itself included): listed in the manifest together. */
  readonly group: Handed[];
  /** Rows the segment holds (fewer than handed over when the writer rejected events). */
  rows: number;
  state: 'writing' | 'written' | 'failed';
  bytes: number;
  /** Settles (never rejects) when the current write attempt ends. */
  done: Promise<void>;
}

/** Events per chunk handed from the processing thread (see `#seal`). */
const CHUNK_ROWS = 1024;

const hourNames = new Map<number, string>();

/** `date=YYYY-MM-DD/hour=HH` of an instant (memoized per hour: called per event). */
function hourOf(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  let name = hourNames.get(h);
  if (name === undefined) {
    const iso = new Date(h * 3_600_000).toISOString();
    name = `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
    if (hourNames.size > 10_000) hourNames.clear();
    hourNames.set(h, name);
  }
  return name;
}

export interface ArchiveStats {
  events: number; quarantined: number; late: number; skipped: number; segments: number; bytes: number;
  /** Segment writes that failed (each is retried at the next flush). */
  writeFailures: number;
  /**
   * Accepted events the segment writer could not encode: left out of the events lane and put in
   * the quarantine lane as PW_ARCHIVE_RECORD with the reason (counted in `quarantined` too).
   */
  rejected: number;
}

export class ArchiveWriter {
  readonly root: string;
  readonly manifest: Manifest;
  readonly stats: ArchiveStats = { events: 0, quarantined: 0, late: 0, skipped: 0, segments: 0, bytes: 0, writeFailures: 0, rejected: 0 };
  /** Set when rejected events went to new quarantine buffers: the running flush covers them too. */
  #rejectedSinceHandOver = false;
  readonly #catalog: Catalog;
  readonly #segmentRows: number;
  readonly #segmentChars: number;
  readonly #maxInFlight: number;
  readonly #writer: SegmentWriter;
  readonly #buffers = new Map<string, LaneBuffer>();
  /** The events buffer each stream wrote to last (most events fall in the same hour). */
  readonly #lastEvents = new Map<string, LaneBuffer>();
  /** lane → stream → partition → last archived offset. */
  readonly #upTo: Record<Lane, Map<string, Map<number, number>>> = { events: new Map(), quarantine: new Map(), late: new Map() };
  /** Segments handed over and not yet in the manifest, by segment id, in hand-over order. */
  readonly #handed = new Map<number, Handed>();
  #lastError: Error | undefined;
  #lastSegment = 0;
  #ready: Promise<void> = Promise.resolve();
  #retrying: Promise<void> | undefined;
  /** Rows and payload characters in the open buffers of each (lane, stream), all hours together. */
  readonly #openTotals: Record<Lane, Map<string, { rows: number; chars: number }>> = { events: new Map(), quarantine: new Map(), late: new Map() };

  #openOf(lane: Lane, stream: string): { rows: number; chars: number } {
    const byStream = this.#openTotals[lane];
    let open = byStream.get(stream);
    if (!open) { open = { rows: 0, chars: 0 }; byStream.set(stream, open); }
    return open;
  }

  constructor(root: string, catalog: Catalog, options: ArchiveOptions = {}) {
    this.root = root;
    this.#catalog = catalog;
    this.#segmentRows = options.segmentRows ?? 50_000;
    this.#segmentChars = options.segmentChars ?? 32 * 1024 * 1024;
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.manifest = new Manifest(root);
    const hashed = [...catalog.streams.values()].flatMap((s) => [...s.fields.values()].filter((f) => f.pii === 'hash').map((f) => `${s.name}.${f.path}`));
    if (hashed.length && !options.piiKey) {
      throw new ExecutionError('PW_ARCHIVE_PII_KEY', `fields ${hashed.join(', ')} are tagged pii: hash but no key is set; set PITWALL_PII_KEY (or --pii-key) so the archive never holds them in clear`);
    }
    // A reference table's changes are archived as events keyed by the table's key, timed by its validity time.
    this.#writer = new SegmentWriter({ root, streams: [...[...catalog.streams.values()].map(tableAsStream), ...enrichmentLanes(catalog)], piiKey: options.piiKey, niceness: options.niceness ?? 10 }, options.threads ?? 1);
  }

  /**
   * Reads the manifest and removes partial or unlisted segments left by a crash, and starts the
   * segment writer's thread (`ready()` resolves when it can take work).
   */
  open(): { orphans: number; temps: number } {
    let cleaned: { orphans: number; temps: number };
    try {
      cleaned = this.manifest.open();
    } catch (err) {
      throw new ExecutionError('PW_ARCHIVE_WRITE', `cannot open the archive under '${this.root}': ${(err as Error).message}; pass a directory pitwall can create and write to`, { cause: err });
    }
    this.#ready = this.#writer.start();
    for (const s of this.#catalog.streams.values()) {
      for (const lane of ['events', 'quarantine', 'late'] as const) this.#upTo[lane].set(s.name, this.manifest.archivedUpTo(lane, s.name));
    }
    for (const s of enrichmentLanes(this.#catalog)) this.#upTo.events.set(s.name, this.manifest.archivedUpTo('events', s.name));
    return cleaned;
  }

  /** Resolves when the segment writer's thread is started (call after `open()`). */
  ready(): Promise<void> { return this.#ready; }

  /** Set when events handed to the segment writer were lost with its thread: every flush fails from then on. */
  get broken(): Error | undefined { return this.#writer.lost; }

  /** Segments handed over and not yet written (including failed ones awaiting a retry). */
  get pendingSegments(): number { return this.#handed.size; }

  #already(lane: Lane, stream: string, origin: EventOrigin, pair?: string): boolean {
    const last = this.#upTo[lane].get(stream)?.get(origin.partition);
    if (last !== undefined && origin.offset <= last) { this.stats.skipped++; return true; }
    // Handed over already in this process: a group member that reloads after a rebalance
    // processes its unsaved offsets again (hot/member-runner.ts). Offsets of a partition arrive
    // in order; the late lane holds several (metric, window) pairs per offset.
    const key = ArchiveWriter.#handedKey(stream, origin.partition);
    const top = this.#handedTop[lane].get(key);
    if (top !== undefined && (origin.offset < top.offset || (origin.offset === top.offset && (pair === undefined || top.pairs.has(pair))))) { this.stats.skipped++; return true; }
    if (top === undefined || origin.offset > top.offset) this.#handedTop[lane].set(key, { offset: origin.offset, pairs: new Set(pair === undefined ? [] : [pair]) });
    else if (pair !== undefined) top.pairs.add(pair);
    return false;
  }

  static #handedKey(stream: string, partition: number): string { return `${stream}\u0000${partition}`; }

  /** Per lane and `stream/partition`: the highest offset handed to this writer in this process (and, for the late lane, its pairs). */
  readonly #handedTop: Record<Lane, Map<string, { offset: number; pairs: Set<string> }>> = { events: new Map(), quarantine: new Map(), late: new Map() };

  #buffer(lane: Lane, stream: StreamDef, hour: string): LaneBuffer {
    const key = `${lane}/${stream.name}/${hour}`;
    let buf = this.#buffers.get(key);
    if (!buf) {
      const n = lane === 'events' ? CHUNK_ROWS : 0;
      buf = {
        lane, stream, hour, raws: [], lengths: new Int32Array(n), partitions: new Int32Array(n), offsets: new Float64Array(n), times: new Float64Array(n),
        segment: ++this.#lastSegment, events: 0, handed: false, rows: [], ranges: new Map(),
      };
      this.#buffers.set(key, buf);
    }
    return buf;
  }

  static #range(buf: LaneBuffer, origin: EventOrigin): void {
    const r = buf.ranges.get(origin.partition);
    if (r) r[1] = Math.max(r[1], origin.offset); else buf.ranges.set(origin.partition, [origin.offset, origin.offset]);
  }

  /**
   * An accepted event. `raw` is its JSON text as received (the payload is serialized when a
   * source has no text, e.g. Parquet input).
   */
  accepted(stream: StreamDef, event: ValidEvent, origin: EventOrigin, raw?: string): void {
    if (this.#already('events', stream.name, origin)) return;
    this.stats.events++;
    const hour = hourOf(event.eventTimeMs);
    const buf = this.#eventsBuffer(stream, hour);
    const text = raw ?? JSON.stringify(event.payload);
    const i = buf.raws.length;
    buf.raws.push(text);
    buf.lengths[i] = text.length;
    buf.partitions[i] = origin.partition;
    buf.offsets[i] = origin.offset;
    buf.times[i] = event.eventTimeMs;
    buf.events++;
    ArchiveWriter.#range(buf, origin);
    if (i + 1 === CHUNK_ROWS) this.#seal(buf);
    this.#grew(buf, 1, text.length);
  }

  /** The events buffer of `stream` for `hour` (the last one used, unless it was for another hour or handed over). */
  #eventsBuffer(stream: StreamDef, hour: string): LaneBuffer {
    let buf = this.#lastEvents.get(stream.name);
    if (buf === undefined || buf.hour !== hour || buf.handed) {
      buf = this.#buffer('events', stream, hour);
      this.#lastEvents.set(stream.name, buf);
    }
    return buf;
  }

  /** Counts events added to `buf`'s open segment; hands every open segment over once it is full. */
  #grew(buf: LaneBuffer, rows: number, chars: number): void {
    const open = this.#openOf('events', buf.stream.name);
    open.rows += rows;
    open.chars += chars;
    if (open.rows >= this.#segmentRows || open.chars >= this.#segmentChars) this.#handOverAll(buf);
  }

  /**
   * Accepted events handed over as one columnar chunk (a group member's batch,
   * hot/member-protocol.ts AcceptedBatch): when its rows fall in one hour, each partition's
   * offsets rise and none was archived or handed over before, the chunk goes to the segment
   * writer as it is, with no per-event text work here; otherwise row by row, as {@link accepted}.
   */
  acceptedChunk(stream: StreamDef, chunk: EventChunk): void {
    const n = chunk.rows;
    if (n === 0) return;
    const hourIndex = Math.floor((chunk.times[0] as number) / 3_600_000);
    const upTo = this.#upTo.events.get(stream.name);
    const top = new Map<number, number>(); // per partition: the highest offset seen so far
    let whole = true;
    for (let i = 0; i < n && whole; i++) {
      const p = chunk.partitions[i] as number;
      const o = chunk.offsets[i] as number;
      let last = top.get(p);
      if (last === undefined) last = Math.max(upTo?.get(p) ?? -1, this.#handedTop.events.get(ArchiveWriter.#handedKey(stream.name, p))?.offset ?? -1);
      if (o <= last || Math.floor((chunk.times[i] as number) / 3_600_000) !== hourIndex) whole = false;
      top.set(p, o);
    }
    if (!whole) {
      for (let i = 0, at = 0; i < n; i++) {
        const len = chunk.lengths[i] as number;
        this.accepted(stream, { ok: true, eventId: '', eventTimeMs: chunk.times[i] as number, payload: {} }, { partition: chunk.partitions[i] as number, offset: chunk.offsets[i] as number }, chunk.joined.slice(at, at + len));
        at += len + 1;
      }
      return;
    }
    const hour = hourOf(chunk.times[0] as number);
    const buf = this.#eventsBuffer(stream, hour);
    this.#seal(buf); // the texts already buffered go first: order within a partition is kept
    for (const [partition, offset] of top) {
      this.#handedTop.events.set(ArchiveWriter.#handedKey(stream.name, partition), { offset, pairs: new Set() });
      const r = buf.ranges.get(partition);
      const first = chunk.offsets[chunk.partitions.indexOf(partition)] as number;
      if (r) r[1] = Math.max(r[1], offset); else buf.ranges.set(partition, [first, offset]);
    }
    this.stats.events += n;
    buf.events += n;
    this.#writer.send({ kind: 'chunk', segment: buf.segment, stream: stream.name, chunk });
    this.#grew(buf, n, chunk.joined.length - (n - 1));
  }

  /**
   * Seals the chunk being filled (its texts joined into one string) and sends it to the segment
   * writer: the processing thread then holds no payload text, and raw texts die young.
   */
  #seal(buf: LaneBuffer): void {
    const n = buf.raws.length;
    if (n === 0) return;
    const chunk: EventChunk = {
      rows: n, joined: buf.raws.join(','), lengths: buf.lengths.slice(0, n),
      partitions: buf.partitions.slice(0, n), offsets: buf.offsets.slice(0, n), times: buf.times.slice(0, n),
    };
    buf.raws.length = 0;
    this.#writer.send({ kind: 'chunk', segment: buf.segment, stream: buf.stream.name, chunk });
  }

  quarantined(record: QuarantineRecord, nowMs = Date.now()): void {
    const stream = this.#catalog.streams.get(record.stream);
    if (!stream || this.#already('quarantine', stream.name, record.origin)) return;
    this.stats.quarantined++;
    // The raw payload is kept as received: it failed validation, so its PII fields cannot be found reliably.
    this.#pushRow('quarantine', stream, hourOf(nowMs), record.origin, {
      _pw_partition: record.origin.partition, _pw_offset: BigInt(record.origin.offset), code: record.code, reason: record.reason, raw: record.raw, received_at: nowMs,
    });
  }

  late(plan: MetricPlan, pair: LatePair): void {
    if (this.#already('late', plan.stream.name, pair.origin, `${plan.name}\u0000${pair.windowStart}\u0000${pair.windowEnd}`)) return;
    this.stats.late++;
    this.#pushRow('late', plan.stream, hourOf(pair.event.eventTimeMs), pair.origin, {
      _pw_partition: pair.origin.partition, _pw_offset: BigInt(pair.origin.offset), metric: plan.name, event_id: pair.event.eventId,
      event_time: pair.event.eventTimeMs, window_start: pair.windowStart, window_end: pair.windowEnd,
      watermark: Number.isFinite(pair.watermarkMs) ? pair.watermarkMs : null,
      partition_watermark: pair.evidence && Number.isFinite(pair.evidence.partitionWatermarkMs) ? pair.evidence.partitionWatermarkMs : null,
      partition_idle: pair.evidence ? pair.evidence.partitionIdle : null,
    });
  }

  /**
   * A valid reference-table change and what the lookup joins of one stream did with it. Every
   * valid change goes to the table's events lane (keyed by the table's key, timed by its
   * validity time); one the joins did not apply (late, or over the table's max_versions) also
   * gets a row in the table's late lane, with the joining stream as `metric`, the key as
   * `event_id` and the validity time as event time and window. The cold path joins the changes
   * not marked for the stream it computes.
   */
  tableChange(c: TableChangeRecord): void {
    const table = tableAsStream(c.table);
    const { origin, stream } = c;
    this.accepted(table, { ok: true, eventId: String(c.change.key), eventTimeMs: c.change.validFromMs, payload: c.change.row ?? {} }, origin, c.raw);
    if (c.outcome === 'applied' || this.#already('late', table.name, origin, stream)) return;
    const key = String(c.change.key);
    const validFromMs = c.change.validFromMs;
    this.stats.late++;
    this.#pushRow('late', table, hourOf(validFromMs), origin, {
      _pw_partition: origin.partition, _pw_offset: BigInt(origin.offset), metric: stream, event_id: key,
      event_time: validFromMs, window_start: validFromMs, window_end: validFromMs, watermark: null, partition_watermark: null, partition_idle: null,
    });
  }

  /**
   * What external lookup `lookup` gave an accepted event of `stream` (see
   * catalog/enrichment-lane.ts): archived in the lane `<lookup>.enrichment.<stream>` at the
   * event's own partition and offset, so the cold path LEFT JOINs exactly the answers used.
   */
  enrichment(lookup: StreamDef, stream: string, event: ValidEvent, origin: EventOrigin, e: Enrichment): void {
    const x = enrichmentLaneEvent(lookup, stream, event, e);
    this.accepted(x.lane, x.event, origin, x.raw);
  }

  #pushRow(lane: Lane, stream: StreamDef, hour: string, origin: EventOrigin, row: Record<string, unknown>): void {
    const buf = this.#buffer(lane, stream, hour);
    buf.rows.push(row);
    ArchiveWriter.#range(buf, origin);
    const open = this.#openOf(lane, stream.name);
    if (++open.rows >= this.#segmentRows) this.#handOverAll(buf);
  }

  /** Turns a buffer into a segment job of `group` and hands it to the writer. */
  #handOver(buf: LaneBuffer, group: Handed[]): void {
    this.#buffers.delete(`${buf.lane}/${buf.stream.name}/${buf.hour}`);
    buf.handed = true;
    const rows = buf.lane === 'events' ? buf.events : buf.rows.length;
    if (rows === 0) return;
    const laneDir = buf.lane === 'events' ? buf.stream.name : `_${buf.lane}/${buf.stream.name}`;
    const first = [...buf.ranges].map(([p, [a, b]]) => `p${p}-${a}-${b}`).join('_').slice(0, 120);
    const file = `${laneDir}/${buf.hour}/part-${first}-${Date.now().toString(36)}.parquet`;
    let job: SegmentJob;
    if (buf.lane === 'events') {
      this.#seal(buf);
      job = { kind: 'events', id: buf.segment, stream: buf.stream.name, file, rows } satisfies EventsJob;
    } else {
      job = { kind: 'rows', id: buf.segment, lane: buf.lane, file, rows: buf.rows };
    }
    const h: Handed = { job, buf, group, rows, state: 'writing', bytes: 0, done: Promise.resolve() };
    group.push(h);
    this.#handed.set(job.id, h);
    this.#submit(h);
  }

  /**
   * Hands over buffers as one group, oldest hour first: their manifest lines are added together,
   * in one write, once all are written.
   */
  #handOverGroup(buffers: LaneBuffer[]): void {
    const group: Handed[] = [];
    for (const b of buffers.sort((x, y) => (x.hour < y.hour ? -1 : x.hour > y.hour ? 1 : 0))) this.#handOver(b, group);
  }

  /** Hands over every buffer of the (lane, stream) of `buf` (see "Restart-exact"). */
  #handOverAll(buf: LaneBuffer): void {
    this.#handOverGroup([...this.#buffers.values()].filter((b) => b.lane === buf.lane && b.stream === buf.stream));
    this.#openTotals[buf.lane].delete(buf.stream.name);
  }

  #submit(h: Handed): void {
    h.state = 'writing';
    h.done = this.#writer.submit(h.job).then(({ bytes, rejected }) => {
      h.state = 'written';
      h.bytes = bytes;
      if (rejected.length > 0) this.#reject(h, rejected);
      this.#commit();
    }, (err: unknown) => {
      h.state = 'failed';
      this.stats.writeFailures++;
      this.#lastError = err as Error;
    });
  }

  /**
   * Events the segment writer left out of `h`'s segment (it could not encode them): the segment
   * holds fewer rows, and each goes to the quarantine lane with the stage and reason, raw text
   * kept. The hot path already counted them, so reconcile shows the difference (never silent).
   */
  #reject(h: Handed, rejected: readonly RejectedEvent[]): void {
    h.rows -= rejected.length;
    this.stats.events -= rejected.length;
    this.stats.rejected += rejected.length;
    this.stats.quarantined += rejected.length;
    const now = Date.now();
    for (const r of rejected) {
      // Straight to the lane: these offsets were never quarantined, whatever the lane archived since.
      this.#pushRow('quarantine', h.buf.stream, hourOf(now), { partition: r.partition, offset: r.offset }, {
        _pw_partition: r.partition, _pw_offset: BigInt(r.offset), code: 'PW_ARCHIVE_RECORD', reason: `archive: the event could not be encoded (${r.reason})`, raw: r.raw, received_at: now,
      });
    }
    this.#rejectedSinceHandOver = true;
  }

  /**
   * Adds the manifest lines of written segments, group by group in hand-over order, up to the
   * first group not completely written; then the archived offsets move on.
   */
  #commit(): void {
    while (this.#handed.size > 0) {
      const group = (this.#handed.values().next().value as Handed).group;
      if (group.some((h) => h.state !== 'written')) return;
      const at = new Date().toISOString();
      const name = `${group[0]?.job.id ?? 0}-${Date.now().toString(36)}`;
      this.manifest.addGroup(group.map(({ buf, job, rows, bytes }) => ({
        lane: buf.lane, stream: buf.stream.name, topic: buf.stream.topic, file: job.file, rows, bytes,
        ranges: Object.fromEntries(buf.ranges), hour: buf.hour, writtenAt: at, ...(group.length > 1 ? { group: name, groupSize: group.length } : {}),
      })));
      for (const h of group) {
        this.#handed.delete(h.job.id);
        const byStream = this.#upTo[h.buf.lane];
        const upTo = byStream.get(h.buf.stream.name) ?? new Map<number, number>();
        for (const [p, [, last]] of h.buf.ranges) upTo.set(p, Math.max(upTo.get(p) ?? -1, last));
        byStream.set(h.buf.stream.name, upTo);
        this.stats.segments++;
        this.stats.bytes += h.bytes;
      }
    }
  }

  /**
   * Backpressure for sources, awaited between batches: undefined while fewer than
   * `maxInFlight` segments wait for the writer, else a promise that settles when the oldest
   * is written (or, when it failed, after a pause and a retry).
   */
  relieve(): Promise<void> | undefined {
    if (this.#handed.size < this.#maxInFlight) return undefined;
    const oldest = this.#handed.values().next().value as Handed;
    if (oldest.state === 'writing') return oldest.done;
    // The oldest failed: one shared pause, then every failed segment is tried again.
    this.#retrying ??= new Promise<void>((resolve) => setTimeout(resolve, 1000)).then(() => {
      this.#retrying = undefined;
      this.#retryFailed();
    });
    return this.#retrying;
  }

  #retryFailed(): void {
    for (const h of this.#handed.values()) if (h.state === 'failed') this.#submit(h);
  }

  /**
   * Hands over every buffered row and resolves when every segment handed over so far is
   * written and in the manifest. Segments that failed before are retried; if any write fails,
   * rejects (the segment stays in memory for the next flush).
   */
  async flush(): Promise<void> {
    // Events the writer rejects while this flush waits go to new quarantine buffers: a second
    // round hands those over too (quarantine segments reject nothing, so it ends there).
    for (let round = 0; round < 3; round++) {
      this.#rejectedSinceHandOver = false;
      await this.#flushOnce();
      if (!this.#rejectedSinceHandOver) return;
    }
    await this.#flushOnce();
  }

  async #flushOnce(): Promise<void> {
    if (this.#buffers.size > 0) this.#handOverGroup([...this.#buffers.values()]);
    for (const totals of Object.values(this.#openTotals)) totals.clear();
    this.#retryFailed();
    const covered = [...this.#handed.values()];
    await Promise.all(covered.map((h) => h.done));
    const failed = covered.filter((h) => h.state === 'failed').length;
    if (this.#writer.lost) throw new ExecutionError('PW_ARCHIVE_WRITE', this.#writer.lost.message);
    if (failed) {
      const why = this.#lastError?.message ?? 'unknown error';
      // A file-system error (ENOSPC, EACCES, EROFS, …) has a fix on the machine; anything else
      // happened while encoding the data, which validation should have made impossible.
      const advice = /^E[A-Z]+\b/.test(why)
        ? 'check free space and permissions'
        : 'this failure is in encoding the events, not in the disk: a bug in pitwall (please report it with the message)';
      throw new ExecutionError('PW_ARCHIVE_WRITE', `${failed} archive segment(s) could not be written under ${this.root}: ${why}; they are kept in memory and retried at the next flush — ${advice}`);
    }
  }

  /** Flushes, then stops the segment writer's thread. */
  async close(): Promise<void> {
    try { await this.flush(); } finally { await this.#writer.close(); }
  }

  /**
   * Deletes whole hour partitions older than each stream's `retention` (by the partition's
   * hour), with their manifest lines. Returns the number of segments removed.
   */
  applyRetention(nowMs = Date.now()): number {
    const removed = new Set<string>();
    for (const e of this.manifest.entries) {
      const stream = this.#catalog.streams.get(e.stream);
      if (!stream?.retentionMs) continue;
      const m = /date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})/.exec(e.hour);
      if (!m) continue;
      const hourEnd = Date.parse(`${m[1]}T${m[2]}:00:00Z`) + 3_600_000;
      if (hourEnd + stream.retentionMs <= nowMs) removed.add(e.file);
    }
    if (removed.size === 0) return 0;
    this.manifest.remove(removed);
    for (const f of removed) rmSync(join(this.root, f), { force: true });
    const prune = (dir: string): void => {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
      for (const n of readdirSync(dir)) prune(join(dir, n));
      if (dir !== this.root && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
    };
    prune(this.root);
    return removed.size;
  }
}
