/**
 * TUMBLE, HOP and CUMULATE aggregation. State is a map from window key to the window's group
 * table (group-table.ts); the key is the window start for TUMBLE and HOP and the window end for
 * CUMULATE (whose windows of one period share their start). A window `[start, end)` is closed,
 * emitted and freed when the watermark reaches `end + allowed_lateness`, so a CUMULATE period's
 * short windows close (and emit) before its long ones. An event for an already closed window is
 * a late pair (late lane), never folded and never silently dropped; the event still folds into
 * its windows that are open (HOP, CUMULATE). Memory: open windows only, at most `maxGroups`
 * groups in all; an event needing a new group past the cap is counted as overflow. Closing: one
 * timer per open window in a queue keyed by its close time (end + allowed_lateness), so a
 * watermark step costs O(windows closed · log open windows).
 *
 * Checkpoints (when tracking): each window's table marks the slots it changes; a capture copies
 * those slots and lists the windows closed since, so a checkpoint writes O(changes), not the
 * whole state (store layout: state/layout.ts, `groups` and `emitted`).
 */
import type { ValidEvent } from '../catalog/index.js';
import type { MetricPlan } from '../plan/index.js';
import { WindowFinalizer, type GroupResult } from './finalize.js';
import type { GroupFolder } from './group-folder.js';
import { newTable, type GroupTable } from './group-table.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { StateOp, StateReader } from '../state/layout.js';
import { unpackStored } from '../state/lmdb-env.js';
import type { Val } from './eval/compile-expr.js';
import type { EventOrigin, OperatorLimits, OperatorOutput, PartialGroup, PartialWindow, WindowOperator } from './operator-types.js';
import { TimerQueue } from './timer-queue.js';

function* resultsOf(table: GroupTable, slots?: Iterable<number>): Generator<GroupResult> {
  if (slots) { for (const s of slots) yield { keys: table.keys[s] ?? [], aggs: table.results(s) }; return; }
  for (let s = 0; s < table.size; s++) yield { keys: table.keys[s] ?? [], aggs: table.results(s) };
}

/** The start of the period of length `periodMs` holding `t`, periods starting at offset + k·period (ms). */
function periodStart(t: number, periodMs: number, offsetMs: number): number {
  return t - ((((t - offsetMs) % periodMs) + periodMs) % periodMs);
}

/** Most groups in one store operation of a checkpoint. */
const GROUPS_PER_OP = 1024;

export class TumbleHopOperator implements WindowOperator {
  readonly #folder: GroupFolder;
  readonly #finalizer: WindowFinalizer;
  readonly #out: OperatorOutput;
  readonly #limits: OperatorLimits;
  readonly #sizeMs: number;
  /** HOP's slide, CUMULATE's step, TUMBLE's size (ms). */
  readonly #slideMs: number;
  /** Windows (CUMULATE periods) start at offset + k·slide (k·size) (ms). */
  readonly #offsetMs: number;
  /** CUMULATE: windows are keyed by their end, the start is the period's. */
  readonly #cumulate: boolean;
  readonly #latenessMs: number;
  readonly #onUpdate: boolean;
  /** Rows must be recomputed per window (top-N) or may disappear (HAVING) on update. */
  readonly #trackEmitted: boolean;
  /** Open windows by key (start; end for CUMULATE). */
  readonly #windows = new Map<number, GroupTable>();
  readonly #dirty = new Map<number, Set<number>>();
  readonly #emitted = new Map<number, Set<string>>();
  #groups = 0;
  /** Open windows by close time (end + allowed lateness). */
  readonly #closing = new TimerQueue<number>();
  #tracking = false;
  /** Windows with changed groups since the last capture. */
  readonly #changedWs = new Set<number>();
  /** Windows closed since the last capture (their stored groups are deleted). */
  #closedWs: number[] = [];
  /** Windows whose emitted-row set changed since the last capture. */
  readonly #emittedWs = new Set<number>();

  constructor(plan: MetricPlan, folder: GroupFolder, out: OperatorOutput, limits: OperatorLimits) {
    const w = plan.window;
    if (w.type === 'session') throw new Error('TumbleHopOperator cannot run SESSION windows');
    this.#cumulate = w.type === 'cumulate';
    this.#folder = folder;
    this.#finalizer = new WindowFinalizer(plan);
    this.#out = out;
    this.#limits = limits;
    this.#sizeMs = w.sizeMs;
    this.#slideMs = w.type === 'hop' ? w.slideMs : w.type === 'cumulate' ? w.stepMs : w.sizeMs;
    this.#offsetMs = w.offsetMs ?? 0;
    this.#latenessMs = plan.stream.allowedLatenessMs;
    this.#onUpdate = plan.emit === 'on_update';
    this.#trackEmitted = plan.root.kind === 'TopNNode' || (plan.root.kind === 'ProjectNode' && plan.root.input.kind === 'HavingNode');
  }

