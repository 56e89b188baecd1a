/**
 * A deterministic simulation of a group of pitwall members exchanging partials
 * (src/hot/two-phase.ts) through in-memory logs that behave like the partials topic: per
 * (metric, partials partition) an append-only log, consumed from a committed cursor.
 *
 * Input partitions are read through per-partition cursors; every member flushes now and then
 * (a flush appends its messages to the logs and commits its partitions' states and offsets, the
 * unit of exactly-once), partitions move between members at flushes, and members crash between
 * flushes: a crashed member loses everything it had not flushed (its partitions restart from the
 * committed state and offset; its phase two from its last committed state and log cursor).
 * Results, late pairs and overflows count only once committed, as the results topic and the
 * archive do.
 */
import type { Catalog } from '../../src/catalog/index.js';
import type { EngineSink } from '../../src/hot/engine.js';
import { lateLine } from '../../src/hot/late-line.js';
import type { RowChange } from '../../src/hot/operator-types.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { MergeStage, PartialStage, type MergeState, type PartialsMessage, type PartitionState } from '../../src/hot/two-phase.js';
import type { MetricPlan } from '../../src/plan/index.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { lateExplained, type LateLine } from '../../src/reconcile/reconcile.js';

export interface ClusterOptions {
  readonly members: number;
  readonly inputPartitions: number;
  readonly partialsPartitions: number;
  /** Seed of the schedule (reads, flushes, moves, crashes). */
  readonly seed: number;
  /** Chance per step that a partition moves to another member (at a flush). */
  readonly moveRate?: number;
  /** Chance per step that a member crashes (losing its unflushed work). */
  readonly crashRate?: number;
  /**
   * `given`: read the records one at a time in the order given (as a single process reading
   * them would); default `random`: random batches of random partitions.
   */
  readonly order?: 'given' | 'random';
  /**
   * Processing time advanced per step (ms; default 0): partitions not read for the stream's
   * idle_timeout go idle, so members' watermarks pass them (and published marks become floors).
   */
  readonly clockMsPerStep?: number;
}

export interface ClusterRun {
  readonly rows: Map<string, ResultRow[]>;
  readonly late: Map<string, { eventId: string; windowStart: number; windowEnd: number }[]>;
  readonly moves: number;
  readonly crashes: number;
  readonly flushes: number;
  readonly partialsAfterClose: number;
  /**
   * Committed late pairs that neither lateness in their own partition nor the idle rule explains
   * (reconcile's `false_late`), as `metric event-id`: none unless the watermark broke its rules.
   */
  readonly unexplainedLate: string[];
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
}

interface Member {
  p1: PartialStage;
  p2: MergeStage;
  /** Uncommitted outputs since this member's last flush / phase-two commit. */
  pendingLate: [string, { eventId: string; windowStart: number; windowEnd: number }, boolean][];
  pendingResults: [MetricPlan, RowChange][];
}

/**
 * Runs `records` (already assigned to input partitions, offsets per partition from 0) of
 * `stream` through a simulated group; returns the committed rows and late pairs.
 */
