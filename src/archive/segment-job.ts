/**
 * The messages between the archive writer (processing thread) and its segment writer (a worker
 * thread, or the calling thread with `threads: 0`):
 *
 * - `chunk`: a few thousand events of an events segment, sent as soon as they are sealed, so
 *   the processing thread keeps no payload text; the segment writer holds the chunks of each
 *   segment until that segment is written.
 * - `write` (events) or `rows` (quarantine and late lanes, small, carried whole): build the
 *   Arrow batch, encode Parquet, write it atomically, answer with the byte count or the error.
 *   A failed `write` keeps its chunks, so the same message can be sent again to retry.
 */
import { join } from 'node:path';
import { Bool, Field, Int32, Int64, Schema, TimestampMillisecond, Utf8 } from 'apache-arrow';
import type { StreamDef } from '../catalog/index.js';
import { EventTableBuilder, type EventChunk } from './columnar.js';
import { toArrowTable, toParquetBytes, writeSegment } from './parquet-segment.js';

/** Events of segment `segment`, appended in order. */
export interface ChunkMessage {
  readonly kind: 'chunk';
  readonly segment: number;
  readonly stream: string;
  readonly chunk: EventChunk;
}

/** Writes events segment `id` from the chunks sent for it. */
export interface EventsJob {
  readonly kind: 'events';
  readonly id: number;
  readonly stream: string;
  /** Path under the archive root. */
  readonly file: string;
  /** Events expected (a check against lost chunks). */
  readonly rows: number;
}

/** Quarantine and late lanes: few rows, handed over as row objects. */
export interface RowsJob {
  readonly kind: 'rows';
  readonly id: number;
  readonly lane: 'quarantine' | 'late';
  readonly file: string;
  readonly rows: readonly Record<string, unknown>[];
}

export type SegmentJob = EventsJob | RowsJob;
export type SegmentMessage = ChunkMessage | SegmentJob;

/** An event the segment writer could not encode: left out of its segment, sent back for the quarantine lane. */
export interface RejectedEvent {
  readonly partition: number;
  readonly offset: number;
  readonly raw: string;
  readonly reason: string;
}

/** What a job produced: the bytes written and the events left out of an events segment. */
export interface SegmentResult {
  readonly bytes: number;
  readonly rejected: readonly RejectedEvent[];
}

/** What the segment writer answers: the bytes written (and events rejected), or why it failed. */
export type SegmentReply = ({ readonly id: number } & SegmentResult) | { readonly id: number; readonly error: string };

/** What a segment writer is started with (structured-clonable: it crosses to the worker). */
export interface SegmentWriterInit {
  readonly root: string;
  readonly streams: readonly StreamDef[];
  readonly piiKey: string | undefined;
  /** Nice value of the worker thread (Linux; 0 = same as the processing thread). */
  readonly niceness?: number;
}

export const QUARANTINE_SCHEMA = new Schema([
  new Field('_pw_partition', new Int32(), false), new Field('_pw_offset', new Int64(), false),
  new Field('code', new Utf8(), false), new Field('reason', new Utf8(), false), new Field('raw', new Utf8(), false),
  new Field('received_at', new TimestampMillisecond(), false),
]);

export const LATE_SCHEMA = new Schema([
  new Field('_pw_partition', new Int32(), false), new Field('_pw_offset', new Int64(), false),
  new Field('metric', new Utf8(), false), new Field('event_id', new Utf8(), false), new Field('event_time', new TimestampMillisecond(), false),
  new Field('window_start', new TimestampMillisecond(), false), new Field('window_end', new TimestampMillisecond(), false),
  new Field('watermark', new TimestampMillisecond(), true),
  // The event's own partition at its arrival (hot/operator-types.ts LateEvidence); null in both
  // when not known. Segments written before these columns existed read them as null.
  new Field('partition_watermark', new TimestampMillisecond(), true),
  new Field('partition_idle', new Bool(), true),
]);

/** Runs segment jobs: Arrow batch → Parquet (zstd) → temp file → rename. */
export class SegmentContext {
  readonly #root: string;
  readonly #builders = new Map<string, EventTableBuilder>();
  /** Chunks of events segments not yet written, by segment id. */
  readonly #chunks = new Map<number, EventChunk[]>();

