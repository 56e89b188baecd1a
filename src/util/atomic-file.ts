/**
 * Atomic file replacement: the bytes go to `.tmp-<name>` beside the target, are fsynced, the
 * temp file is renamed over the target and the directory fsynced. A crash at any moment leaves
 * the old file or the new one, never a torn one (at worst a stale `.tmp-` file, overwritten by
 * the next write of the same target).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `bytes` to `path` atomically; returns the byte count. `beforeRename` runs with the
 * complete temp file not yet renamed (fault injection in tests).
 */
export function writeFileAtomically(path: string, bytes: Uint8Array | string, beforeRename?: () => void): number {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const body = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const tmp = join(dir, `.tmp-${basename(path)}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  beforeRename?.();
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
  return body.length;
}
