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
 * - Bounded: each buffer holds at most `segmentRows` rows before it is written; `flush()`
 *   writes everything (the runner calls it before each checkpoint).
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Int32, Int64, Schema, TimestampMillisecond, Utf8, type Schema as ArrowSchema } from 'apache-arrow';
import type { Catalog, StreamDef, ValidEvent } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { EventOrigin, LatePair } from '../hot/operator-types.js';
import type { QuarantineRecord } from '../hot/stream-runtime.js';
import type { MetricPlan } from '../plan/index.js';
import { parseTimestampMs } from '../util/timestamp.js';
import { archiveSchema } from './arrow-schema.js';
import { Manifest, type Lane } from './manifest.js';
import { piiHash } from './pii.js';
import { toParquet, writeAtomically } from './parquet-segment.js';

export interface ArchiveOptions {
  /** Key for `pii: hash` fields; required when the catalog has any. */
  readonly piiKey?: string | undefined;
  /** Rows per segment before a buffer is written (default 50,000). */
  readonly segmentRows?: number;
}

interface Buffer { lane: Lane; stream: StreamDef; hour: string; rows: Record<string, unknown>[]; ranges: Map<number, [number, number]> }

const QUARANTINE_SCHEMA = new Schema([
  new Field('_pw_partition', new Int32(), false), new Field('_pw_offset', new Int64(), false),
  new Field('code', new Utf8(), false), new Field('reason', new Utf8(), false), new Field('raw', new Utf8(), false),
  new Field('received_at', new TimestampMillisecond(), false),
]);

const LATE_SCHEMA = new Schema([
  new Field('_pw_partition', new Int32(), false), new Field('_pw_offset', new Int64(), false),
  new Field('metric', new Utf8(), false), new Field('event_id', new Utf8(), false), new Field('event_time', new TimestampMillisecond(), false),
  new Field('window_start', new TimestampMillisecond(), false), new Field('window_end', new TimestampMillisecond(), false),
  new Field('watermark', new TimestampMillisecond(), true),
]);

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

export interface ArchiveStats { events: number; quarantined: number; late: number; skipped: number; segments: number; bytes: number }

export class ArchiveWriter {
  readonly root: string;
  readonly manifest: Manifest;
  readonly stats: ArchiveStats = { events: 0, quarantined: 0, late: 0, skipped: 0, segments: 0, bytes: 0 };
  readonly #catalog: Catalog;
  readonly #piiKey: string | undefined;
  readonly #segmentRows: number;
  readonly #schemas = new Map<string, ArrowSchema>();
  readonly #buffers = new Map<string, Buffer>();
  /** (lane/stream) → partition → last archived offset. */
  readonly #upTo = new Map<string, Map<number, number>>();

  constructor(root: string, catalog: Catalog, options: ArchiveOptions = {}) {
    this.root = root;
    this.#catalog = catalog;
    this.#piiKey = options.piiKey;
    this.#segmentRows = options.segmentRows ?? 50_000;
    this.manifest = new Manifest(root);
    const hashed = [...catalog.streams.values()].flatMap((s) => [...s.fields.values()].filter((f) => f.pii === 'hash').map((f) => `${s.name}.${f.path}`));
    if (hashed.length && !this.#piiKey) {
      throw new ExecutionError('PW_ARCHIVE_PII_KEY', `fields ${hashed.join(', ')} are tagged pii: hash but no key is set; set PITWALL_PII_KEY (or --pii-key) so the archive never holds them in clear`);
    }
  }

  /** Reads the manifest and removes partial or unlisted segments left by a crash. */
  open(): { orphans: number; temps: number } {
    const cleaned = this.manifest.open();
    for (const s of this.#catalog.streams.values()) {
      for (const lane of ['events', 'quarantine', 'late'] as const) this.#upTo.set(`${lane}/${s.name}`, this.manifest.archivedUpTo(lane, s.name));
    }
    return cleaned;
  }

