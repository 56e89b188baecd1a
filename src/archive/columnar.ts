/**
 * Builds the archive's Arrow record batch of a stream's events directly as column buffers
 * (typed arrays, validity bitmaps, UTF-8 data with offsets) instead of appending value by value
 * through apache-arrow's builders, which cost ~7 µs per event for the bench stream; this way
 * costs well under 1 µs. Input is the raw JSON of each event as received (already validated by
 * the hot path), so the processing thread only hands the text over.
 *
 * The result is the same schema as `archiveSchema(stream)`: metadata columns, catalog fields
 * (nested objects as structs; a struct is null when its object is missing or null; read at
 * their declared paths whatever the event's catalog version), and the payload JSON (after PII
 * treatment; byte for byte as received when the stream has no PII).
 */
import { Bool, type Data, Float64, Int32, Int64, makeData, RecordBatch, Struct, Table, TimestampMillisecond, Utf8, type Field, type Schema } from 'apache-arrow';
import type { FieldDef, StreamDef } from '../catalog/index.js';
import { declaredLayout, getPath } from '../catalog/index.js';
import { parseTimestampMs } from '../util/timestamp.js';
import { archiveSchema, fieldTree, type FieldTree } from './arrow-schema.js';
import { hasPii, treatPii } from './pii.js';

/** A chunk of a segment's events as the processing thread hands them over (all arrays of length `rows`). */
export interface EventChunk {
  readonly rows: number;
  /** The raw JSON texts joined by ',' (so the worker parses them as one array). */
  readonly joined: string;
  /** Length in UTF-16 code units of each raw text inside `joined`. */
  readonly lengths: Int32Array;
  readonly partitions: Int32Array;
  readonly offsets: Float64Array;
  readonly times: Float64Array;
}

const EMPTY = new Uint8Array(0);

/** A validity bitmap (bit set = value present) with its null count. */
class Validity {
  readonly bits: Uint8Array;
  nulls = 0;
  constructor(n: number) { this.bits = new Uint8Array((n + 7) >> 3); }
  set(i: number): void { (this.bits as Uint8Array)[i >> 3] = ((this.bits[i >> 3] as number) | (1 << (i & 7))); }
  null(): void { this.nulls++; }
  /** The bitmap as Arrow takes it (none when nothing is null). */
  get bitmap(): Uint8Array { return this.nulls === 0 ? EMPTY : this.bits; }
}

/**
 * A UTF-8 column written straight into a growing byte buffer: no JS string of the column
 * outlives the row that produced it, so the worker's heap holds no per-row survivors.
 */
export class Utf8Column {
  readonly validity: Validity;
  readonly offsets: Int32Array;
  #data = Buffer.allocUnsafe(64 * 1024);
  #at = 0;
  #row = 0;

  constructor(n: number) {
    this.validity = new Validity(n);
    this.offsets = new Int32Array(n + 1);
  }

