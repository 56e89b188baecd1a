/**
 * The archive manifest: one JSON line per complete segment (its lane, stream, topic, file,
 * rows and the offset range it holds per input partition), appended and fsynced only after
 * the segment was renamed into place. A crash leaves at worst a torn last line (ignored) or a
 * segment without a line (removed at open as an orphan), so what the manifest lists is exactly
 * what is archived, and `archivedUpTo` tells which offsets need no second copy.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';

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
}

export class Manifest {
  readonly root: string;
  readonly #path: string;
  entries: SegmentEntry[] = [];

  constructor(root: string) {
    this.root = root;
    this.#path = join(root, '_manifest.ndjson');
  }

  /** Reads the manifest's entries without touching any file (for readers of the archive). */
  static read(root: string): SegmentEntry[] {
    const path = join(root, '_manifest.ndjson');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').flatMap((line) => {
      if (!line.trim()) return [];
      try { return [JSON.parse(line) as SegmentEntry]; } catch { return []; }
    });
  }

  /** Reads the manifest, then removes temp files and segments the manifest does not list. */
  open(): { orphans: number; temps: number } {
    // A torn last line from a crash is skipped: its segment is then an orphan, removed below.
    this.entries = Manifest.read(this.root);
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
    appendFileSync(this.#path, `${JSON.stringify(entry)}\n`);
    const fd = openSync(this.#path, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    this.entries.push(entry);
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
    this.entries = this.entries.filter((e) => !removed.has(e.file));
    const tmp = `${this.#path}.tmp`;
    writeFileSync(tmp, this.entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    renameSync(tmp, this.#path);
  }
}