  #already(lane: Lane, stream: string, origin: EventOrigin): boolean {
    const last = this.#upTo.get(`${lane}/${stream}`)?.get(origin.partition);
    if (last !== undefined && origin.offset <= last) { this.stats.skipped++; return true; }
    return false;
  }

  #schema(stream: StreamDef): ArrowSchema {
    let s = this.#schemas.get(stream.name);
    if (!s) { s = archiveSchema(stream); this.#schemas.set(stream.name, s); }
    return s;
  }

  /** The payload after PII treatment (a copy when anything changes). */
  #treat(stream: StreamDef, payload: Record<string, unknown>): Record<string, unknown> {
    let out = payload;
    for (const f of stream.fields.values()) {
      if (!f.pii) continue;
      if (out === payload) out = structuredClone(payload);
      let parent: Record<string, unknown> | undefined = out;
      for (const seg of f.segments.slice(0, -1)) {
        const next: unknown = parent?.[seg];
        parent = next !== null && typeof next === 'object' ? next as Record<string, unknown> : undefined;
      }
      const leaf = f.segments[f.segments.length - 1] as string;
      if (!parent || !(leaf in parent)) continue;
      if (f.pii === 'drop') delete parent[leaf];
      else if (parent[leaf] !== null) parent[leaf] = piiHash(this.#piiKey as string, parent[leaf]);
    }
    return out;
  }

  /** Typed, nested row of an event for the events lane. */
  #row(stream: StreamDef, event: ValidEvent, origin: EventOrigin, payload: Record<string, unknown>): Record<string, unknown> {
    const row: Record<string, unknown> = {
      _pw_partition: origin.partition, _pw_offset: BigInt(origin.offset), _pw_event_id: event.eventId, _pw_time: event.eventTimeMs,
      _pw_payload: JSON.stringify(payload),
    };
    for (const f of stream.fields.values()) {
      if (f.pii === 'drop') continue;
      let v: unknown = payload;
      for (const seg of f.segments) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
      if (v === undefined || v === null) continue;
      const value = f.type === 'int' ? BigInt(v as number) : f.type === 'timestamp' ? parseTimestampMs(v) ?? null : v;
      let target = row;
      for (const seg of f.segments.slice(0, -1)) {
        const next = target[seg];
        if (next === undefined || next === null) target[seg] = {};
        target = target[seg] as Record<string, unknown>;
      }
      target[f.segments[f.segments.length - 1] as string] = value;
    }
    return row;
  }

  #push(lane: Lane, stream: StreamDef, hour: string, origin: EventOrigin, row: Record<string, unknown>): void {
    const key = `${lane}/${stream.name}/${hour}`;
    let buf = this.#buffers.get(key);
    if (!buf) { buf = { lane, stream, hour, rows: [], ranges: new Map() }; this.#buffers.set(key, buf); }
    buf.rows.push(row);
    const r = buf.ranges.get(origin.partition);
    if (r) r[1] = Math.max(r[1], origin.offset); else buf.ranges.set(origin.partition, [origin.offset, origin.offset]);
    if (buf.rows.length >= this.#segmentRows) this.#write(key, buf);
  }

  accepted(stream: StreamDef, event: ValidEvent, origin: EventOrigin): void {
    if (this.#already('events', stream.name, origin)) return;
    this.stats.events++;
    this.#push('events', stream, hourOf(event.eventTimeMs), origin, this.#row(stream, event, origin, this.#treat(stream, event.payload)));
  }

  quarantined(record: QuarantineRecord, nowMs = Date.now()): void {
    const stream = this.#catalog.streams.get(record.stream);
    if (!stream || this.#already('quarantine', stream.name, record.origin)) return;
    this.stats.quarantined++;
    // The raw payload is kept as received: it failed validation, so its PII fields cannot be found reliably.
    this.#push('quarantine', stream, hourOf(nowMs), record.origin, {
      _pw_partition: record.origin.partition, _pw_offset: BigInt(record.origin.offset), code: record.code, reason: record.reason, raw: record.raw, received_at: nowMs,
    });
  }

  late(plan: MetricPlan, pair: LatePair): void {
    if (this.#already('late', plan.stream.name, pair.origin)) return;
    this.stats.late++;
    this.#push('late', plan.stream, hourOf(pair.event.eventTimeMs), pair.origin, {
      _pw_partition: pair.origin.partition, _pw_offset: BigInt(pair.origin.offset), metric: plan.name, event_id: pair.event.eventId,
      event_time: pair.event.eventTimeMs, window_start: pair.windowStart, window_end: pair.windowEnd,
      watermark: Number.isFinite(pair.watermarkMs) ? pair.watermarkMs : null,
    });
  }

  #write(key: string, buf: Buffer): void {
    this.#buffers.delete(key);
    if (buf.rows.length === 0) return;
    const schema = buf.lane === 'events' ? this.#schema(buf.stream) : buf.lane === 'quarantine' ? QUARANTINE_SCHEMA : LATE_SCHEMA;
    const laneDir = buf.lane === 'events' ? buf.stream.name : `_${buf.lane}/${buf.stream.name}`;
    const first = [...buf.ranges].map(([p, [a, b]]) => `p${p}-${a}-${b}`).join('_').slice(0, 120);
    const file = `${laneDir}/${buf.hour}/part-${first}-${Date.now().toString(36)}.parquet`;
    const bytes = toParquet(schema, buf.rows);
    writeAtomically(join(this.root, file), bytes);
    const ranges = Object.fromEntries(buf.ranges);
    this.manifest.add({ lane: buf.lane, stream: buf.stream.name, topic: buf.stream.topic, file, rows: buf.rows.length, bytes: bytes.length, ranges, hour: buf.hour, writtenAt: new Date().toISOString() });
    const upTo = this.#upTo.get(`${buf.lane}/${buf.stream.name}`) ?? new Map<number, number>();
    for (const [p, [, last]] of buf.ranges) upTo.set(p, Math.max(upTo.get(p) ?? -1, last));
    this.#upTo.set(`${buf.lane}/${buf.stream.name}`, upTo);
    this.stats.segments++;
    this.stats.bytes += bytes.length;
  }

  /** Writes every buffered row as segments. */
  flush(): void {
    for (const [key, buf] of [...this.#buffers]) this.#write(key, buf);
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