  process(event: ValidEvent, origin: EventOrigin, watermarkMs: number): void {
    const t = event.eventTimeMs;
    const slide = this.#slideMs;
    // Windows from the longest-lived down: HOP's start steps back by the slide (size/slide
    // windows); CUMULATE's start is the period's and its end steps back by the step, down to the
    // first end after t.
    let ws: number;
    let n: number;
    let dStart: number;
    if (this.#cumulate) {
      ws = periodStart(t, this.#sizeMs, this.#offsetMs);
      n = (this.#sizeMs - (t - ws - ((t - ws) % slide))) / slide;
      dStart = 0;
    } else {
      ws = periodStart(t, slide, this.#offsetMs);
      n = this.#sizeMs / slide;
      dStart = slide;
    }
    let we = ws + this.#sizeMs;
    let id: string | undefined;
    for (let i = 0; i < n; i++, ws -= dStart, we -= slide) {
      if (we + this.#latenessMs <= watermarkMs) {
        this.#out.late({ event, origin, windowStart: ws, windowEnd: we, watermarkMs });
        continue;
      }
      id ??= this.#folder.keyOf(event.payload);
      const wk = this.#cumulate ? we : ws;
      const table = this.#table(wk);
      const slot = this.#slot(table, id, this.#folder.lastKey);
      if (slot === undefined) {
        this.#out.overflow(event, origin);
        continue;
      }
      table.fold(slot, event.payload);
      if (this.#onUpdate) this.#dirtied(wk, slot);
    }
  }

  /** Start of the window keyed `wk` (ms). */
  #startOf(wk: number): number {
    return this.#cumulate ? periodStart(wk - this.#slideMs, this.#sizeMs, this.#offsetMs) : wk;
  }

  /** End of the window keyed `wk` (ms). */
  #endOf(wk: number): number {
    return this.#cumulate ? wk : wk + this.#sizeMs;
  }

  /** The table of the window keyed `ws`, opened with its close timer if new; marked changed when tracking. */
  #table(ws: number): GroupTable {
    let table = this.#windows.get(ws);
    if (!table) {
      table = newTable(this.#folder);
      if (this.#tracking) table.track();
      this.#windows.set(ws, table);
      this.#closing.push(this.#endOf(ws) + this.#latenessMs, ws);
    }
    if (this.#tracking && !table.hasChanges) this.#changedWs.add(ws);
    return table;
  }

  /** The slot of group `id` in `table`, added with key values `keys` if new; undefined at the open-group cap. */
  #slot(table: GroupTable, id: string, keys: readonly Val[]): number | undefined {
    const slot = table.index.get(id);
    if (slot !== undefined) return slot;
    if (this.#groups >= this.#limits.maxGroups) return undefined;
    this.#groups++;
    return table.add(id, keys);
  }

  /** on_update: the group in `slot` of window `ws` changed since the last flush. */
  #dirtied(ws: number, slot: number): void {
    let d = this.#dirty.get(ws);
    if (!d) { d = new Set(); this.#dirty.set(ws, d); }
    d.add(slot);
  }

  /**
   * Phase one of two-phase aggregation (hot/two-phase.ts): hands over every open group as a
   * partial (key values and accumulator snapshots) under its window's key (start; end for
   * CUMULATE) and forgets them, without emitting. An operator used this way is never given a
   * watermark; `process` still sends events for windows past the watermark it is passed to the
   * late lane.
   */
  drain(): PartialWindow[] {
    const out: PartialWindow[] = [];
    for (const [ws, table] of [...this.#windows].sort((a, b) => a[0] - b[0])) {
      const groups: PartialGroup[] = [];
      for (const [id, slot] of table.index.entries()) {
        const [keys, accs] = table.snapshot(slot) as [Val[], unknown[]];
        groups.push({ id, keys, accs });
      }
      out.push({ ws, groups });
    }
    this.#windows.clear();
    this.#dirty.clear();
    this.#closing.clear();
    this.#groups = 0;
    return out;
  }

  /**
   * Phase two: merges a partial of group `id` in the window keyed `ws` (see {@link drain}). Merges
   * nothing and says why when the window already closed at `watermarkMs` (`closed`: the
   * partials protocol rules that out; the caller counts it) or the open-group cap is reached
   * (`overflow`).
   */
  mergePartial(ws: number, group: PartialGroup, watermarkMs: number): 'merged' | 'closed' | 'overflow' {
    if (this.#endOf(ws) + this.#latenessMs <= watermarkMs) return 'closed';
    const table = this.#table(ws);
    const slot = this.#slot(table, group.id, group.keys);
    if (slot === undefined) return 'overflow';
    table.mergeSnapshot(slot, group.accs);
    if (this.#onUpdate) this.#dirtied(ws, slot);
    return 'merged';
  }

  onWatermark(watermarkMs: number): void {
    if (this.#closing.peekTime() > watermarkMs) return;
    // Timers pop in close-time order, which is window-end order.
    for (const ws of this.#closing.popDue(watermarkMs)) if (this.#windows.has(ws)) this.#close(ws);
  }

  #close(ws: number): void {
    const table = this.#windows.get(ws) as GroupTable;
    const start = this.#startOf(ws);
    const rows = this.#finalizer.rows(start, this.#endOf(ws), resultsOf(table));
    const emitted = this.#emitted.get(ws);
    const kept = new Set<string>();
    for (const r of rows) {
      this.#out.emit({ kind: 'upsert', windowStart: start, id: r.id, values: r.values, final: true });
      kept.add(r.id);
    }
    if (emitted) for (const id of emitted) if (!kept.has(id)) this.#out.emit({ kind: 'delete', windowStart: start, id, values: undefined, final: true });
    this.#groups -= table.size;
    this.#windows.delete(ws);
    this.#dirty.delete(ws);
    this.#emitted.delete(ws);
    if (this.#tracking) {
      this.#changedWs.delete(ws);
      this.#emittedWs.delete(ws);
      this.#closedWs.push(ws);
    }
  }

  /**
   * The rows every open window would emit now (provisional: they change until the window
   * closes), or undefined when more than `maxGroups` groups are open (too costly to read often).
   */
  openRows(maxGroups: number): { windowStart: number; id: string; values: Val[] }[] | undefined {
    if (this.#groups > maxGroups) return undefined;
    const out: { windowStart: number; id: string; values: Val[] }[] = [];
    for (const [wk, table] of this.#windows) {
      const ws = this.#startOf(wk);
      for (const r of this.#finalizer.rows(ws, this.#endOf(wk), resultsOf(table))) out.push({ windowStart: ws, id: r.id, values: r.values });
    }
    return out;
  }

  flushUpdates(): void {
    if (!this.#onUpdate || this.#dirty.size === 0) return;
    for (const [wk, slots] of this.#dirty) {
      const table = this.#windows.get(wk);
      if (!table) continue;
      const ws = this.#startOf(wk);
      const we = this.#endOf(wk);
      if (!this.#trackEmitted) {
        for (const r of this.#finalizer.rows(ws, we, resultsOf(table, slots))) this.#out.emit({ kind: 'upsert', windowStart: ws, id: r.id, values: r.values, final: false });
        continue;
      }
      // HAVING or top-N: recompute the window, upsert its rows, delete rows that dropped out.
      const rows = this.#finalizer.rows(ws, we, resultsOf(table));
      const prior = this.#emitted.get(wk) ?? new Set<string>();
      const now = new Set<string>();
      for (const r of rows) {
        now.add(r.id);
        this.#out.emit({ kind: 'upsert', windowStart: ws, id: r.id, values: r.values, final: false });
      }
      for (const id of prior) if (!now.has(id)) this.#out.emit({ kind: 'delete', windowStart: ws, id, values: undefined, final: false });
      this.#emitted.set(wk, now);
      if (this.#tracking) this.#emittedWs.add(wk);
    }
    this.#dirty.clear();
  }

  snapshot(): unknown {
    return {
      windows: [...this.#windows].map(([ws, table]) => [ws, table.index.entries().map(([id, slot]) => [id, table.snapshot(slot)])]),
      emitted: [...this.#emitted].map(([ws, ids]) => [ws, [...ids]]),
    };
  }

  restore(json: unknown): void {
    const s = json as { windows: [number, [string, unknown][]][]; emitted: [number, string[]][] };
    this.#windows.clear();
    this.#emitted.clear();
    this.#dirty.clear();
    this.#groups = 0;
    this.#closing.clear();
    for (const [ws, groups] of s.windows) {
      const table = newTable(this.#folder);
      if (this.#tracking) { table.track(); this.#changedWs.add(ws); }
      for (const [id, g] of groups) table.restore(id, g);
      this.#windows.set(ws, table);
      this.#groups += groups.length;
      this.#closing.push(this.#endOf(ws) + this.#latenessMs, ws);
    }
    for (const [ws, ids] of s.emitted) {
      this.#emitted.set(ws, new Set(ids));
      if (this.#tracking) this.#emittedWs.add(ws);
    }
  }

  track(): void {
    if (this.#tracking) return;
    this.#tracking = true;
    for (const [ws, table] of this.#windows) { table.track(); if (table.hasChanges) this.#changedWs.add(ws); }
    for (const ws of this.#emitted.keys()) this.#emittedWs.add(ws);
  }

  captureChanges(metric: string): Iterable<StateOp> {
    const closed = this.#closedWs;
    this.#closedWs = [];
    const tables: { ws: number; keys: readonly Val[][]; c: ReturnType<GroupTable['takeChanges']> }[] = [];
    for (const ws of [...this.#changedWs].sort((a, b) => a - b)) {
      const table = this.#windows.get(ws);
      if (table) tables.push({ ws, keys: table.keys, c: table.takeChanges() });
    }
    this.#changedWs.clear();
    const emitted = [...this.#emittedWs].map((ws): [number, string[]] => [ws, [...(this.#emitted.get(ws) ?? [])]]);
    this.#emittedWs.clear();
    return (function* (): Generator<StateOp> {
      for (const ws of closed) {
        yield { op: 'clear', db: 'groups', prefix: [metric, ws] };
        yield { op: 'del', db: 'emitted', key: [metric, ws] };
      }
      for (const { ws, keys, c } of tables) {
        const w = c.width;
        for (let i = 0; i < c.slots.length; i += GROUPS_PER_OP) {
          const j = Math.min(c.slots.length, i + GROUPS_PER_OP);
          const slots = c.slots.slice(i, j);
          const newKeys: (readonly Val[] | null)[] = [];
          for (const slot of slots) newKeys.push(slot >= c.newFrom ? (keys[slot] as Val[]) : null);
          yield { op: 'groups', metric, windowStart: ws, slots, width: w, nums: c.nums.slice(i * w, j * w), keys: newKeys, objs: c.objs ? c.objs.slice(i, j) : null };
        }
      }
      for (const [ws, ids] of emitted) yield { op: 'put', db: 'emitted', key: [metric, ws], value: ids };
    })();
  }

  async restoreStored(metric: string, reader: StateReader): Promise<void> {
    this.restore({ windows: [], emitted: [] });
    let table: GroupTable | undefined;
    let tableWs = Number.NaN;
    const add = (ws: number, slot: number, keys: Val[], nums: ArrayLike<number>, objs: readonly unknown[] | null): void => {
      if (ws !== tableWs) {
        tableWs = ws;
        table = newTable(this.#folder);
        if (this.#tracking) table.track();
        this.#windows.set(ws, table);
        this.#closing.push(this.#endOf(ws) + this.#latenessMs, ws);
      }
      (table as GroupTable).restoreStored(slot, keys, nums, objs);
      this.#groups++;
    };
    if (reader.groupChunks) {
      // The store's thread reads and flattens chunks while this one rebuilds the tables.
      for await (const c of reader.groupChunks(metric)) {
        for (let i = 0; i < c.slots.length; i++) {
          const keys = unpackStored(c.keyBytes, i === 0 ? 0 : c.keyEnds[i - 1] as number, c.keyEnds[i] as number) as Val[];
          const nums = c.nums.subarray(i === 0 ? 0 : c.numEnds[i - 1] as number, c.numEnds[i] as number);
          const o0 = i === 0 ? 0 : c.objEnds[i - 1] as number;
          const o1 = c.objEnds[i] as number;
          add(c.windowStarts[i] as number, c.slots[i] as number, keys, nums, o1 > o0 ? unpackStored(c.objBytes, o0, o1) as unknown[] : null);
        }
        await yieldToLoop();
      }
    } else {
      let n = 0;
      for (const { key, keys, nums, objs } of reader.scanGroups([metric])) {
        add(key[1] as number, key[2] as number, keys as Val[], nums, objs);
        if (++n % 50_000 === 0) await yieldToLoop();
      }
    }
    for (const { key, value } of reader.scan('emitted', [metric])) this.#emitted.set(key[1] as number, new Set(value as string[]));
  }

  stateSize(): { groups: number; bytes: number } {
    let bytes = 0;
    for (const t of this.#windows.values()) bytes += t.bytes();
    return { groups: this.#groups, bytes };
  }
}
