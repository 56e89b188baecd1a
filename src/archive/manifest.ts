/**
 * The archive manifest: one JSON line per complete segment (its lane, stream, topic, file,
 * rows and the offset range it holds per input partition), appended and fsynced only after
 * the segment was renamed into place. Segments handed over together form a group whose lines
 * are appended in one write and count only when all are present. A crash leaves at worst a
 * torn last line (ignored), an incomplete group (dropped, its segments removed at open) or a
 * segment without a line (removed at open as an orphan), so what the manifest lists is exactly
 * what is archived, and `archivedUpTo` tells which offsets need no second copy.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomically } from '../util/atomic-file.js';

export type Lane = 'events' | 'quarantine' | 'late';

export interface SegmentEntry {
  readonly lane: Lane;
  readonly stream: string;
  readonly topic: string;
  /** Path relative to the archive root. */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  /** partition → [first offset, last offset] held by the segment. */
  readonly ranges: Record<string, [number, number]>;
  /** `date=YYYY-MM-DD/hour=HH` of the segment. */
  readonly hour: string;
  readonly writtenAt: string;
  /** The group of segments handed over together, and its size (absent: a group of one). */
  readonly group?: string;
  readonly groupSize?: number;
}

/** Entries without those of incomplete groups. */
function complete(entries: SegmentEntry[]): SegmentEntry[] {
  const seen = new Map<string, number>();
  for (const e of entries) if (e.group !== undefined) seen.set(e.group, (seen.get(e.group) ?? 0) + 1);
  return entries.filter((e) => e.group === undefined || (seen.get(e.group) ?? 0) >= (e.groupSize ?? 1));
}

export class Manifest {
  readonly root: string;
  readonly #path: string;
  entries: SegmentEntry[] = [];

  constructor(root: string) {
    this.root = root;
    this.#path = join(root, '_manifest.ndjson');
  }

  /** Reads the manifest's entries (complete groups only) without touching any file (for readers of the archive). */
  static read(root: string): SegmentEntry[] {
    return complete(Manifest.#lines(join(root, '_manifest.ndjson')));
  }

  static #lines(path: string): SegmentEntry[] {
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').flatMap((line) => {
      if (!line.trim()) return [];
      try { return [JSON.parse(line) as SegmentEntry]; } catch { return []; }
    });
  }

  /**
   * Reads the manifest, then removes temp files and segments the manifest does not list. A new
   * archive gets an empty manifest at once: an archive of an input with no events (a quiet
   * period) is still an archive, which recompute and report accept.
   */
  open(): { orphans: number; temps: number } {
    if (!existsSync(this.#path)) writeFileAtomically(this.#path, '');
    // A torn last line from a crash is skipped and an incomplete group dropped (the manifest is
    // rewritten without it): their segments are then orphans, removed below.
    const lines = Manifest.#lines(this.#path);
    this.entries = complete(lines);
    if (this.entries.length !== lines.length) this.#rewrite();
    const listed = new Set(this.entries.map((e) => e.file));
    let orphans = 0;
    let temps = 0;
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) { walk(p); continue; }
        if (name.startsWith('.tmp-')) { rmSync(p); temps++; continue; }
        if (name.endsWith('.parquet') && !listed.has(relative(this.root, p))) { rmSync(p); orphans++; }
      }
    };
    walk(this.root);
    return { orphans, temps };
  }

  /** Appends a segment's line (after its file is in place). */
  add(entry: SegmentEntry): void {
    this.addGroup([entry]);
  }

  /** Appends the lines of segments handed over together, in one write (after their files are in place). */
  addGroup(entries: readonly SegmentEntry[]): void {
    if (entries.length === 0) return;
    appendFileSync(this.#path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const fd = openSync(this.#path, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    for (const e of entries) this.entries.push(e);
  }

  /** The last archived offset per partition of a (lane, stream), or -1. */
  archivedUpTo(lane: Lane, stream: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const e of this.entries) {
      if (e.lane !== lane || e.stream !== stream) continue;
      for (const [p, [, last]] of Object.entries(e.ranges)) out.set(Number(p), Math.max(out.get(Number(p)) ?? -1, last));
    }
    return out;
  }

  /** Rewrites the manifest without `removed` (retention), atomically. */
  remove(removed: ReadonlySet<string>): void {
    // Retention removes whole hours, so a group may lose members: the rest stay counted.
    this.entries = this.entries.filter((e) => !removed.has(e.file)).map(({ group: _g, groupSize: _s, ...e }) => e);
    this.#rewrite();
  }

  #rewrite(): void {
    writeFileAtomically(this.#path, this.entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }
}
