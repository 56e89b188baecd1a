/**
 * A member thread of `pitwall run` (hot/member-pool.ts starts one per --workers): loads the
 * definitions, runs one MemberRunner (its own Kafka consumers and producer, decoding and
 * validating in this thread), and reports to the main thread: result changes for the serving
 * store and archive records in batches (flushed every 50 ms or 2,000 items), figures every
 * second. Its checkpoints wait until the main thread's archive has written what it sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadDefinitions, withoutTableJoins } from '../cli/load-definitions.js';
import type { ExecutionError } from '../errors.js';
import { enrichmentLaneEvent } from './enrichment/enrichment-stage.js';
import { MemberRunner, type MemberArchive } from './member-runner.js';
import type { AcceptedBatch, FromMember, LateTuple, MemberInit, ToMember } from './member-protocol.js';
import { evidenceTuple, type RowChange } from './operator-types.js';
import type { QuarantineRecord } from './stream-runtime.js';

const port = parentPort;
if (!port) throw new Error('member-worker runs as a worker thread');
const init = workerData as MemberInit;
const send = (m: FromMember, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const BATCH = 2000;
let changes: [string, RowChange, number | null][] = [];
/** Accepted events per stream, columnar, until the next hand-off (see AcceptedBatch). */
class AcceptedColumns {
  readonly raws: string[] = [];
  lengths = new Int32Array(BATCH);
  partitions = new Int32Array(BATCH);
  offsets = new Float64Array(BATCH);
  times = new Float64Array(BATCH);
  constructor(readonly stream: string) {}
  push(partition: number, offset: number, timeMs: number, raw: string): void {
    const i = this.raws.length;
    this.raws.push(raw);
    this.lengths[i] = raw.length;
    this.partitions[i] = partition;
    this.offsets[i] = offset;
    this.times[i] = timeMs;
  }
  /** The batch so far (its arrays then belong to the message), and a fresh start. */
  take(): AcceptedBatch {
    const n = this.raws.length;
    const batch = { stream: this.stream, rows: n, joined: this.raws.join(','), lengths: this.lengths.subarray(0, n), partitions: this.partitions.subarray(0, n), offsets: this.offsets.subarray(0, n), times: this.times.subarray(0, n) };
    this.raws.length = 0;
    this.lengths = new Int32Array(BATCH);
    this.partitions = new Int32Array(BATCH);
    this.offsets = new Float64Array(BATCH);
    this.times = new Float64Array(BATCH);
    return batch;
  }
}
const acceptedBy = new Map<string, AcceptedColumns>();
let acceptedRows = 0;
let late: LateTuple[] = [];
let quarantined: QuarantineRecord[] = [];
function flushBatches(): void {
  if (changes.length) { send({ t: 'results', changes }); changes = []; }
  if (acceptedRows || late.length || quarantined.length) {
    const accepted = [...acceptedBy.values()].filter((c) => c.raws.length > 0).map((c) => c.take());
    send({ t: 'archive', accepted, late, quarantined }, accepted.flatMap((b) => [b.lengths.buffer, b.partitions.buffer, b.offsets.buffer, b.times.buffer] as ArrayBuffer[]));
    acceptedRows = 0;
    late = [];
    quarantined = [];
  }
}
const batchTimer = setInterval(flushBatches, 50);
// The open windows this member merges, as provisional rows for the serving store (every second;
// they go with the result changes but never to the results topic).
const provisionalTimer = setInterval(() => {
  const r = runner;
  if (!r || !init.serve) return;
  for (const [p, c] of r.provisional.changes()) changes.push([p.name, c, null]);
}, 1000);

const flushes = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
let nextFlush = 0;
/** The main thread's archive, seen from here: records go in batches; flush waits for its write. */
const archive: MemberArchive | undefined = init.archive ? {
  accepted(stream, event, origin, raw) {
    let columns = acceptedBy.get(stream.name);
    if (!columns) { columns = new AcceptedColumns(stream.name); acceptedBy.set(stream.name, columns); }
    columns.push(origin.partition, origin.offset, event.eventTimeMs, raw ?? JSON.stringify(event.payload));
    // One stream's columns fill at BATCH rows; the hand-off covers every stream.
    if (++acceptedRows >= BATCH || columns.raws.length >= BATCH) flushBatches();
  },
  enrichment(lookup, stream, event, origin, e) {
    // As ArchiveWriter.enrichment: sent as an accepted event of the lane.
    const x = enrichmentLaneEvent(lookup, stream, event, e);
    this.accepted(x.lane, x.event, origin, x.raw);
  },
  late(plan, pair) {
    const t: LateTuple = [plan.name, pair.event.eventId, pair.event.eventTimeMs, pair.windowStart, pair.windowEnd, Number.isFinite(pair.watermarkMs) ? pair.watermarkMs : null, pair.origin.partition, pair.origin.offset];
    const ev = pair.evidence;
    if (ev) { const [pwm, idle] = evidenceTuple(ev); t.push(pwm, idle); }
    late.push(t);
    if (late.length >= BATCH) flushBatches();
  },
  quarantined(record) {
    quarantined.push(record);
    if (quarantined.length >= BATCH) flushBatches();
  },
  flush() {
    flushBatches();
    const id = nextFlush++;
    return new Promise<void>((resolve, reject) => { flushes.set(id, { resolve, reject }); send({ t: 'archiveFlush', id }); });
  },
  relieve: () => Promise.resolve(),
  open: () => ({ orphans: 0, temps: 0 }),
  ready: () => Promise.resolve(),
  broken: undefined,
} satisfies MemberArchive : undefined;

