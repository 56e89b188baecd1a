/**
 * Rejected metrics. Each file of fixtures/fail starts with an expected-error header
 *
 *   --fail=<PW_CODE> <line>:<col> <substring of the message>
 *
 * (line 1 is the header itself) and must fail at plan time with exactly that code and position,
 * the position being the token a person would look at.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { AggregateUserError, PitwallError, PlanError } from '../../src/errors.js';
import { buildPlan, loadQueries, queryFiles } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const failDir = join(here, 'fixtures', 'fail');
const okDir = join(here, 'fixtures', 'ok');
const catalog = loadCatalog(join(here, 'fixtures', 'catalog'));

interface ExpectedError { readonly code: string; readonly line: number; readonly col: number; readonly message: string }

function header(file: string, text: string): ExpectedError {
  const m = /^--fail=(PW_[A-Z_]+) (\d+):(\d+) (.+)$/.exec(text.split('\n')[0] ?? '');
  if (!m) throw new Error(`${file}: the first line must be --fail=<PW_CODE> <line>:<col> <message substring>`);
  return { code: m[1] as string, line: Number(m[2]), col: Number(m[3]), message: m[4] as string };
}

/** The error planning `text` throws (fails the test when it plans). */
function planError(file: string, text: string): PitwallError {
  try {
    buildPlan(parseQuery(file, text), catalog);
  } catch (err) {
    if (err instanceof PitwallError) return err;
    throw err;
  }
  throw new Error(`${file} planned, but it should have been rejected`);
}

const files = readdirSync(failDir).filter((f) => f.endsWith('.sql')).sort();

describe('fixtures/fail', () => {
  it('holds at least 30 rejected metrics', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(files)('%s', (file) => {
    const text = readFileSync(join(failDir, file), 'utf8');
    const want = header(file, text);
    const err = planError(file, text);
    expect(err).toBeInstanceOf(PlanError);
    expect({ code: err.code, line: err.position?.line, col: err.position?.col }).toEqual({ code: want.code, line: want.line, col: want.col });
    expect(err.detail).toContain(want.message);
    expect(err.position?.file).toBe(file);
    expect(err.message).toBe(`${file}:${want.line}:${want.col}: ${err.detail}`);
  });
});

describe('messages', () => {
  const metric = (where: string): string => `CREATE VIEW m AS
SELECT window_start, COUNT(*) AS n
FROM TUMBLE(clicks, ts, INTERVAL '1 minute')
WHERE ${where}
GROUP BY window_start;
`;

  it('an unknown column lists the declared fields and the catalog file to declare new ones in', () => {
    const err = planError('m.sql', metric("knd = 'buy'"));
    expect(err.detail).toBe(
      "unknown column 'knd' in WHERE; did you mean 'kind'? (stream 'clicks' declares: id, ts, kind, userId, amount, qty, flag, seenAt, " +
      `data.page, data.latencyMs, data.geo.country; declare new fields in ${catalog.streams.get('clicks')?.file})`,
    );
  });

  it('suggests nothing when no name is close', () => {
    const err = planError('m.sql', metric('zzzzzzzz = 1'));
    expect(err.code).toBe('PW_PLAN_UNKNOWN_COLUMN');
    expect(err.detail).not.toContain('did you mean');
  });

  it('suggests across case and for nested paths', () => {
    expect(planError('m.sql', metric("data.pgae = '/'")).detail).toContain("did you mean 'data.page'?");
    expect(planError('m.sql', metric('USERID2 IS NULL')).detail).toContain("did you mean 'userId'?");
  });

  it('an unknown stream with no close name lists the catalog streams only', () => {
    const err = planError('m.sql', "CREATE VIEW m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(inventory, ts, INTERVAL '1 minute') GROUP BY window_start;");
    expect(err.detail).toBe("unknown stream 'inventory' in TUMBLE; catalog streams: clicks, payments, users");
  });

  it('positions stay right when the file starts with blank lines (the parser must not trim them)', () => {
    const err = planError('m.sql', `\n\n${metric('kind = 3')}`);
    expect([err.code, err.position?.line, err.position?.col]).toEqual(['PW_PLAN_TYPE', 6, 7]);
  });

  it('a FILTER inside a comment is left alone', () => {
    const text = readFileSync(join(okDir, 'aggregates-filter.sql'), 'utf8')
      .replace('SELECT window_start,', 'SELECT window_start, -- quantile_cont(x, 0.5) FILTER (WHERE not sql at all (\n');
    expect(() => buildPlan(parseQuery('m.sql', text), catalog)).not.toThrow();
  });
});

describe('loadQueries', () => {
  const dirs: string[] = [];
  const tempDir = (sqlFiles: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-queries-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(sqlFiles)) writeFileSync(join(dir, name), text);
    return dir;
  };
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  const ok = readFileSync(join(okDir, 'tumble.sql'), 'utf8');

  it('plans every .sql file of a directory, sorted by file name, ignoring other files', () => {
    const dir = tempDir({ 'b.sql': ok.replace('page_views_5m', 'b_metric'), 'a.sql': ok, 'notes.txt': 'not a metric' });
    expect(loadQueries(dir, catalog).map((p) => p.name)).toEqual(['page_views_5m', 'b_metric']);
  });

  it('reports every problem of every file at once, and duplicate metric names', () => {
    const dir = tempDir({
      'a.sql': ok,
      'b.sql': ok.replace('INTERVAL', 'INTERVL'),
      'c.sql': ok.replace('clicks', 'clicks_v2'),
      'd.sql': ok.replace('page_views_5m', 'PAGE_VIEWS_5M'),
    });
    let err: unknown;
    try { loadQueries(dir, catalog); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(AggregateUserError);
    const errors = (err as AggregateUserError).errors;
    expect(errors.map((e) => [e.code, e.position?.file.endsWith('.sql') ? e.position.file.slice(-5) : undefined])).toEqual([
      ['PW_SQL_SYNTAX', 'b.sql'],
      ['PW_PLAN_UNKNOWN_STREAM', 'c.sql'],
      ['PW_PLAN_DUPLICATE_METRIC', 'd.sql'],
    ]);
    expect(errors[2]?.detail).toMatch(/^metric 'PAGE_VIEWS_5M' is already defined in .*a\.sql; metric names must be unique$/);
  });

  it('a single problem is thrown as itself', () => {
    const dir = tempDir({ 'a.sql': ok.replace('clicks', 'clickz') });
    expect(() => loadQueries(dir, catalog)).toThrow(expect.objectContaining({ code: 'PW_PLAN_UNKNOWN_STREAM' }));
  });

  it('a missing directory is a PW_QUERIES_DIR error', () => {
    expect(() => queryFiles(join(tmpdir(), 'pitwall-no-such-dir'))).toThrow(expect.objectContaining({ code: 'PW_QUERIES_DIR' }));
  });
});
