/**
 * Lowers the scheduling priority of the calling thread only (Linux keeps a nice value per
 * thread; /proc/thread-self names this thread's id). pitwall's background threads (the
 * archive's segment writer, the state store's writer) run at nice +10 so that on a machine
 * with few cores the processing thread wins the CPU. Elsewhere, or when not allowed, nothing
 * changes and the thread runs at the process's priority.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export function lowerThreadPriority(niceness: number): void {
  if (!niceness) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid)) setPriority(tid, niceness);
  } catch {
    // Not Linux, or not allowed.
  }
}
