/**
 * TUMBLE and HOP aggregation. State is a map from window start to the window's group table
 * (group-table.ts); a window `[start, end)` is closed, emitted and freed when the watermark
 * reaches `end + allowed_lateness`. An event for an already closed window is a late pair (late
 * lane), never folded and never silently dropped. Memory: open windows only, at most
 * `maxGroups` groups in all; an event needing a new group past the cap is counted as overflow.
 */
import type { ValidEvent } from '../catalog/index.js';
import type { MetricPlan } from '../plan/index.js';
import { WindowFinalizer, type GroupResult } from './finalize.js';
import type { GroupFolder } from './group-folder.js';
import { newTable, type GroupTable } from './group-table.js';
import type { EventOrigin, OperatorLimits, OperatorOutput, WindowOperator } from './operator-types.js';

function* resultsOf(table: GroupTable, slots?: Iterable<number>): Generator<GroupResult> {
  if (slots) { for (const s of slots) yield { keys: table.keys[s] ?? [], aggs: table.results(s) }; return; }
  for (let s = 0; s < table.size; s++) yield { keys: table.keys[s] ?? [], aggs: table.results(s) };
}

export class TumbleHopOperator implements WindowOperator {
  readonly #folder: GroupFolder;
  readonly #finalizer: WindowFinalizer;
  readonly #out: OperatorOutput;
  readonly #limits: OperatorLimits;
  readonly #sizeMs: number;
  readonly #slideMs: number;
  readonly #latenessMs: number;
  readonly #onUpdate: boolean;
  /** Rows must be recomputed per window (top-N) or may disappear (HAVING) on update. */
  readonly #trackEmitted: boolean;
  readonly #windows = new Map<number, GroupTable>();
  readonly #dirty = new Map<number, Set<number>>();
  readonly #emitted = new Map<number, Set<string>>();
  #groups = 0;
  #nextCloseAt = Number.POSITIVE_INFINITY;

  constructor(plan: MetricPlan, folder: GroupFolder, out: OperatorOutput, limits: OperatorLimits) {
    const w = plan.window;
    if (w.type === 'session') throw new Error('TumbleHopOperator cannot run SESSION windows');
    this.#folder = folder;
    this.#finalizer = new WindowFinalizer(plan);
    this.#out = out;
    this.#limits = limits;
    this.#sizeMs = w.sizeMs;
    this.#slideMs = w.type === 'hop' ? w.slideMs : w.sizeMs;
    this.#latenessMs = plan.stream.allowedLatenessMs;
    this.#onUpdate = plan.emit === 'on_update';
    this.#trackEmitted = plan.root.kind === 'TopNNode' || (plan.root.kind === 'ProjectNode' && plan.root.input.kind === 'HavingNode');
  }