export function runCluster(catalog: Catalog, plans: readonly MetricPlan[], stream: string, records: readonly RawRecord[], opts: ClusterOptions): ClusterRun {
  const rnd = prng(opts.seed);
  const P = opts.inputPartitions;
  const Q = opts.partialsPartitions;
  const byPartition: RawRecord[][] = Array.from({ length: P }, () => []);
  for (const r of records) (byPartition[r.partition] as RawRecord[]).push(r);
  const committedState = new Map<number, PartitionState>();
  const committedMerge = new Map<string, { state: MergeState; cursor: number }>();
  const logs = new Map<string, PartialsMessage[]>();
  for (const p of plans) for (let q = 0; q < Q; q++) logs.set(`${p.name}/${q}`, []);
  const cursor2 = new Map<string, number>();
  const results = new ResultCollector();
  const late = new Map<string, { eventId: string; windowStart: number; windowEnd: number }[]>();
  const cursor1 = new Array<number>(P).fill(0);
  const owner1 = Array.from({ length: P }, (_, p) => p % opts.members);
  const owner2 = new Map<string, number>();
  plans.forEach((p, i) => { for (let q = 0; q < Q; q++) owner2.set(`${p.name}/${q}`, (q + i) % opts.members); });
  let moves = 0;
  let crashes = 0;
  let flushes = 0;
  let partialsAfterClose = 0;
  const unexplainedLate: string[] = [];

  const newMember = (): Member => {
    const m: Member = { p1: undefined as unknown as PartialStage, p2: undefined as unknown as MergeStage, pendingLate: [], pendingResults: [] };
    const sink: EngineSink = {
      result: (plan, change) => { m.pendingResults.push([plan, change]); },
      late: (plan, pair) => { m.pendingLate.push([plan.name, { eventId: pair.event.eventId, windowStart: pair.windowStart, windowEnd: pair.windowEnd }, lateExplained(plan, lateLine(plan, pair) as unknown as LateLine)]); },
    };
    m.p1 = new PartialStage(catalog, plans, sink, { partialsPartitions: () => Q });
    m.p2 = new MergeStage(plans, sink, { inputPartitions: () => P });
    return m;
  };
  const members = Array.from({ length: opts.members }, newMember);
  const startMember = (i: number): void => {
    const m = members[i] as Member;
    for (let p = 0; p < P; p++) {
      if (owner1[p] !== i) continue;
      m.p1.assign(stream, p, committedState.get(p), 0);
      cursor1[p] = committedState.get(p)?.offset ?? 0;
    }
    for (const [key, o] of owner2) {
      if (o !== i) continue;
      const [metric, q] = key.split('/') as [string, string];
      const c = committedMerge.get(key);
      m.p2.assign(metric, Number(q), c?.state);
      cursor2.set(key, c?.cursor ?? 0);
    }
  };
  for (let i = 0; i < members.length; i++) startMember(i);

  const commitOutputs = (m: Member): void => {
    for (const [name, pair, explained] of m.pendingLate) {
      const l = late.get(name) ?? [];
      l.push(pair);
      late.set(name, l);
      if (!explained) unexplainedLate.push(`${name} ${pair.eventId}`);
    }
    for (const [plan, change] of m.pendingResults) results.apply(plan, change);
    m.pendingLate = [];
    m.pendingResults = [];
  };
  const flush = (i: number, endOfInput = false): void => {
    const m = members[i] as Member;
    const f = m.p1.flush(endOfInput);
    for (const msg of f.messages) (logs.get(`${msg.metric}/${msg.partition}`) as PartialsMessage[]).push(msg);
    for (const st of f.states.values()) for (const [p, s] of st) committedState.set(p, s);
    // Phase two commits together with phase one (one transaction per member).
    for (const [key, o] of owner2) {
      if (o !== i) continue;
      const [metric, q] = key.split('/') as [string, string];
      committedMerge.set(key, { state: m.p2.state(metric, Number(q)), cursor: cursor2.get(key) ?? 0 });
    }
    commitOutputs(m);
    flushes++;
  };
  const consume = (i: number): void => {
    const m = members[i] as Member;
    for (const [key, o] of owner2) {
      if (o !== i) continue;
      const log = logs.get(key) as PartialsMessage[];
      let c = cursor2.get(key) ?? 0;
      while (c < log.length) m.p2.receive(log[c++] as PartialsMessage);
      cursor2.set(key, c);
    }
  };
  const crash = (i: number): void => {
    const old = members[i] as Member;
    for (const s of Object.values(old.p2.stats())) partialsAfterClose += s.partialsAfterClose ?? 0;
    members[i] = newMember();
    startMember(i);
    crashes++;
  };

  const remaining = (): number[] => byPartition.map((rs, p) => (cursor1[p] as number) < rs.length ? p : -1).filter((p) => p >= 0);
  for (let step = 0; step < 1_000_000; step++) {
    const open = remaining();
    if (open.length === 0) break;
    const given = opts.order === 'given' ? records.find((r) => r.offset === cursor1[r.partition]) : undefined;
    const p = given ? given.partition : open[Math.floor(rnd() * open.length)] as number;
    const n = given ? 1 : 1 + Math.floor(rnd() * 60);
    const batch = (byPartition[p] as RawRecord[]).slice(cursor1[p], (cursor1[p] as number) + n);
    cursor1[p] = (cursor1[p] as number) + batch.length;
    const now = step * (opts.clockMsPerStep ?? 0);
    (members[owner1[p] as number] as Member).p1.process(stream, batch, now);
    if (opts.clockMsPerStep) for (const m of members) m.p1.tick(now);
    const roll = rnd();
    if (roll < 0.15) {
      const i = Math.floor(rnd() * members.length);
      consume(i);
      flush(i);
      if (members.length > 1 && rnd() < (opts.moveRate ?? 0) * 5) {
        // A rebalance right after member i flushed: one of its input partitions and one of its
        // partials partitions go to another member, handed over as committed (a real member
        // reloads from the store; here the flush just committed everything it holds).
        const to = (i + 1 + Math.floor(rnd() * (members.length - 1))) % members.length;
        consume(to);
        flush(to);
        const mine = owner1.map((o, q) => (o === i ? q : -1)).filter((q) => q >= 0);
        if (mine.length > 1) {
          const moved = mine[Math.floor(rnd() * mine.length)] as number;
          (members[i] as Member).p1.revoke(stream, moved);
          owner1[moved] = to;
          (members[to] as Member).p1.assign(stream, moved, committedState.get(moved), 0);
          moves++;
        }
        const keys = [...owner2].filter(([, o]) => o === i).map(([k]) => k);
        if (keys.length > 1) {
          const key = keys[Math.floor(rnd() * keys.length)] as string;
          const [metric, q] = key.split('/') as [string, string];
          const state = (members[i] as Member).p2.revoke(metric, Number(q));
          owner2.set(key, to);
          (members[to] as Member).p2.assign(metric, Number(q), state);
          moves++;
        }
      }
    } else if (roll < 0.15 + (opts.crashRate ?? 0)) {
      crash(Math.floor(rnd() * members.length));
    } else if (roll < 0.3) {
      consume(Math.floor(rnd() * members.length));
    }
  }
  // End of input: every member flushes with +∞ marks; phase two drains every log.
  for (let i = 0; i < members.length; i++) flush(i, true);
  for (let i = 0; i < members.length; i++) { consume(i); commitOutputs(members[i] as Member); }
  for (const m of members) for (const s of Object.values(m.p2.stats())) partialsAfterClose += s.partialsAfterClose ?? 0;
  return { rows: new Map(plans.map((p) => [p.name, results.rows(p)])), late, moves, crashes, flushes, partialsAfterClose, unexplainedLate };
}
