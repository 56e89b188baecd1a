/**
 * How many windows of a TUMBLE/HOP/CUMULATE spec overlap an event-time range: windows
 * `[start, end)` with `end > fromMs && start < toMs` (the shed-interval rule, hot/shed-log.ts).
 * SESSION windows depend on the data: undefined.
 */
import type { WindowSpec } from '../plan/index.js';

export function windowSlots(w: WindowSpec, fromMs: number, toMs: number): number | undefined {
  if (w.type === 'session') return undefined;
  const offset = w.offsetMs ?? 0;
  if (w.type === 'cumulate') {
    // Periods [p, p + size) overlapping; in each, the windows ending after fromMs (all start at p < toMs).
    const per = w.sizeMs / w.stepMs;
    let count = 0;
    const first = Math.floor((fromMs - offset) / w.sizeMs);
    const last = Math.ceil((toMs - offset) / w.sizeMs) - 1;
    for (let k = first; k <= last; k++) {
      const p = offset + k * w.sizeMs;
      count += fromMs < p ? per : Math.max(0, per - Math.floor((fromMs - p) / w.stepMs));
    }
    return count;
  }
  const slide = w.type === 'hop' ? w.slideMs : w.sizeMs;
  const kMin = Math.floor((fromMs - offset - w.sizeMs) / slide) + 1;
  const kMax = Math.ceil((toMs - offset) / slide) - 1;
  return Math.max(0, kMax - kMin + 1);
}
