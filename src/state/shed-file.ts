/**
 * The shed log on disk: `<state-dir>/shed-intervals.json`, replaced atomically on every change and
 * before every checkpoint (so the event times skipped up to a checkpoint survive a crash), and
 * read at start. Bounded by the log itself (hot/shed-log.ts: at most 1,000 intervals per metric).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionError } from '../errors.js';
import type { ShedLog, ShedLogJson } from '../hot/shed-log.js';
import { writeFileAtomically } from '../util/atomic-file.js';

export const SHED_FILE = 'shed-intervals.json';

/** Reads the stored log into `log` (when there is one) and makes every later change write it. Returns the file's path. */
export function attachShedFile(stateDir: string, log: ShedLog): string {
  const path = join(stateDir, SHED_FILE);
  const stored = readShedFile(stateDir);
  if (stored) log.load(stored);
  log.onChange = () => { writeShedFile(path, log); };
  return path;
}

/** The stored log of a state directory, if any. Throws PW_SHED_FILE for a file that cannot be read. */
export function readShedFile(stateDir: string): ShedLogJson | undefined {
  const path = join(stateDir, SHED_FILE);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try { json = JSON.parse(readFileSync(path, 'utf8')); } catch (err) {
    throw new ExecutionError('PW_SHED_FILE', `${path} cannot be read (${(err as Error).message}); restore it from a backup, or remove it to forget the shed intervals (their windows stay incomplete until recomputed)`);
  }
  const j = json as Partial<ShedLogJson>;
  if (j.version !== 1 || !Array.isArray(j.intervals) || typeof j.seq !== 'number') {
    throw new ExecutionError('PW_SHED_FILE', `${path} is not a shed log of this version of pitwall (version ${String(j.version)}); remove it to forget the shed intervals`);
  }
  return j as ShedLogJson;
}

export function writeShedFile(path: string, log: ShedLog): void {
  writeFileAtomically(path, `${JSON.stringify(log.toJSON())}\n`);
}
