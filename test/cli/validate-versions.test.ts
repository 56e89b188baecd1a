/**
 * `pitwall validate` over a stream with catalog `versions` shows, per metric, the fields it
 * reads and where each version carries them; `pitwall replay` of mixed-version NDJSON counts
 * the unlisted and missing versions as quarantined. Real processes over the compiled dist/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';

const BIN = join(process.cwd(), 'bin', 'pitwall.js');
const PARITY = join(process.cwd(), 'test', 'plan', 'fixtures', 'parity');

function pitwall(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pitwall validate and replay with catalog versions', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-validate-versions-'));
  const queries = join(dir, 'queries');
  mkdirSync(queries);
  writeFileSync(join(queries, 'by_r.sql'), "CREATE VIEW by_r AS SELECT window_start, r, SUM(amt) AS total, COUNT(*) FILTER (WHERE u IS NOT NULL) AS with_u FROM TUMBLE(ev, ts, INTERVAL '1 minute') GROUP BY window_start, r;\n");
  writeFileSync(join(queries, 'plain.sql'), "CREATE VIEW plain AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 minute') WHERE n > 0 GROUP BY window_start;\n");
  const catalog = join(PARITY, 'versioned');

  it('validate lists, per version, where each field a metric reads comes from', () => {
    const r = pitwall(['validate', '--catalog', catalog, '--queries', queries]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.replace(/hash=[0-9a-f]+/, 'hash=…'));
    expect(lines).toEqual([
      'ok: 1 catalog entries (1 streams), 2 metrics',
      `  ${'by_r'.padEnd(28)} ${'ev'.padEnd(14)} emit=${'on_window_close'.padEnd(16)} tier=${'standard'.padEnd(9)} hash=…`,
      '    reads ts, r, amt, u; by version (v):',
      '      1    all where declared',
      '      2    amt ← data.amount; u reads NULL; others where declared',
      '      3    r ← u; amt ← m.amt; u ← r; others where declared',
      `  ${'plain'.padEnd(28)} ${'ev'.padEnd(14)} emit=${'on_window_close'.padEnd(16)} tier=${'standard'.padEnd(9)} hash=…`,
      '    reads ts, n; by version (v):',
      '      1    all where declared',
      '      2    n ← data.n; others where declared',
      '      3    all where declared',
      '',
    ]);
  });

  it('replay of mixed-version NDJSON reads every listed version and quarantines the others with their reason', () => {
    const out = join(dir, 'out');
    const r = pitwall(['replay', '--catalog', catalog, '--queries', queries, '--input', `ev=${join(PARITY, 'versioned.ndjson')}`, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, '_summary.json'), 'utf8')) as { streams: Record<string, { accepted: number; quarantined: number }> };
    expect(summary.streams.ev).toMatchObject({ accepted: 4, quarantined: 3 });
    const rows = readFileSync(join(out, 'by_r.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => [x.r, x.total, x.with_u])).toEqual([['x', 8, 2], ['y', null, 0]]);
    const reasons = readFileSync(join(out, '_quarantine.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { reason: string }).reason);
    expect(reasons[1]).toMatch(/^payload has no version \('v' is missing\); stream 'ev' knows versions 1, 2, 3 \(.*ev\.yaml\)/);
  });
});
