/** The shed log in the state directory: written on every change, read back at start (open intervals stay shed), refused when unreadable. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/hot/engine.js';
import { SHED_FILE, attachShedFile } from '../../src/state/shed-file.js';
import { ORDERS_YAML, catalogOf, plan } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML);
const metric = plan(`-- tier: batch
CREATE VIEW n_1m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start`, catalog);
const rec = (offset: number, sec: number): { partition: number; offset: number; value: string } =>
  ({ partition: 0, offset, value: JSON.stringify({ eventId: `e${offset}`, eventTime: new Date(Date.UTC(2024, 2, 15, 19, 0, sec)).toISOString() }) });

describe('shed-intervals.json', () => {
  it('survives a restart: the metric starts shed again and carries on from the event times skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-shedfile-'));
    const a = new Engine(catalog, [metric], { result: () => undefined });
    attachShedFile(dir, a.shedLog);
    a.process('orders', [rec(0, 10), rec(1, 20)], 0);
    a.setShed('n_1m', true, 1_000);
    a.process('orders', [rec(2, 130), rec(3, 125)], 0);
    a.syncShedLog();
    a.shedLog.onChange?.();
    const stored = JSON.parse(readFileSync(join(dir, SHED_FILE), 'utf8')) as { intervals: { toMs: number | null; skipped?: unknown }[] };
    expect(stored.intervals).toHaveLength(1);
    expect(stored.intervals[0]).toMatchObject({ toMs: null, skipped: { minMs: Date.UTC(2024, 2, 15, 19, 2, 5), maxMs: Date.UTC(2024, 2, 15, 19, 2, 10) } });

    const b = new Engine(catalog, [metric], { result: () => undefined });
    attachShedFile(dir, b.shedLog);
    b.resumeShedLog();
    expect(b.shedStats().n_1m).toMatchObject({ shed: true, since: new Date(1_000).toISOString() });
    b.process('orders', [rec(4, 200)], 0);
    b.setShed('n_1m', false, 2_000);
    const [closed] = b.shedLog.intervals('n_1m');
    // From the earliest of its start before the restart (watermark 19:00:15) and what was skipped; to one past 19:03:20.
    expect(closed).toMatchObject({ fromMs: Date.UTC(2024, 2, 15, 19, 0, 15), toMs: Date.UTC(2024, 2, 15, 19, 3, 20) + 1 });
    const reread = new Engine(catalog, [metric], { result: () => undefined });
    attachShedFile(dir, reread.shedLog);
    expect(reread.shedLog.pending()).toHaveLength(1);
  });

  it('an unreadable file is PW_SHED_FILE, with what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-shedfile-'));
    writeFileSync(join(dir, SHED_FILE), '{"version":7}');
    const e = new Engine(catalog, [metric], { result: () => undefined });
    expect(() => attachShedFile(dir, e.shedLog)).toThrow(expect.objectContaining({ code: 'PW_SHED_FILE', message: expect.stringContaining('remove it') }) as Error);
  });
});
