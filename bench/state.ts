/**
 * (h) Incremental checkpoints to the LMDB state store vs the legacy whole-state JSON checkpoint
 * (`engine.snapshot()` + checkpoint.json), on one metric — 1-hour TUMBLE count/sum per customer —
 * over events with as many distinct customers as distinct event ids (1,000,000 by default), in
 * one hour of event time, on 3 partitions. Records are pre-built JSON text and go through
 * `engine.process` (decode, validate, dedup, window, aggregate) in batches of 1,000 with a turn
 * of the event loop between batches; checkpoints run every second beside processing, as
 * `pitwall run` does them (capture → send in slices → commit on the writer thread → committed).
 *
 * - h1: longest event-loop stall (gap between ticks of a 1 ms timer) while checkpointing, vs the
 *   synchronous snapshot + save of the legacy checkpoint on the same state;
 * - h2: bytes of a checkpoint after 1% of the groups changed vs the first (full) checkpoint;
 * - h3: restore from the store vs JSON.parse + restore of checkpoint.json (both verified);
 * - h4: throughput with checkpoints every second vs none (A B A B, best of each).
 *
 * Sizes: PITWALL_BENCH_STATE_GROUPS (default 1,000,000 groups = ids), PITWALL_BENCH_STATE_STEADY_SECS
 * (h1's steady phase, default 10), PITWALL_BENCH_STATE_EVENTS (h4's events, default = groups).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { parseCatalogFile, type Catalog, type StreamDef } from '../src/catalog/index.js';
import type { CatalogError } from '../src/errors.js';
import { CheckpointStore } from '../src/hot/checkpoint-store.js';
import { Engine, type EngineSnapshot } from '../src/hot/engine.js';
import type { RawRecord } from '../src/hot/stream-runtime.js';
import { buildPlan, type MetricPlan } from '../src/plan/index.js';
import { parseQuery } from '../src/sql/index.js';
import { StateStore, type CommitInfo } from '../src/state/state-store.js';
import { fmt, gc, type Figure } from './common.js';

const STREAM_YAML = `
name: orders
topic: orders
event_id: eventId
event_time: eventTime
watermark_delay: 5s
fields:
  eventId: { type: string, required: true }
  eventType: { type: string }
  eventTime: { type: timestamp, required: true }
  data.customerId: { type: string }
  data.orderTotal: { type: double }
`;

const METRIC = `CREATE VIEW customer_1h AS
SELECT window_start, data.customerId AS c, COUNT(*) AS n, SUM(data.orderTotal) AS s
FROM TUMBLE(orders, eventTime, INTERVAL '1 hour')
GROUP BY window_start, data.customerId;`;

const STREAM = 'orders';
const HOUR = 3_600_000;
/** Start of the hour every event falls in. */
const T0 = 1_710_000_000_000 - (1_710_000_000_000 % HOUR);
const PARTITIONS = 3;
const BATCH = 1_000;
const CHECKPOINT_MS = 1_000;

function setup(): { catalog: Catalog; plan: MetricPlan } {
  const errors: CatalogError[] = [];
  const stream = parseCatalogFile('state-bench.yaml', STREAM_YAML, errors) as StreamDef;
  if (errors.length) throw errors[0];
  const catalog: Catalog = { dir: 'bench', streams: new Map([[stream.name, stream]]) };
  return { catalog, plan: buildPlan(parseQuery('state-bench.sql', METRIC), catalog) };
}

/** Event `seq` of a stream: a uuid-shaped id, round-robin partitions, offsets increasing per partition. */
function rawRecord(seq: number, customer: number, t: number): RawRecord {
  const eventId = `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`;
  const value = JSON.stringify({ eventId, eventType: 'order.created', eventTime: t, data: { customerId: `cust-${customer}`, orderTotal: (seq % 997) / 10 } });
  return { partition: seq % PARTITIONS, offset: Math.floor(seq / PARTITIONS), value };
}

/** Records for seqs [from, to) in batches of {@link BATCH}. */
function batches(from: number, to: number, customerOf: (seq: number) => number, timeOf: (seq: number) => number): RawRecord[][] {
  const out: RawRecord[][] = [];
  for (let b = from; b < to; b += BATCH) {
    const batch: RawRecord[] = [];
    for (let seq = b; seq < Math.min(to, b + BATCH); seq++) batch.push(rawRecord(seq, customerOf(seq), timeOf(seq)));
    out.push(batch);
  }
  return out;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => { s = (s * 1_103_515_245 + 12_345) % 2_147_483_648; return s / 2_147_483_648; };
}

