/**
 * The `pitwall` command in scripts (compiled dist/, a real process, its real exit status):
 * reconcile fails with 1 whenever it prints something unexplained, missing inputs are
 * PW_RECONCILE_INPUT, a quiet period (no events) still makes a valid archive, bad directory and
 * numeric options are coded errors at startup, and ids forgotten at the dedup cap are reported.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';

const BIN = join(process.cwd(), 'bin', 'pitwall.js');
const FIXTURES = join(process.cwd(), 'test', 'cli', 'fixtures');

interface Run { status: number | null; stdout: string; stderr: string }

function pitwall(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Expects a coded user error (never PW_INTERNAL) and a non-zero exit. */
function expectError(r: Run, code: string, ...mentions: string[]): void {
  expect(r.stderr, r.stdout).toContain(`error[${code}]`);
  expect(r.stderr).not.toContain('PW_INTERNAL');
  for (const m of mentions) expect(r.stderr).toContain(m);
  expect(r.status).toBe(1);
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-scripts-'));
});

describe('pitwall reconcile in scripts', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const defs = join(FIXTURES, 'redelivery');
  const catalog = join(defs, 'catalog');
  const queries = join(defs, 'queries');

  /**
   * dedup_ttl 1m < allowed_lateness 5m: event A, 8,200 later events (the first replay batch of
   * 8,192 ends and A's id expires), then a redelivered copy of A whose window is still open. The
   * hot path counts the copy, the cold path keeps first arrivals: one unexplained mismatch.
   */
  function redelivery(): string {
    const lines = [JSON.stringify({ id: 'A', ts: '2026-06-01T00:00:10Z', amt: 1 })];
    for (let i = 0; i < 8200; i++) lines.push(JSON.stringify({ id: `f${i}`, ts: '2026-06-01T00:02:00Z', amt: 0 }));
    lines.push(JSON.stringify({ id: 'A', ts: '2026-06-01T00:00:10Z', amt: 1 }));
    const file = join(dir, 'ev.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  it('exits 1 when it prints FAILED (table and json), and 0 when everything matches', () => {
    const input = redelivery();
    const hot = join(dir, 'rx-hot');
    const cold = join(dir, 'rx-cold');
    expect(pitwall(['replay', '--catalog', catalog, '--queries', queries, '--input', `ev=${input}`, '--out', hot]).status).toBe(0);
    expect(pitwall(['recompute', '--catalog', catalog, '--queries', queries, '--input', `ev=${input}`, '--out', cold]).status).toBe(0);
    const table = pitwall(['reconcile', '--catalog', catalog, '--queries', queries, '--hot', hot, '--cold', cold]);
    expect(table.stdout).toContain('UNEXPLAINED mismatch q');
    expect(table.stdout).toContain('FAILED: 1 unexplained difference(s)');
    expect(table.status).toBe(1);
    const json = pitwall(['reconcile', '--catalog', catalog, '--queries', queries, '--hot', hot, '--cold', cold, '--format', 'json']);
    expect((JSON.parse(json.stdout) as { unexplained: number }).unexplained).toBe(1);
    expect(json.status).toBe(1);

    // The same directories made to agree: a clean pass exits 0.
    const agreed = join(dir, 'rx-hot-agreed');
    cpSync(hot, agreed, { recursive: true });
    cpSync(join(cold, 'q.ndjson'), join(agreed, 'q.ndjson'));
    const ok = pitwall(['reconcile', '--catalog', catalog, '--queries', queries, '--hot', agreed, '--cold', cold]);
    expect(ok.stdout).toContain('ok: every difference is explained');
    expect(ok.status).toBe(0);
  });

  it('refuses missing result directories and a metric missing on both sides (PW_RECONCILE_INPUT)', () => {
    const gone = join(dir, 'does-not-exist');
    const r = pitwall(['reconcile', '--catalog', catalog, '--queries', queries, '--hot', join(gone, 'hot'), '--cold', join(gone, 'cold')]);
    expectError(r, 'PW_RECONCILE_INPUT', '--hot', join(gone, 'hot'));
    expect(r.stdout).not.toContain('ok');
    const hot = join(dir, 'empty-hot');
    const cold = join(dir, 'empty-cold');
    mkdirSync(hot);
    mkdirSync(cold);
    expectError(pitwall(['reconcile', '--catalog', catalog, '--queries', queries, '--hot', hot, '--cold', cold]), 'PW_RECONCILE_INPUT', join(hot, 'q.ndjson'), join(cold, 'q.ndjson'));
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expectError(pitwall(['reconcile', '--catalog', catalog, '--queries', queries, '--hot', hot, '--cold', file]), 'PW_RECONCILE_INPUT', '--cold', 'is a file');
  });
});

