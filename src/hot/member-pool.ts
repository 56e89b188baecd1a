/**
 * `pitwall run`'s member threads: N worker threads (--workers, default the number of cores),
 * each one member of the group (hot/member-runner.ts) with its own Kafka consumers and
 * producer, so decoding, validation and every operator run on all cores. The broker's consumer
 * groups spread the input partitions and the partials partitions over every member of every
 * process alike, so a rebalance between threads is the same code path as one between machines.
 * (One consumer per thread rather than one per process handing records to threads: the Kafka
 * client's decoding is about a quarter of the work per event, and would cap a shared consumer
 * on one core.)
 *
 * The main thread keeps serving, /metrics and the archive: members send it result changes and
 * archive records in batches, and figures every second. Backpressure: a member's checkpoint
 * waits until the archive has written what the member sent (the archive's own bound applies
 * there); result batches are applied to the serving store as they arrive.
 */
import { availableParallelism, hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import { enrichmentLanes, type Catalog, type StreamDef } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import type { EngineView } from '../serve/engine-handle.js';
import { workerExecArgv } from '../util/worker-argv.js';
import type { EnrichmentFigures } from './enrichment/build-stages.js';
import { FALLBACK_REASONS, type FallbackReason } from './enrichment/lookup-answer.js';
import type { MetricStats } from './metric-operator.js';
import type { FromMember, MemberFigures, MemberInit, ToMember } from './member-protocol.js';
import type { ShedAck, ShedUpdate } from './member-shed.js';
import { evidenceFrom, type RowChange } from './operator-types.js';
import type { StreamStats } from './stream-runtime.js';

const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./member-worker-entry.mjs', import.meta.url)
  : new URL('./member-worker.js', import.meta.url);

/** The default number of member threads: one per core. */
export function defaultWorkers(): number { return availableParallelism(); }

export interface MemberPoolOptions extends Omit<MemberInit, 'index' | 'memberId' | 'archive' | 'serve'> {
  readonly workers: number;
  readonly archive?: ArchiveWriter;
  /** Result changes from the members (the serving store). */
  /** Result changes for the serving store; `sinceMs`: when the first input batch behind it reached a member (wall clock, ms), if known. */
  readonly onResult?: (plan: MetricPlan, change: RowChange, sinceMs: number | undefined) => void;
  readonly log?: (msg: string) => void;
  /** A member reported a fatal error (checkpoints failing for good): the process should exit. */
  readonly onFatal?: (err: Error) => void;
  /** A member applied a shed update (hot/shed-coordinator.ts). */
  readonly onShedAck?: (ack: ShedAck) => void;
}

interface Member {
  readonly worker: Worker;
  readonly id: string;
  figures: MemberFigures | undefined;
  stopped: Promise<void> | undefined;
}

const sum = <T extends object>(into: T, from: T): void => {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') (into as Record<string, number>)[k] = ((into as Record<string, number>)[k] ?? 0) + v;
};

export class MemberPool {
  readonly #opts: MemberPoolOptions;
  readonly #catalog: Catalog;
  /** The archive's enrichment lanes (`<lookup>.enrichment.<stream>`) members send records of. */
  readonly #lanes: ReadonlyMap<string, StreamDef>;
  readonly #plans: ReadonlyMap<string, MetricPlan>;
  readonly #members: Member[] = [];
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextId = 0;

  constructor(catalog: Catalog, plans: readonly MetricPlan[], opts: MemberPoolOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new ExecutionError('PW_BAD_OPTION', `--workers must be a whole number ≥ 1 (got ${opts.workers})`);
    this.#opts = opts;
    this.#catalog = catalog;
    this.#lanes = new Map(enrichmentLanes(catalog).map((d) => [d.name, d]));
    this.#plans = new Map(plans.map((p) => [p.name, p]));
  }

  get size(): number { return this.#members.length; }

  /** Starts every member; resolves once all joined their groups, rejects with the first failure (the others are stopped). */
  async start(): Promise<void> {
    const base = `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    const started: Promise<void>[] = [];
    for (let index = 0; index < this.#opts.workers; index++) {
      const { workers: _w, archive, onResult: _r, log: _l, onFatal: _f, onShedAck: _s, ...rest } = this.#opts;
      const init: MemberInit = { ...rest, index, memberId: `${base}-w${index}`, archive: archive !== undefined, serve: this.#opts.onResult !== undefined };
      const worker = new Worker(WORKER_URL, { workerData: init, name: `pitwall-member-${index}`, execArgv: workerExecArgv() });
      const member: Member = { worker, id: init.memberId, figures: undefined, stopped: undefined };
      this.#members.push(member);
      started.push(new Promise<void>((resolve, reject) => {
        worker.on('message', (m: FromMember) => {
          if (m.t === 'started') resolve();
          else if (m.t === 'failed') reject(new ExecutionError((m.code ?? 'PW_KAFKA') as 'PW_KAFKA', m.error));
          else this.#onMessage(member, m);
        });
        worker.on('error', (err) => { reject(err); this.#opts.onFatal?.(err); });
      }));
    }
    try {
      await Promise.all(started);
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  #onMessage(member: Member, m: FromMember): void {
    switch (m.t) {
      case 'results': {
        const apply = this.#opts.onResult;
        if (apply) for (const [name, change, since] of m.changes) { const p = this.#plans.get(name); if (p) apply(p, change, since ?? undefined); }
        return;
      }
      case 'archive': {
        const a = this.#opts.archive;
        if (!a) return;
        for (const batch of m.accepted) {
          const stream = this.#catalog.streams.get(batch.stream) ?? this.#lanes.get(batch.stream);
          if (stream?.kind === 'stream') a.acceptedChunk(stream, batch);
        }
        for (const [metric, eventId, eventTimeMs, windowStart, windowEnd, wm, partition, offset, pwm, idle] of m.late) {
          const p = this.#plans.get(metric);
          if (p) a.late(p, { event: { ok: true, eventId, eventTimeMs, payload: {} }, origin: { partition, offset }, windowStart, windowEnd, watermarkMs: wm ?? Number.NEGATIVE_INFINITY, evidence: evidenceFrom(pwm, idle) });
        }
        for (const r of m.quarantined) a.quarantined(r);
        return;
      }
      case 'archiveFlush': {
        const a = this.#opts.archive;
        const reply = (error?: string): void => member.worker.postMessage({ t: 'archiveFlushed', id: m.id, ...(error ? { error } : {}) } satisfies ToMember);
        if (!a) { reply(); return; }
        a.flush().then(() => reply(), (err: unknown) => reply((err as Error).message));
        return;
      }
      case 'figures': member.figures = m.figures; return;
      case 'log': this.#opts.log?.(m.msg); return;
      case 'fatal': this.#opts.onFatal?.(new Error(m.error)); return;
      case 'shedAck': this.#opts.onShedAck?.(m.ack); return;
      case 'checkpointed': {
        const w = this.#waiting.get(m.id);
        this.#waiting.delete(m.id);
        if (m.error) w?.reject(new Error(m.error)); else w?.resolve();
        return;
      }
      default: return;
    }
  }

  /** Sends the main thread's shed state to every member (each answers with onShedAck). */
  shedUpdate(update: ShedUpdate): void {
    for (const member of this.#members) member.worker.postMessage({ t: 'shed', update } satisfies ToMember);
  }

  /** Runs a checkpoint in every member now (admin). */
  async checkpoint(): Promise<void> {
    await Promise.all(this.#members.map((member) => new Promise<void>((resolve, reject) => {
      const id = this.#nextId++;
      this.#waiting.set(id, { resolve, reject });
      member.worker.postMessage({ t: 'checkpoint', id } satisfies ToMember);
    })));
  }

  /** Stops every member (each writes a final checkpoint and leaves its groups); throws the first failure. */
  async stop(): Promise<void> {
    const failures: string[] = [];
    await Promise.all(this.#members.map((member) => member.stopped ??= new Promise<void>((resolve) => {
      const done = (error?: string): void => { if (error) failures.push(`${member.id}: ${error}`); resolve(); };
      member.worker.on('message', (m: FromMember) => { if (m.t === 'stopped') done(m.error); });
      member.worker.once('exit', () => done());
      member.worker.postMessage({ t: 'stop' } satisfies ToMember);
    })));
    await Promise.all(this.#members.map((m) => m.worker.terminate()));
    if (failures.length) throw new Error(`members failed to stop cleanly: ${failures.join('; ')}`);
  }

  /** Every member's last figures (undefined before its first report). */
  figures(): (MemberFigures | undefined)[] { return this.#members.map((m) => m.figures); }

  /** Consumer lag per `topic:partition` over every member. */
  lag(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.#members) for (const [k, v] of m.figures?.lag ?? []) out.set(k, v);
    return out;
  }

  outboxes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.#members) for (const [k, v] of m.figures?.outboxes ?? []) out.set(k, (out.get(k) ?? 0) + v);
    return out;
  }

  /**
   * Whether this process's members own every partition of every input and partials topic (a
   * group of this process alone): false when other processes share the work, undefined until
   * every member has reported its assignment.
   */
  ownsEverything(): { whole: boolean; owned: number; total: number } | undefined {
    const owned = new Map<string, Set<number>>();
    const counts = new Map<string, number>();
    for (const m of this.#members) {
      const o = m.figures?.owned;
      if (!o) return undefined;
      for (const [topic, n] of Object.entries(o.counts)) counts.set(topic, n);
      for (const map of [o.input, o.partials]) {
        for (const [topic, parts] of Object.entries(map)) {
          const set = owned.get(topic) ?? new Set<number>();
          for (const p of parts) set.add(p);
          owned.set(topic, set);
        }
      }
    }
    let have = 0;
    let total = 0;
    for (const [topic, n] of counts) { // the input and partials topics
      total += n;
      have += owned.get(topic)?.size ?? 0;
    }
    return { whole: total > 0 && have === total, owned: have, total };
  }

  /** The members' group counters, summed (EngineHandle.group). */
  groupFigures(): { members: number; rebalances: number; fenced: number; skippedFlushes: number; foreignFlushes: number } {
    const out = { members: this.#members.length, rebalances: 0, fenced: 0, skippedFlushes: 0, foreignFlushes: 0 };
    for (const m of this.#members) {
      const c = m.figures?.counters;
      if (!c) continue;
      out.rebalances += c.rebalances;
      out.fenced += c.fenced;
      out.skippedFlushes += c.skippedFlushes;
      out.foreignFlushes += c.foreignFlushes;
    }
    return out;
  }

  /**
   * The members' external lookup figures (EngineHandle.enrichment), per lookup: counts and the
   * events waiting summed; the breaker state is the most open member's (each member has its own
   * client, cache and breaker).
   */
  enrichment(): Record<string, EnrichmentFigures> {
    const order = { closed: 0, half_open: 1, open: 2 } as const;
    const out: Record<string, EnrichmentFigures> = {};
    for (const m of this.#members) {
      for (const [name, e] of Object.entries(m.figures?.enrichment ?? {})) {
        const t = out[name];
        out[name] = !t ? { ...e, fallbacks: { ...e.fallbacks } } : {
          cacheHits: t.cacheHits + e.cacheHits, answered: t.answered + e.answered, failed: t.failed + e.failed, opened: t.opened + e.opened,
          fallbacks: Object.fromEntries(FALLBACK_REASONS.map((r) => [r, t.fallbacks[r] + e.fallbacks[r]])) as Record<FallbackReason, number>,
          state: order[e.state] > order[t.state] ? e.state : t.state, waiting: t.waiting + e.waiting, windowFullSeconds: t.windowFullSeconds + e.windowFullSeconds,
        };
      }
    }
    return out;
  }

  /** A member's last checkpoint failure, if one's last scheduled checkpoint failed. */
  lastError(): Error | undefined {
    for (const m of this.#members) if (m.figures?.checkpointError) return new Error(m.figures.checkpointError);
    return undefined;
  }

  /** A misconfigured group a member found (members with another state directory), if any. */
  groupError(): string | undefined {
    for (const m of this.#members) if (m.figures?.groupError) return m.figures.groupError;
    return undefined;
  }

  /** The oldest of the members' last checkpoints (epoch ms; undefined until every member has one). */
  lastCheckpointAt(): number | undefined {
    const oldest = this.#members.reduce((min, m) => Math.min(min, m.figures?.lastCheckpointAt ?? 0), Number.POSITIVE_INFINITY);
    return oldest > 0 ? oldest : undefined;
  }

  /** The members' figures summed, for the server (the watermark per stream is the lowest member's). */
  view(): EngineView {
    const members = this.#members;
    return {
      stats() {
        const streams: Record<string, StreamStats> = {};
        const metrics: Record<string, MetricStats> = {};
        for (const m of members) {
          for (const [k, v] of Object.entries(m.figures?.stats.streams ?? {})) sum(streams[k] ??= { events: 0, accepted: 0, quarantined: 0, duplicates: 0, late: 0, misrouted: 0 }, v);
          for (const [k, v] of Object.entries(m.figures?.stats.metrics ?? {})) sum(metrics[k] ??= { rows: 0, updates: 0, late: 0, overflow: 0, partialsAfterClose: 0 }, v);
        }
        return { streams, metrics };
      },
      stateSize() {
        const out: Record<string, { groups: number; bytes: number }> = {};
        for (const m of members) for (const [k, v] of Object.entries(m.figures?.stateSize ?? {})) sum(out[k] ??= { groups: 0, bytes: 0 }, v);
        return out;
      },
      get streams() {
        const by = new Map<string, { watermarkMs: number; evicted: number }>();
        for (const m of members) {
          for (const s of m.figures?.streams ?? []) {
            const cur = by.get(s.name) ?? { watermarkMs: Number.POSITIVE_INFINITY, evicted: 0 };
            if (s.watermarkMs !== null) cur.watermarkMs = Math.min(cur.watermarkMs, s.watermarkMs);
            cur.evicted += s.evicted;
            by.set(s.name, cur);
          }
        }
        return [...by].map(([name, v]) => ({ stream: { name }, dedup: { evicted: v.evicted }, watermark: { watermarkMs: Number.isFinite(v.watermarkMs) ? v.watermarkMs : Number.NEGATIVE_INFINITY } }));
      },
    };
  }
}