/** One checkpoint's timeline (performance.now() ms) and what it wrote. */
interface CheckpointLog { readonly start: number; readonly captured: number; readonly sent: number; readonly committed: number; readonly end: number; readonly commit: CommitInfo }

/** One checkpoint as kafka-runner's `checkpoint()` takes it. */
async function checkpointOnce(engine: Engine, store: StateStore, log?: CheckpointLog[]): Promise<CommitInfo> {
  const start = performance.now();
  const cut = engine.captureChanges();
  const captured = performance.now();
  await store.send(cut.ops);
  const sent = performance.now();
  const commit = await store.commit();
  const committed = performance.now();
  cut.committed();
  log?.push({ start, captured, sent, committed, end: performance.now(), commit });
  return commit;
}

/** Checkpoints every {@link CHECKPOINT_MS} beside processing, one at a time (a tick while one runs is skipped). */
class Checkpointer {
  readonly log: CheckpointLog[] = [];
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #error: unknown;

  constructor(engine: Engine, store: StateStore) {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = checkpointOnce(engine, store, this.log)
        .then(() => undefined, (err: unknown) => { this.#error ??= err; })
        .finally(() => { this.#running = undefined; });
    }, CHECKPOINT_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    if (this.#error !== undefined) throw this.#error;
  }
}

interface Gap { readonly start: number; readonly end: number }

/**
 * The event loop's stalls: gaps between ticks of a 1 ms interval timer (an idle loop reads
 * ~1 ms). Also records GC pauses, to say what the longest gap overlapped.
 */
class StallSampler {
  max: Gap = { start: 0, end: 0 };
  /** Gaps of 20 ms or more. */
  readonly long: Gap[] = [];
  readonly gcs: { start: number; ms: number }[] = [];
  #last = performance.now();
  readonly #timer: NodeJS.Timeout;
  readonly #obs: PerformanceObserver;

  constructor() {
    this.#obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) this.gcs.push({ start: e.startTime, ms: e.duration }); });
    this.#obs.observe({ entryTypes: ['gc'] });
    this.#timer = setInterval(() => {
      const now = performance.now();
      const gap = { start: this.#last, end: now };
      if (now - this.#last > this.max.end - this.max.start) this.max = gap;
      if (now - this.#last >= 20) this.long.push(gap);
      this.#last = now;
    }, 1);
  }

  get maxMs(): number { return this.max.end - this.max.start; }

  stop(): void {
    clearInterval(this.#timer);
    for (const e of this.#obs.takeRecords()) this.gcs.push({ start: e.startTime, ms: e.duration });
    this.#obs.disconnect();
  }

  /** What the longest gap overlapped: checkpoint steps and GC pauses. */
  explain(log: readonly CheckpointLog[], batches: readonly Gap[]): string {
    const { start, end } = this.max;
    const over = (a: number, b: number): boolean => a < end && b > start;
    const what: string[] = [];
    for (const c of log) {
      if (over(c.start, c.captured)) what.push(`capture ${fmt(c.captured - c.start)} ms`);
      if (over(c.captured, c.sent)) what.push('send');
      if (over(c.sent, c.committed)) what.push('commit wait');
      if (over(c.committed, c.end)) what.push(`committed() ${fmt(c.end - c.committed)} ms`);
    }
    for (const b of batches) if (over(b.start, b.end)) what.push(`a batch of ${fmt(b.end - b.start)} ms`);
    const gcMs = this.gcs.filter((g) => over(g.start, g.start + g.ms)).reduce((n, g) => n + g.ms, 0);
    if (gcMs > 0) what.push(`GC ${fmt(gcMs)} ms`);
    return what.length ? `overlapping ${what.join(', ')}` : 'nothing logged overlapping';
  }
}

/** Feeds `batches` to the engine with a turn of the event loop between them; `paceMs`: one batch per that many ms. */
async function drive(engine: Engine, input: readonly RawRecord[][], paceMs = 0): Promise<{ secs: number; maxBatchMs: number; long: Gap[] }> {
  const t0 = performance.now();
  let maxBatchMs = 0;
  const long: Gap[] = [];
  for (let i = 0; i < input.length; i++) {
    const wait = paceMs > 0 ? t0 + i * paceMs - performance.now() : 0;
    if (wait > 0) await sleep(wait);
    else await yieldToLoop();
    const b0 = performance.now();
    engine.process(STREAM, input[i] as RawRecord[], Date.now());
    const b1 = performance.now();
    if (b1 - b0 > maxBatchMs) maxBatchMs = b1 - b0;
    if (b1 - b0 >= 10) long.push({ start: b0, end: b1 });
  }
  return { secs: (performance.now() - t0) / 1000, maxBatchMs, long };
}

/** Groups, remembered ids, offsets, accepted and duplicate counts: what a restore must reproduce. */
function shape(engine: Engine, plan: MetricPlan): { groups: number; ids: number; offsets: string; accepted: number } {
  const rt = engine.stream(STREAM);
  return { groups: engine.stateSize()[plan.name]?.groups ?? 0, ids: rt.dedup.size(), offsets: JSON.stringify([...rt.offsets].sort((a, b) => a[0] - b[0])), accepted: rt.stats.accepted };
}

function sameShape(what: string, got: ReturnType<typeof shape>, want: ReturnType<typeof shape>): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`bench (h3): ${what} differs from the original: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
}

/** Re-sends an event id the restored engine must remember (at a new offset): it must count as a duplicate. */
function checkDuplicate(what: string, engine: Engine, record: RawRecord): void {
  const rt = engine.stream(STREAM);
  const before = rt.stats.duplicates;
  engine.process(STREAM, [{ ...record, offset: rt.offsets.get(record.partition) ?? 0 }], Date.now());
  if (rt.stats.duplicates !== before + 1) throw new Error(`bench (h3): ${what} did not recognize a remembered event id as a duplicate`);
}

/**
 * StateStore hands `process.execArgv` (minus --input-type) to its writer Worker, and Worker refuses
 * V8 / process-wide flags such as `npm run bench`'s --expose-gc and --max-old-space-size
 * (ERR_WORKER_INVALID_EXEC_ARGV). They apply to the whole process anyway, so they are hidden from
 * the stores this bench starts (restored afterwards).
 */
const WORKER_INVALID = /^--(expose[-_]gc|max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|stack[-_]size)\b/;

const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20)} MiB`;
const num = (n: number): string => n.toLocaleString('en-US');
const note = (line: string): void => { process.stderr.write(`bench (h): ${line}\n`); };

export async function stateFigures(only: ReadonlySet<string> = new Set(['h1', 'h2', 'h3', 'h4'])): Promise<Figure[]> {
  const groups = Number(process.env.PITWALL_BENCH_STATE_GROUPS ?? 1_000_000);
  const steadySecs = Number(process.env.PITWALL_BENCH_STATE_STEADY_SECS ?? 10);
  const h4Events = Number(process.env.PITWALL_BENCH_STATE_EVENTS ?? groups);
  const { catalog, plan } = setup();
  const options = { maxGroups: Math.ceil(groups * 1.05) + 1_000 };
  /** Final rows per engine: count, SUM of n, SUM of s. */
  const tallies = new WeakMap<Engine, { rows: number; n: number; s: number }>();
  const newEngine = (): Engine => {
    const tally = { rows: 0, n: 0, s: 0 };
    const engine = new Engine(catalog, [plan], {
      result: (_p, c) => { if (c.final && c.values) { tally.rows++; tally.n += c.values[2] as number; tally.s += c.values[3] as number; } },
    }, options);
    tallies.set(engine, tally);
    return engine;
  };
  const dirs: string[] = [];
  const tempDir = (): string => { const d = mkdtempSync(join(tmpdir(), 'pw-bench-state-')); dirs.push(d); return d; };
  const figures: Figure[] = [];
  const G = num(groups);
  const execArgv = process.execArgv;
  process.execArgv = execArgv.filter((a) => !WORKER_INVALID.test(a));
  try {
    // The build: one event per customer (every event a new group and a new id) over the first half hour.
    const build = only.has('h1') || only.has('h2') || only.has('h3')
      ? batches(0, groups, (seq) => seq, (seq) => T0 + Math.floor((seq * HOUR) / 2 / groups))
      : [];

    // h1, new: build with checkpoints every second, then a steady phase touching 1% of the groups per second.
    let stall: { ms: number; phase: string; cause: string; detail: string } | undefined;
    if (only.has('h1')) {
      const engine = newEngine();
      const store = new StateStore(tempDir());
      engine.trackChanges(store.reader);
      gc();
      // Phase 1 (build). The checkpoint after the last batch is part of it, so phase 2 starts caught up.
      let sampler = new StallSampler();
      let ckpt = new Checkpointer(engine, store);
      const built = await drive(engine, build);
      await ckpt.stop();
      await checkpointOnce(engine, store, ckpt.log);
      sampler.stop();
      const phase1 = { ms: sampler.maxMs, cause: sampler.explain(ckpt.log, built.long), log: ckpt.log, maxBatchMs: built.maxBatchMs, secs: built.secs, long: sampler.long.length };
      gc();
      // Phase 2 (steady): existing customers at random, new ids, 1% of the groups per second.
      const perSec = Math.max(BATCH, Math.round(groups / 100));
      const steadyEvents = perSec * steadySecs;
      const rand = lcg(11);
      const steady = batches(groups, groups + steadyEvents, () => Math.floor(rand() * groups), (seq) => T0 + HOUR / 2 + Math.floor(((seq - groups) * (HOUR / 2 - 60_000)) / steadyEvents));
      sampler = new StallSampler();
      ckpt = new Checkpointer(engine, store);
      const steadyRun = await drive(engine, steady, (BATCH * 1000) / perSec);
      await ckpt.stop();
      sampler.stop();
      const phase2 = { ms: sampler.maxMs, cause: sampler.explain(ckpt.log, steadyRun.long), log: ckpt.log, maxBatchMs: steadyRun.maxBatchMs, secs: steadyRun.secs, long: sampler.long.length };
      for (const [name, p] of [['build', phase1], ['steady', phase2]] as const) {
        const caps = p.log.map((c) => c.captured - c.start);
        const sends = p.log.map((c) => c.sent - c.captured);
        note(`h1 ${name}: ${fmt(p.secs)} s, ${p.log.length} checkpoints (${p.log.map((c) => num(c.commit.ops)).join(', ')} ops; ${p.log.map((c) => mb(c.commit.bytes)).join(', ')}), `
          + `longest capture ${fmt(Math.max(...caps))} ms, longest send ${fmt(Math.max(...sends))} ms, longest writer transaction ${fmt(Math.max(...p.log.map((c) => c.commit.ms)))} ms, `
          + `longest batch ${fmt(p.maxBatchMs)} ms; max stall ${fmt(p.ms)} ms (${p.cause}); ${p.long} gaps ≥ 20 ms`);
      }
      const worst = phase1.ms >= phase2.ms ? { p: phase1, phase: 'build' } : { p: phase2, phase: 'steady' };
      stall = { ms: worst.p.ms, phase: worst.phase, cause: worst.p.cause, detail: `build ${fmt(phase1.ms)} ms, steady ${fmt(phase2.ms)} ms` };
      await store.close();
    }

    // The same state built without a store: the legacy checkpoint's stall and size, then h2 and h3.
    if (build.length > 0) {
      gc();
      const engine = newEngine();
      await drive(engine, build);
      const built = shape(engine, plan);
      if (built.groups !== groups || built.ids !== groups) throw new Error(`bench (h): built ${built.groups} groups and ${built.ids} ids, expected ${groups}`);
      gc();
      const legacyDir = tempDir();
      const t0 = performance.now();
      const snap = engine.snapshot();
      const t1 = performance.now();
      const legacyBytes = new CheckpointStore(legacyDir).save(snap);
      const legacyMs = performance.now() - t0;
      note(`legacy checkpoint: snapshot ${fmt(t1 - t0)} ms + JSON save ${fmt(legacyMs - (t1 - t0))} ms, ${mb(legacyBytes)}`);

      if (stall) {
        const ratio = stall.ms / legacyMs;
        figures.push({
          id: 'h1', what: `Longest event-loop stall during checkpoints with ${G} open groups and ${G} dedup ids (1 ms timer gaps; processing in batches of 1,000, checkpoint every 1 s: build of ${G} events, then ${steadySecs} s steady at 1% of the groups per second) vs the legacy snapshot + checkpoint.json save`,
          value: `${fmt(stall.ms)} ms (${stall.phase}: ${stall.cause}; ${stall.detail}) vs ${fmt(legacyMs)} ms`, ratio: ratio.toFixed(3), target: '≤ 50 ms', met: stall.ms <= 50,
        });
      }

      // h2: the first checkpoint holds everything; then 1% of the groups change (new ids with them).
      const dir = tempDir();
      let store = new StateStore(dir);
      engine.trackChanges(store.reader);
      const fullT0 = performance.now();
      const full = await checkpointOnce(engine, store);
      note(`full checkpoint: ${num(full.ops)} ops, ${mb(full.bytes)} in ${fmt(performance.now() - fullT0)} ms (writer transaction ${fmt(full.ms)} ms)`);
      const touched = Math.max(1, Math.round(groups / 100));
      const step = Math.floor(groups / touched);
      await drive(engine, batches(groups, groups + touched, (seq) => (seq - groups) * step, (seq) => T0 + HOUR / 2 + (seq - groups)));
      const delta = await checkpointOnce(engine, store);
      const ratio2 = delta.bytes / full.bytes;
      figures.push({
        id: 'h2', what: `Bytes written per checkpoint when 1% of ${G} groups changed (${num(touched)} events into ${num(touched)} existing groups, each with a new dedup id) vs the full first checkpoint of the same state`,
        value: `${mb(delta.bytes)} (${num(delta.ops)} ops) vs ${mb(full.bytes)} (${num(full.ops)} ops); legacy checkpoint.json ${mb(legacyBytes)}`, ratio: `${(ratio2 * 100).toFixed(2)}%`, target: '≤ 2% of a full snapshot', met: ratio2 <= 0.02,
      });

      // h3: restore from the store into a fresh engine vs the legacy JSON restore.
      const original = shape(engine, plan);
      await store.close();
      const firstRecord = build[0]?.[0] as RawRecord;
      gc();
      const restored = newEngine();
      const r0 = performance.now();
      store = new StateStore(dir);
      restored.trackChanges(store.reader);
      await restored.restoreStored(store.reader);
      const restoreMs = performance.now() - r0;
      sameShape('the engine restored from the store', shape(restored, plan), original);
      checkDuplicate('the engine restored from the store', restored, firstRecord);
      // Every row both would emit once their window closes: same count and sums.
      engine.endOfInput();
      restored.endOfInput();
      if (tallies.get(engine)?.rows !== groups || JSON.stringify(tallies.get(restored)) !== JSON.stringify(tallies.get(engine))) {
        throw new Error(`bench (h3): the restored engine's rows differ: ${JSON.stringify(tallies.get(restored))} vs ${JSON.stringify(tallies.get(engine))}`);
      }
      await store.close();
      gc();
      const legacyEngine = newEngine();
      const l0 = performance.now();
      legacyEngine.restore(JSON.parse(readFileSync(join(legacyDir, 'checkpoint.json'), 'utf8')) as EngineSnapshot);
      const legacyRestoreMs = performance.now() - l0;
      sameShape('the engine restored from checkpoint.json', shape(legacyEngine, plan), built);
      checkDuplicate('the engine restored from checkpoint.json', legacyEngine, firstRecord);
      figures.push({
        id: 'h3', what: `Restore of ${G} groups and ${G} dedup ids into a fresh engine (open the store, track, restoreStored; verified: groups, ids, offsets, a remembered id) vs the legacy JSON.parse(checkpoint.json) + restore`,
        value: `${fmt(restoreMs / 1000)} s vs ${fmt(legacyRestoreMs / 1000)} s`, ratio: (restoreMs / legacyRestoreMs).toFixed(2), target: '≤ 3 s', met: restoreMs <= 3_000,
      });
    }

    // h4: the same records with and without checkpoints every second, alternated, best of each.
    if (only.has('h4')) {
      const keys = Math.max(1, Math.round(h4Events / 5));
      const input = batches(0, h4Events, (seq) => seq % keys, (seq) => T0 + Math.floor((seq * (HOUR - 60_000)) / h4Events));
      const best = { off: 0, on: 0 };
      let checkpoints = 0;
      for (const mode of ['off', 'on', 'off', 'on'] as const) {
        gc();
        const engine = newEngine();
        let store: StateStore | undefined;
        let ckpt: Checkpointer | undefined;
        if (mode === 'on') {
          store = new StateStore(tempDir());
          engine.trackChanges(store.reader);
          ckpt = new Checkpointer(engine, store);
        }
        const { secs } = await drive(engine, input);
        await ckpt?.stop();
        await store?.close();
        const rate = h4Events / secs;
        note(`h4 checkpoints ${mode}: ${num(Math.round(rate))} events/s${ckpt ? ` (${ckpt.log.length} checkpoints)` : ''}`);
        if (rate > best[mode]) { best[mode] = rate; if (ckpt) checkpoints = ckpt.log.length; }
      }
      const ratio = best.on / best.off;
      figures.push({
        id: 'h4', what: `Throughput with checkpoints every 1 s vs checkpoints off: ${num(h4Events)} events (distinct ids, ${num(keys)} customers, one hour) through engine.process in batches of 1,000, A B A B, best of each`,
        value: `${num(Math.round(best.on))} events/s (${checkpoints} checkpoints) vs ${num(Math.round(best.off))} events/s`, ratio: ratio.toFixed(2), target: '≥ 0.9', met: ratio >= 0.9,
      });
    }
  } finally {
    process.execArgv = execArgv;
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  return figures.filter((f) => only.has(f.id));
}