  process(event: ValidEvent, origin: EventOrigin, watermarkMs: number): void {
    const t = event.eventTimeMs;
    const slide = this.#slideMs;
    const last = t - (((t % slide) + slide) % slide);
    const first = last - this.#sizeMs + slide;
    let id: string | undefined;
    for (let ws = last; ws >= first; ws -= slide) {
      const we = ws + this.#sizeMs;
      if (we + this.#latenessMs <= watermarkMs) {
        this.#out.late({ event, origin, windowStart: ws, windowEnd: we, watermarkMs });
        continue;
      }
      id ??= this.#folder.keyOf(event.payload);
      let table = this.#windows.get(ws);
      if (!table) {
        table = newTable(this.#folder);
        this.#windows.set(ws, table);
        if (we + this.#latenessMs < this.#nextCloseAt) this.#nextCloseAt = we + this.#latenessMs;
      }
      let slot = table.index.get(id);
      if (slot === undefined) {
        if (this.#groups >= this.#limits.maxGroups) {
          this.#out.overflow(event, origin);
          continue;
        }
        slot = table.add(id, this.#folder.lastKey);
        this.#groups++;
      }
      table.fold(slot, event.payload);
      if (this.#onUpdate) {
        let d = this.#dirty.get(ws);
        if (!d) { d = new Set(); this.#dirty.set(ws, d); }
        d.add(slot);
      }
    }
  }

  onWatermark(watermarkMs: number): void {
    if (watermarkMs < this.#nextCloseAt) return;
    const closing = [...this.#windows.keys()].filter((ws) => ws + this.#sizeMs + this.#latenessMs <= watermarkMs).sort((a, b) => a - b);
    for (const ws of closing) this.#close(ws);
    let next = Number.POSITIVE_INFINITY;
    for (const ws of this.#windows.keys()) next = Math.min(next, ws + this.#sizeMs + this.#latenessMs);
    this.#nextCloseAt = next;
  }

  #close(ws: number): void {
    const table = this.#windows.get(ws) as GroupTable;
    const rows = this.#finalizer.rows(ws, ws + this.#sizeMs, resultsOf(table));
    const emitted = this.#emitted.get(ws);
    const kept = new Set<string>();
    for (const r of rows) {
      this.#out.emit({ kind: 'upsert', windowStart: ws, id: r.id, values: r.values, final: true });
      kept.add(r.id);
    }
    if (emitted) for (const id of emitted) if (!kept.has(id)) this.#out.emit({ kind: 'delete', windowStart: ws, id, values: undefined, final: true });
    this.#groups -= table.size;
    this.#windows.delete(ws);
    this.#dirty.delete(ws);
    this.#emitted.delete(ws);
  }

  flushUpdates(): void {
    if (!this.#onUpdate || this.#dirty.size === 0) return;
    for (const [ws, slots] of this.#dirty) {
      const table = this.#windows.get(ws);
      if (!table) continue;
      const we = ws + this.#sizeMs;
      if (!this.#trackEmitted) {
        for (const r of this.#finalizer.rows(ws, we, resultsOf(table, slots))) this.#out.emit({ kind: 'upsert', windowStart: ws, id: r.id, values: r.values, final: false });
        continue;
      }
      // HAVING or top-N: recompute the window, upsert its rows, delete rows that dropped out.
      const rows = this.#finalizer.rows(ws, we, resultsOf(table));
      const prior = this.#emitted.get(ws) ?? new Set<string>();
      const now = new Set<string>();
      for (const r of rows) {
        now.add(r.id);
        this.#out.emit({ kind: 'upsert', windowStart: ws, id: r.id, values: r.values, final: false });
      }
      for (const id of prior) if (!now.has(id)) this.#out.emit({ kind: 'delete', windowStart: ws, id, values: undefined, final: false });
      this.#emitted.set(ws, now);
    }
    this.#dirty.clear();
  }

  snapshot(): unknown {
    return {
      windows: [...this.#windows].map(([ws, table]) => [ws, [...table.index].map(([id, slot]) => [id, table.snapshot(slot)])]),
      emitted: [...this.#emitted].map(([ws, ids]) => [ws, [...ids]]),
    };
  }

  restore(json: unknown): void {
    const s = json as { windows: [number, [string, unknown][]][]; emitted: [number, string[]][] };
    this.#windows.clear();
    this.#emitted.clear();
    this.#dirty.clear();
    this.#groups = 0;
    this.#nextCloseAt = Number.POSITIVE_INFINITY;
    for (const [ws, groups] of s.windows) {
      const table = newTable(this.#folder);
      for (const [id, g] of groups) table.restore(id, g);
      this.#windows.set(ws, table);
      this.#groups += groups.length;
      this.#nextCloseAt = Math.min(this.#nextCloseAt, ws + this.#sizeMs + this.#latenessMs);
    }
    for (const [ws, ids] of s.emitted) this.#emitted.set(ws, new Set(ids));
  }

  stateSize(): { groups: number; bytes: number } {
    let bytes = 0;
    for (const t of this.#windows.values()) bytes += t.bytes();
    return { groups: this.#groups, bytes };
  }
}