let runner: MemberRunner | undefined;
/** The main thread's latest shed state (at start: from workerData). */
let shedState = init.shed;
port.on('message', (msg: ToMember) => {
  if (msg.t === 'archiveFlushed') {
    const f = flushes.get(msg.id);
    flushes.delete(msg.id);
    if (msg.error) f?.reject(new Error(msg.error)); else f?.resolve();
    return;
  }
  if (msg.t === 'shed') {
    // Before the runner exists nothing was skipped: the update is kept for its construction.
    shedState = msg.update;
    const ack = runner ? runner.applyShed(msg.update) : { seq: msg.update.seq, closed: [] };
    send({ t: 'shedAck', ack });
    return;
  }
  if (msg.t === 'checkpoint') {
    if (!runner) { send({ t: 'checkpointed', id: msg.id, error: 'not started' }); return; }
    runner.checkpoint().then(() => send({ t: 'checkpointed', id: msg.id }), (err: unknown) => send({ t: 'checkpointed', id: msg.id, error: (err as Error).message }));
    return;
  }
  // stop
  const r = runner;
  clearInterval(figuresTimer);
  clearInterval(provisionalTimer);
  (r ? r.stop() : Promise.resolve()).then(() => { flushBatches(); send({ t: 'stopped' }); }, (err: unknown) => { flushBatches(); send({ t: 'stopped', error: (err as Error).message }); })
    .finally(() => { clearInterval(batchTimer); port.close(); });
});

const figuresTimer = setInterval(() => {
  const r = runner;
  if (!r) return;
  // The records behind the watermark reported here reach the main thread first (its backfill flushes the archive by them).
  flushBatches();
  send({ t: 'figures', figures: {
    stats: r.stats(), stateSize: r.stateSize(),
    streams: r.streams.map((s) => ({ name: s.stream.name, watermarkMs: Number.isFinite(s.watermark.watermarkMs) ? s.watermark.watermarkMs : null, evicted: s.dedup.evicted })),
    lag: [...r.lag], outboxes: [...r.outboxes()], lastCheckpointAt: r.lastCheckpointAt, checkpointMs: r.lastCheckpointMs,
    ...(r.lastCheckpointError ? { checkpointError: r.lastCheckpointError.message } : {}),
    counters: { ...r.counters }, owned: r.owned(), ...(r.groupError ? { groupError: r.groupError } : {}),
    ...(r.enrichment() ? { enrichment: r.enrichment() } : {}),
    ...(r.shed ? { shed: r.shed.figures() } : {}),
  } });
}, 1000);

try {
  const loaded = await loadDefinitions({ catalog: init.catalog, queries: init.queries });
  // As the main thread does (run-action.ts), which names them in its PW_RUN_JOIN warnings.
  const { catalog } = loaded;
  const { plans } = withoutTableJoins(loaded.plans);
  runner = new MemberRunner(catalog, plans, {
    brokers: init.brokers, groupId: init.groupId, stateDir: init.stateDir, resultsTopic: init.resultsTopic,
    checkpointIntervalMs: init.checkpointIntervalMs, fromBeginning: init.fromBeginning, maxGroups: init.maxGroups, maxDedupIds: init.maxDedupIds,
    partialsPrefix: init.partialsPrefix, memberId: init.memberId, ...(init.stateSync ? { stateSync: init.stateSync } : {}),
    ...(shedState ? { shed: shedState } : {}),
    ...(archive ? { archive } : {}),
    ...(init.serve ? { sink: { result: (p, c) => { changes.push([p.name, c, runner?.resultSinceMs ?? null]); if (changes.length >= BATCH) flushBatches(); } } } : {}),
    log: (m) => send({ t: 'log', msg: m }),
    onFatal: (err) => send({ t: 'fatal', error: err.message }),
  });
  await runner.start();
  send({ t: 'started' });
} catch (err) {
  send({ t: 'failed', error: (err as Error).message, ...((err as ExecutionError).code ? { code: (err as ExecutionError).code } : {}) });
}
