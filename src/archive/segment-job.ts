/**
 * One archive segment to write: the processing thread hands it over, the segment writer (a
 * worker thread, or the calling thread with `threads: 0`) builds the Arrow batch, encodes it as
 * Parquet and writes it atomically. A job carries everything it needs, so a failed job can be
 * retried as it is, and the writer keeps no state between jobs.
 */
import { join } from 'node:path';
import { Field, Int32, Int64, Schema, TimestampMillisecond, Utf8 } from 'apache-arrow';
import type { StreamDef } from '../catalog/index.js';
import { EventTableBuilder, type EventColumnsInput } from './columnar.js';
import { toArrowTable, toParquetBytes, writeAtomically } from './parquet-segment.js';

export interface EventsJob extends EventColumnsInput {
  readonly kind: 'events';
  readonly id: number;
  readonly stream: string;
  /** Path under the archive root. */
  readonly file: string;
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

/** What the segment writer answers: the bytes written, or why it failed. */
export type SegmentReply = { readonly id: number; readonly bytes: number } | { readonly id: number; readonly error: string };

/** What a segment writer is started with (structured-clonable: it crosses to the worker). */
export interface SegmentWriterInit {
  readonly root: string;
  readonly streams: readonly StreamDef[];
  readonly piiKey: string | undefined;
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
]);

/** Runs segment jobs: Arrow batch → Parquet (zstd) → temp file → rename. */
export class SegmentContext {
  readonly #root: string;
  readonly #builders = new Map<string, EventTableBuilder>();

  constructor(init: SegmentWriterInit) {
    this.#root = init.root;
    for (const s of init.streams) this.#builders.set(s.name, new EventTableBuilder(s, init.piiKey));
  }

  /** Writes the job's segment; returns its size in bytes. */
  run(job: SegmentJob): number {
    let bytes: Uint8Array;
    if (job.kind === 'events') {
      const builder = this.#builders.get(job.stream);
      if (!builder) throw new Error(`no stream '${job.stream}' in the archive writer`);
      bytes = toParquetBytes(builder.build(job));
    } else {
      bytes = toParquetBytes(toArrowTable(job.lane === 'quarantine' ? QUARANTINE_SCHEMA : LATE_SCHEMA, job.rows));
    }
    writeAtomically(join(this.#root, job.file), bytes);
    return bytes.length;
  }
}