  #reserve(bytes: number): void {
    if (this.#at + bytes <= this.#data.length) return;
    let size = this.#data.length * 2;
    while (size < this.#at + bytes) size *= 2;
    if (size > 0x7fffffff) throw new RangeError('a UTF-8 column passed 2 GiB in one segment');
    const next = Buffer.allocUnsafe(size);
    this.#data.copy(next, 0, 0, this.#at);
    this.#data = next;
  }

  append(value: string): void {
    this.#reserve(value.length * 3);
    this.#at += this.#data.write(value, this.#at, 'utf8');
    this.validity.set(this.#row);
    this.offsets[++this.#row] = this.#at;
  }

  /** Appends bytes already encoded as UTF-8. */
  appendBytes(source: Uint8Array, start: number, end: number): void {
    this.#reserve(end - start);
    this.#data.set(source.subarray(start, end), this.#at);
    this.#at += end - start;
    this.validity.set(this.#row);
    this.offsets[++this.#row] = this.#at;
  }

  appendNull(): void {
    this.validity.null();
    this.offsets[++this.#row] = this.#at;
  }

  data(): Data<Utf8> {
    return makeData({ type: new Utf8(), length: this.#row, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap, valueOffsets: this.offsets, data: this.#data.subarray(0, this.#at) });
  }
}

/** One catalog leaf field's column, filled row by row. */
class LeafColumn {
  readonly field: FieldDef;
  readonly validity: Validity;
  readonly strings: Utf8Column | undefined;
  readonly ints: BigInt64Array | undefined;
  readonly doubles: Float64Array | undefined;
  readonly bools: Uint8Array | undefined;

  constructor(field: FieldDef, n: number) {
    this.field = field;
    this.validity = new Validity(n);
    if (field.type === 'string') this.strings = new Utf8Column(n);
    else if (field.type === 'int' || field.type === 'timestamp') this.ints = new BigInt64Array(n);
    else if (field.type === 'double') this.doubles = new Float64Array(n);
    else if (field.type === 'boolean') this.bools = new Uint8Array((n + 7) >> 3);
  }

  set(i: number, v: unknown): void {
    if (v === undefined || v === null) { this.absent(); return; }
    switch (this.field.type) {
      case 'string': (this.strings as Utf8Column).append(String(v)); return;
      case 'double': (this.doubles as Float64Array)[i] = v as number; break;
      case 'int': (this.ints as BigInt64Array)[i] = BigInt.asIntN(64, BigInt(v as number)); break;
      case 'timestamp': {
        const ms = parseTimestampMs(v);
        if (ms === undefined) { this.absent(); return; }
        (this.ints as BigInt64Array)[i] = BigInt(ms);
        break;
      }
      case 'boolean': if (v === true) (this.bools as Uint8Array)[i >> 3] = ((this.bools as Uint8Array)[i >> 3] as number) | (1 << (i & 7)); break;
    }
    this.validity.set(i);
  }

  absent(): void {
    if (this.strings) this.strings.appendNull();
    else this.validity.null();
  }

  data(n: number): Data {
    const v = this.validity;
    switch (this.field.type) {
      case 'string': return (this.strings as Utf8Column).data();
      case 'double': return makeData({ type: new Float64(), length: n, nullCount: v.nulls, nullBitmap: v.bitmap, data: this.doubles as Float64Array });
      case 'int': return makeData({ type: new Int64(), length: n, nullCount: v.nulls, nullBitmap: v.bitmap, data: this.ints as BigInt64Array });
      case 'timestamp': return makeData({ type: new TimestampMillisecond(), length: n, nullCount: v.nulls, nullBitmap: v.bitmap, data: this.ints as BigInt64Array });
      case 'boolean': return makeData({ type: new Bool(), length: n, nullCount: v.nulls, nullBitmap: v.bitmap, data: this.bools as Uint8Array });
    }
  }
}

/** A node of the field tree: a leaf column or a struct of children. */
interface Node { readonly name: string; readonly leaf?: LeafColumn; readonly children: Node[]; readonly validity?: Validity }

/** The column tree of the catalog fields, the same tree the schema is built from. */
function columnTree(fields: readonly FieldDef[], n: number): Node[] {
  const build = (t: FieldTree): Node[] => [...t.children].map(([name, c]) => (c.leaf
    ? { name, leaf: new LeafColumn(c.leaf, n), children: [] }
    : { name, children: build(c), validity: new Validity(n) }));
  return build(fieldTree(fields));
}

function fill(nodes: readonly Node[], obj: Record<string, unknown> | undefined, i: number): void {
  for (const node of nodes) {
    const v = obj?.[node.name];
    if (node.leaf) { node.leaf.set(i, v); continue; }
    const validity = node.validity as Validity;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      validity.set(i);
      fill(node.children, v as Record<string, unknown>, i);
    } else {
      validity.null();
      fill(node.children, undefined, i);
    }
  }
}

/** Column data of a tree node, typed by its schema field (the schema is built from the same tree). */
function nodeData(node: Node, field: Field, n: number): Data {
  if (node.leaf) return node.leaf.data(n);
  const type = field.type as Struct;
  const children = node.children.map((c, i) => nodeData(c, type.children[i] as Field, n));
  const v = node.validity as Validity;
  return makeData({ type, length: n, nullCount: v.nulls, nullBitmap: v.bitmap, children });
}

/** Builds Arrow tables of a stream's events from raw JSON texts. */
export class EventTableBuilder {
  readonly stream: StreamDef;
  readonly schema: Schema;
  readonly #piiKey: string | undefined;
  readonly #pii: boolean;
  readonly #kept: FieldDef[];
  readonly #idSegments: string[];
  /** Fault injection for the tests (`PITWALL_FAILPOINT=archive-record:<text>`): an event whose text holds it fails to encode. */
  readonly #failOn: string | undefined;

  constructor(stream: StreamDef, piiKey: string | undefined) {
    const fp = process.env.PITWALL_FAILPOINT;
    this.#failOn = fp?.startsWith('archive-record:') ? fp.slice('archive-record:'.length) : undefined;
    this.stream = stream;
    this.schema = archiveSchema(stream);
    this.#piiKey = piiKey;
    this.#pii = hasPii(stream);
    this.#kept = [...stream.fields.values()].filter((f) => f.pii !== 'drop');
    this.#idSegments = stream.eventId.split('.');
  }

  /** One record batch of the chunks' events, in order. */
  build(chunks: readonly EventChunk[]): Table {
    let n = 0;
    for (const c of chunks) n += c.rows;
    const ids = new Utf8Column(n);
    const texts = new Utf8Column(n);
    const partitions = new Int32Array(n);
    const offsets = new BigInt64Array(n);
    const times = new BigInt64Array(n);
    const tree = columnTree(this.#kept, n);
    let i = 0;
    for (const chunk of chunks) {
      const parsed = JSON.parse(`[${chunk.joined}]`) as Record<string, unknown>[];
      if (parsed.length !== chunk.rows) throw new Error(`a chunk holds ${parsed.length} payloads, expected ${chunk.rows}`);
      partitions.set(chunk.partitions, i);
      // Payload texts are copied as bytes: byte offsets equal character offsets when the chunk is ASCII.
      const bytes = this.#pii ? undefined : Buffer.from(chunk.joined, 'utf8');
      const ascii = bytes?.length === chunk.joined.length;
      let at = 0;
      for (let j = 0; j < chunk.rows; j++, i++) {
        const raw = parsed[j] as Record<string, unknown>;
        const len = chunk.lengths[j] as number;
        if (this.#failOn !== undefined && chunk.joined.substring(at, at + len).includes(this.#failOn)) throw new Error(`failpoint archive-record:${this.#failOn}`);
        ids.append(String(getPath(raw, this.#idSegments)));
        const payload = this.#pii ? treatPii(this.stream, raw, this.#piiKey) : raw;
        // Typed columns at declared paths (as validation rewrote the event for the hot path); the JSON column as received.
        const declared = declaredLayout(this.stream, payload);
        if (!bytes) texts.append(JSON.stringify(payload));
        else if (ascii) texts.appendBytes(bytes, at, at + len);
        else texts.append(chunk.joined.substring(at, at + len));
        at += len + 1;
        offsets[i] = BigInt(chunk.offsets[j] as number);
        times[i] = BigInt(chunk.times[j] as number);
        fill(tree, declared, i);
      }
    }
    const columns: Data[] = [
      makeData({ type: new Int32(), length: n, nullCount: 0, data: partitions }),
      makeData({ type: new Int64(), length: n, nullCount: 0, data: offsets }),
      ids.data(),
      makeData({ type: new TimestampMillisecond(), length: n, nullCount: 0, data: times }),
      ...tree.map((node, i) => nodeData(node, this.schema.fields[4 + i] as Field, n)),
      texts.data(),
    ];
    const batch = new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length: n, nullCount: 0, children: columns }));
    return new Table([batch]);
  }
}