describe('a quiet period (no events)', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('makes a valid empty archive that recompute, reconcile and sql accept', () => {
    const env = { PITWALL_PII_KEY: 'k' };
    for (const content of ['', '\n  \n\n']) {
      const run = mkdtempSync(join(dir, 'quiet-'));
      const input = join(run, 'empty.ndjson');
      writeFileSync(input, content);
      const replay = pitwall(['replay', '--catalog', 'catalog', '--queries', 'queries', '--input', `orders=${input}`, '--out', join(run, 'hot'), '--archive', join(run, 'archive')], env);
      expect(replay.status, replay.stderr).toBe(0);
      expect(readFileSync(join(run, 'archive', '_manifest.ndjson'), 'utf8')).toBe('');
      const recompute = pitwall(['recompute', '--catalog', 'catalog', '--queries', 'queries', '--archive', join(run, 'archive'), '--out', join(run, 'cold')], env);
      expect(recompute.status, recompute.stderr).toBe(0);
      expect(readFileSync(join(run, 'cold', 'restaurant_orders_5m.ndjson'), 'utf8')).toBe('');
      const reconcile = pitwall(['reconcile', '--catalog', 'catalog', '--queries', 'queries', '--hot', join(run, 'hot'), '--cold', join(run, 'cold')], env);
      expect(reconcile.stdout).toContain('ok: every difference is explained');
      expect(reconcile.status).toBe(0);
      const sql = pitwall(['sql', 'SELECT count(*) AS n FROM orders', '--archive', join(run, 'archive'), '--format', 'json'], env);
      expect(sql.status, sql.stderr).toBe(0);
    }
  });
});

describe('directory options', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('pointing at a file or under a file are PW_BAD_OPTION naming option and path, at startup', () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    const input = join(dir, 'one.ndjson');
    writeFileSync(input, '{}\n');
    const replay = ['replay', '--catalog', 'catalog', '--queries', 'queries', '--input', `orders=${input}`];
    expectError(pitwall([...replay, '--out', file]), 'PW_BAD_OPTION', `--out '${file}' is a file`);
    expectError(pitwall([...replay, '--out', join(file, 'sub')]), 'PW_BAD_OPTION', '--out', 'cannot be created');
    expectError(pitwall([...replay, '--out', join(dir, 'h'), '--archive', file], { PITWALL_PII_KEY: 'k' }), 'PW_BAD_OPTION', `--archive '${file}' is a file`);
    expectError(pitwall(['recompute', '--catalog', 'catalog', '--queries', 'queries', '--input', `orders=${input}`, '--out', file]), 'PW_BAD_OPTION', '--out');
    expectError(pitwall(['recompute', '--catalog', 'catalog', '--queries', 'queries', '--archive', file, '--out', join(dir, 'c')]), 'PW_ARCHIVE_MISSING', '--archive', 'is a file');
    expectError(pitwall(['report', '--archive', join(dir, 'nope'), '--out', join(dir, 'r')]), 'PW_ARCHIVE_MISSING', '--archive');
    // `run` checks its directories before it talks to a broker (none listens on port 1).
    expectError(pitwall(['run', '--brokers', '127.0.0.1:1', '--state-dir', file, '--port', '0']), 'PW_BAD_OPTION', `--state-dir '${file}' is a file`);
    expectError(pitwall(['run', '--brokers', '127.0.0.1:1', '--state-dir', join(dir, 'st'), '--archive', join(file, 'a'), '--port', '0']), 'PW_BAD_OPTION', '--archive');
    expectError(pitwall(['validate', '--catalog', file]), 'PW_CATALOG_DIR', `--catalog '${file}' is a file`);
    expectError(pitwall(['validate', '--queries', file]), 'PW_QUERIES_DIR', `--queries '${file}' is a file`);
    expectError(pitwall(['gen', 'food-delivery', '--out', dir]), 'PW_BAD_OPTION', `--out '${dir}' is a directory`);
    expectError(pitwall(['gen', 'food-delivery', '--out', join(dir, 'no-dir', 'x.ndjson')]), 'PW_BAD_OPTION', 'does not exist');
    expect(existsSync(join(dir, 'st'))).toBe(true); // created at startup, before --archive was refused
  });
});