  constructor(init: SegmentWriterInit) {
    this.#root = init.root;
    for (const s of init.streams) this.#builders.set(s.name, new EventTableBuilder(s, init.piiKey));
  }

  /** Encodes a one-row segment in memory, so the Parquet encoder is compiled before the first real one. */
  warmUp(): void {
    toParquetBytes(toArrowTable(QUARANTINE_SCHEMA, [{ _pw_partition: 0, _pw_offset: 0n, code: '', reason: '', raw: '', received_at: 0 }]));
  }

  /** Keeps a chunk for its segment. */
  chunk(message: ChunkMessage): void {
    let chunks = this.#chunks.get(message.segment);
    if (!chunks) { chunks = []; this.#chunks.set(message.segment, chunks); }
    chunks.push(message.chunk);
  }

  /**
   * Writes the job's segment; returns its size in bytes and the events left out of it. An events
   * segment's chunks are released once it is written.
   *
   * One event that cannot be encoded must not fail its segment forever (every retry, every
   * checkpoint after it): when building the segment throws, each event is built alone to find
   * the ones that fail; those are left out and returned (for the quarantine lane, with the
   * reason), and the segment is written without them. A failure no single event causes fails
   * the job as before.
   */
  run(job: SegmentJob): SegmentResult {
    let bytes: Uint8Array;
    let rejected: RejectedEvent[] = [];
    if (job.kind === 'events') {
      const builder = this.#builders.get(job.stream);
      if (!builder) throw new Error(`no stream '${job.stream}' in the archive writer`);
      const chunks = this.#chunks.get(job.id) ?? [];
      const rows = chunks.reduce((n, c) => n + c.rows, 0);
      if (rows !== job.rows) throw new Error(`segment ${job.id} has ${rows} events, expected ${job.rows}`);
      let table;
      try {
        table = builder.build(chunks);
      } catch (err) {
        const split = isolate(builder, chunks);
        if (split.rejected.length === 0) throw err;
        rejected = split.rejected;
        table = builder.build([split.kept]);
      }
      bytes = toParquetBytes(table);
    } else {
      bytes = toParquetBytes(toArrowTable(job.lane === 'quarantine' ? QUARANTINE_SCHEMA : LATE_SCHEMA, job.rows));
    }
    writeSegment(join(this.#root, job.file), bytes);
    if (job.kind === 'events') this.#chunks.delete(job.id);
    return { bytes: bytes.length, rejected };
  }
}

/** The events of `chunks` one by one: those that build alone (as one chunk, in order) and those that do not. */
function isolate(builder: EventTableBuilder, chunks: readonly EventChunk[]): { kept: EventChunk; rejected: RejectedEvent[] } {
  const raws: string[] = [];
  const keep: { partition: number; offset: number; time: number }[] = [];
  const rejected: RejectedEvent[] = [];
  for (const c of chunks) {
    let at = 0;
    for (let j = 0; j < c.rows; j++) {
      const len = c.lengths[j] as number;
      const raw = c.joined.substring(at, at + len);
      at += len + 1;
      const one = { partition: c.partitions[j] as number, offset: c.offsets[j] as number, time: c.times[j] as number };
      try {
        builder.build([{ rows: 1, joined: raw, lengths: Int32Array.of(len), partitions: Int32Array.of(one.partition), offsets: Float64Array.of(one.offset), times: Float64Array.of(one.time) }]);
        raws.push(raw);
        keep.push(one);
      } catch (err) {
        rejected.push({ partition: one.partition, offset: one.offset, raw, reason: (err as Error).message });
      }
    }
  }
  const kept: EventChunk = {
    rows: keep.length, joined: raws.join(','), lengths: Int32Array.from(raws, (r) => r.length),
    partitions: Int32Array.from(keep, (k) => k.partition), offsets: Float64Array.from(keep, (k) => k.offset), times: Float64Array.from(keep, (k) => k.time),
  };
  return { kept, rejected };
}