describe('numeric options', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('are PW_BAD_OPTION unless valid: --max-groups abc no longer disables the cap, -5 no longer drops every event', () => {
    const input = join(dir, 'n.ndjson');
    writeFileSync(input, '{}\n');
    const replay = ['replay', '--catalog', 'catalog', '--queries', 'queries', '--input', `orders=${input}`, '--out', join(dir, 'n-out')];
    for (const v of ['abc', '-5', '0', '2.5']) expectError(pitwall([...replay, '--max-groups', v]), 'PW_BAD_OPTION', `--max-groups '${v}'`);
    expectError(pitwall([...replay, '--max-dedup-ids', 'lots']), 'PW_BAD_OPTION', '--max-dedup-ids');
    expectError(pitwall(['run', '--max-groups', 'abc']), 'PW_BAD_OPTION', '--max-groups');
    expectError(pitwall(['run', '--checkpoint-interval', '0s']), 'PW_BAD_OPTION', '--checkpoint-interval');
    expectError(pitwall(['demo', '--rate', 'fast']), 'PW_BAD_OPTION', '--rate');
    expectError(pitwall(['gen', 'nexmark', '--seed', 'x']), 'PW_BAD_OPTION', '--seed');
    expectError(pitwall(['gen', 'nexmark', '--duplicates', '3']), 'PW_BAD_OPTION', '--duplicates');
  });

  it('refuse run options that contradict each other, before reaching a broker', () => {
    expectError(pitwall(['run', '--brokers', '127.0.0.1:1', '--single', '--state-sync', 'changelog', '--port', '0', '--state-dir', join(dir, 'st-single')]), 'PW_BAD_OPTION', '--state-sync changelog');
    expectError(pitwall(['run', '--brokers', '127.0.0.1:1', '--reconcile-every', '1m', '--port', '0', '--state-dir', join(dir, 'st-rec')]), 'PW_BAD_OPTION', '--reconcile-every needs --archive');
  });
});

describe('the dedup cap', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('reports forgotten ids in replay output and _summary.json, and reconcile names them as the cause', () => {
    const defs = join(FIXTURES, 'dedup-cap');
    const base = Date.UTC(2024, 2, 15, 19);
    const line = (i: number): string => JSON.stringify({ id: `i${i}`, ts: base + i * 1000, g: `g${i}` });
    const keys = join(dir, 'keys.ndjson');
    const again = join(dir, 'redeliver.ndjson');
    writeFileSync(keys, `${Array.from({ length: 50 }, (_, i) => line(i)).join('\n')}\n`);
    writeFileSync(again, `${Array.from({ length: 5 }, (_, i) => line(i)).join('\n')}\n`);
    const args = ['--catalog', join(defs, 'catalog'), '--queries', join(defs, 'queries'), '--input', `k=${keys}`, '--input', `k=${again}`];
    const hot = join(dir, 'cap-hot');
    const cold = join(dir, 'cap-cold');
    const replay = pitwall(['replay', ...args, '--out', hot, '--max-dedup-ids', '20']);
    expect(replay.status, replay.stderr).toBe(0);
    // 30 ids forgotten past the cap of 20; the 5 redelivered ones were among them, and evict 5 more.
    expect(replay.stdout).toContain('k: 55 events, 55 accepted, 0 quarantined, 0 duplicates, 0 late, 35 event ids forgotten at the dedup cap (raise --max-dedup-ids)');
    const summary = JSON.parse(readFileSync(join(hot, '_summary.json'), 'utf8')) as { streams: Record<string, { dedupEvicted: number }> };
    expect(summary.streams.k?.dedupEvicted).toBe(35);
    expect(pitwall(['recompute', ...args, '--out', cold]).status).toBe(0);
    const r = pitwall(['reconcile', '--catalog', join(defs, 'catalog'), '--queries', join(defs, 'queries'), '--hot', hot, '--cold', cold]);
    expect(r.stdout).toContain('possible cause: stream k: 35 event id(s) forgotten at the dedup cap (--max-dedup-ids)');
    expect(r.status).toBe(1);
    // With a cap large enough nothing is forgotten and both paths agree.
    const roomy = join(dir, 'cap-hot-roomy');
    const fine = pitwall(['replay', ...args, '--out', roomy]);
    expect(fine.stdout).toContain('5 duplicates, 0 late\n');
    expect(pitwall(['reconcile', '--catalog', join(defs, 'catalog'), '--queries', join(defs, 'queries'), '--hot', roomy, '--cold', cold]).status).toBe(0);
  });
});
