/**
 * Resource bounds on metric files (src/sql/sql-limits.ts, src/plan/window-limits.ts): every
 * breach is a coded error at a position, never PW_INTERNAL or a hang, and one bad file does not
 * hide the others' errors in `loadQueries` (`pitwall validate`). Also: a UTF-8 byte-order mark is
 * ignored, and backslashes in quotes are ordinary characters. fixtures/limits holds the three
 * files of the deep-nesting bug report, over a copy of the sample `orders` stream.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog, type StreamDef } from '../../src/catalog/index.js';
import { AggregateUserError, PitwallError } from '../../src/errors.js';
import { buildPlan, explainPlan, findNode, loadQueries, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const limitsDir = join(here, 'fixtures', 'limits');
const orders = loadCatalog(join(limitsDir, 'catalog'));
const clicks = loadCatalog(join(here, 'fixtures', 'catalog'));

const plan = (text: string, catalog: Catalog = clicks, file = 'm.sql'): MetricPlan => buildPlan(parseQuery(file, text), catalog);

/** The error planning `text` throws, as [code, line, col]; fails when it plans or throws something uncoded. */
function rejection(text: string, catalog: Catalog = clicks, file = 'm.sql'): [string, number | undefined, number | undefined] {
  try {
    plan(text, catalog, file);
  } catch (err) {
    if (!(err instanceof PitwallError)) throw err;
    expect(err.position?.file).toBe(file);
    return [err.code, err.position?.line, err.position?.col];
  }
  throw new Error('planned, but it should have been rejected');
}

const metric = (where: string, from = "TUMBLE(clicks, ts, INTERVAL '1 minute')"): string =>
  `CREATE VIEW m AS\nSELECT window_start, COUNT(*) AS n\nFROM ${from}\nWHERE ${where}\nGROUP BY window_start;\n`;

/**
 * Runs `f`, failing when it takes longer than `ms`: a guard against hangs and quadratic blow-ups
 * (the bounds leave room for a slow, busy machine; typical times are a tenth of them).
 */
function within<T>(ms: number, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  expect(performance.now() - t0).toBeLessThan(ms);
  return out;
}

describe('deep and long expressions (the bug report files)', () => {
  const fixture = (name: string): string => readFileSync(join(limitsDir, name), 'utf8');

  it('1,000 nested parentheses: PW_SQL_TOO_DEEP at the 65th', () => {
    expect(within(5000, () => rejection(fixture('parens_1000.sql'), orders, 'parens_1000.sql'))).toEqual(['PW_SQL_TOO_DEEP', 4, 71]);
  });

  it('a 10,000-term 1+1+… chain: PW_SQL_TOO_DEEP at the start of the chain', () => {
    expect(within(5000, () => rejection(fixture('plus_chain_10000.sql'), orders, 'plus_chain_10000.sql'))).toEqual(['PW_SQL_TOO_DEEP', 4, 25]);
  });

  it('a 5,000-term OR chain (114,105 characters): PW_SQL_TOO_LONG at the file', () => {
    const text = fixture('or_chain_5000.sql');
    expect(text.length).toBe(114_105);
    expect(within(5000, () => rejection(text, orders, 'or_chain_5000.sql'))).toEqual(['PW_SQL_TOO_LONG', 1, 1]);
  });

  it('a 2,000-term OR chain within the size limit: PW_SQL_TOO_DEEP at the WHERE condition', () => {
    const chain = Array.from({ length: 2000 }, (_, i) => `kind = 'k${i}'`).join(' OR ');
    expect(within(5000, () => rejection(metric(chain)))).toEqual(['PW_SQL_TOO_DEEP', 4, 7]);
  });

  it('NOT chains: 200 (past the limit) and 10,000 (past the parser\'s own stack) are both PW_SQL_TOO_DEEP', () => {
    expect(within(5000, () => rejection(metric(`${'NOT '.repeat(200)}flag`)))).toEqual(['PW_SQL_TOO_DEEP', 1, 1]);
    expect(within(5000, () => rejection(metric(`${'NOT '.repeat(10_000)}flag`)))).toEqual(['PW_SQL_TOO_DEEP', 1, 1]);
  });

  it('parenthesized AND/OR groups that make the parser backtrack exponentially: PW_SQL_TOO_DEEP at the deepest, quickly', () => {
    // Found by the fuzz suite: 64 levels took the parser 24 s, then exhausted memory.
    const groups = (n: number): string => `${'('.repeat(n)}flag${' AND TRUE)'.repeat(n)}`;
    const inGroupBy = `CREATE VIEW m AS\nSELECT window_start, COUNT(*) AS n\nFROM TUMBLE(clicks, ts, INTERVAL '1 minute')\nGROUP BY window_start, ${groups(64)};\n`;
    expect(within(5000, () => rejection(inGroupBy))).toEqual(['PW_SQL_TOO_DEEP', 4, 87]);
    expect(within(5000, () => rejection(metric(groups(20))))).toEqual(['PW_SQL_TOO_DEEP', 4, 26]);
    expect(() => plan(metric(groups(8)))).not.toThrow();
  });

  it('a statement the parser itself refuses (an error without a location) is PW_SQL_SYNTAX where it stopped', () => {
    const text = "CREATE VIEW m AS SELECT window_start, (SELECT *)::BIGINT AS x FROM TUMBLE(clicks, ts, INTERVAL '1 minute') GROUP BY window_start";
    expect(rejection(text)).toEqual(['PW_SQL_SYNTAX', 1, 49]);
  });

  it('the limits themselves plan: 64 parentheses, and a 100-term OR chain', () => {
    expect(() => plan(metric(`${'('.repeat(64)}kind = 'a'${')'.repeat(64)}`))).not.toThrow();
    expect(() => plan(metric(Array.from({ length: 100 }, (_, i) => `kind = 'k${i}'`).join(' OR ')))).not.toThrow();
  });

  it('a file of exactly 100,000 characters plans; one more is PW_SQL_TOO_LONG', () => {
    const text = metric("kind = 'a'");
    const padded = `${text}--${'x'.repeat(100_000 - text.length - 2)}`;
    expect(padded.length).toBe(100_000);
    expect(() => plan(padded)).not.toThrow();
    expect(rejection(`${padded}x`)).toEqual(['PW_SQL_TOO_LONG', 1, 1]);
  });

  it('a wide but shallow metric plans fast: 1,000 group keys, 1,000 FILTERed aggregates', () => {
    const n = Array.from({ length: 1000 }, (_, i) => i);
    const keys = `CREATE VIEW m AS SELECT window_start, ${n.map((i) => `kind || 'x${i}' AS k${i}`).join(', ')}
FROM TUMBLE(clicks, ts, INTERVAL '1 minute') GROUP BY window_start, ${n.map((i) => `k${i}`).join(', ')};`;
    // Quadratic matching took over 10 s here; the bound leaves room for a slow machine.
    expect(within(5000, () => plan(keys)).keyColumns).toHaveLength(1000);
    const aggs = `CREATE VIEW m AS SELECT window_start, ${n.map((i) => `COUNT(*) FILTER (WHERE kind = 'k${i}') AS c${i}`).join(', ')}
FROM TUMBLE(clicks, ts, INTERVAL '1 minute') GROUP BY window_start;`;
    expect(within(5000, () => plan(aggs)).columns).toHaveLength(1001);
  });
});

describe('loadQueries (pitwall validate) reports every file', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  const tempDir = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-limits-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const errorsOf = (dir: string, catalog: Catalog): [string, string][] => {
    try {
      loadQueries(dir, catalog);
    } catch (err) {
      expect(err).toBeInstanceOf(AggregateUserError);
      return (err as AggregateUserError).errors.map((e) => [e.code, `${e.position?.file.split('/').pop() ?? '?'}:${e.position?.line}:${e.position?.col}`]);
    }
    throw new Error('no errors');
  };

  it('a too-deep file does not hide the errors of the others', () => {
    const good = readFileSync(join(here, '..', '..', 'queries', 'restaurant_orders_5m.sql'), 'utf8');
    const dir = tempDir({
      'a_parens.sql': readFileSync(join(limitsDir, 'parens_1000.sql'), 'utf8'),
      'b_good.sql': good,
      'c_plus.sql': readFileSync(join(limitsDir, 'plus_chain_10000.sql'), 'utf8').replace('CREATE VIEW m', 'CREATE VIEW m2'),
      'd_unknown.sql': good.replace('TUMBLE(orders', 'TUMBLE(orderz'),
    });
    expect(errorsOf(dir, orders)).toEqual([
      ['PW_SQL_TOO_DEEP', 'a_parens.sql:4:71'],
      ['PW_SQL_TOO_DEEP', 'c_plus.sql:4:25'],
      ['PW_PLAN_UNKNOWN_STREAM', 'd_unknown.sql:7:13'],
    ]);
  });

  it('files are read as strict UTF-8 (a bad byte is PW_SQL_SYNTAX at it), huge files are refused unread, a BOM is fine', () => {
    const text = metric("kind = 'caf\u00e9'");
    const bad = Buffer.from(text.replace('\u00e9', '\u0001'), 'utf8');
    bad[bad.indexOf(1)] = 0xe9; // Latin-1 é: not UTF-8
    const dir = tempDir({ 'a_bom.sql': `\uFEFF${text}`, 'c_huge.sql': `${text}--${'x'.repeat(400_000)}` });
    writeFileSync(join(dir, 'b_latin1.sql'), bad);
    expect(errorsOf(dir, clicks)).toEqual([['PW_SQL_SYNTAX', 'b_latin1.sql:4:18'], ['PW_SQL_TOO_LONG', 'c_huge.sql:1:1']]);
  });

  it('a file that breaks pitwall itself is reported as PW_INTERNAL at that file, and the others still are', () => {
    // A catalog whose lookup of stream 'boom' throws a plain TypeError stands in for a bug.
    const streams = new (class extends Map<string, StreamDef> {
      override get(name: string): StreamDef | undefined {
        if (name === 'boom') throw new TypeError('cannot read the stream');
        return super.get(name);
      }
    })(clicks.streams);
    const dir = tempDir({
      'a.sql': metric("kind = 'a'", "TUMBLE(boom, ts, INTERVAL '1 minute')"),
      'b.sql': metric("kind = 'a'").replace('GROUP BY', 'GROUP BYE'),
      'c.sql': metric("kind = 'a'"),
    });
    expect(errorsOf(dir, { dir: 'x', streams })).toEqual([['PW_INTERNAL', 'a.sql:1:1'], ['PW_SQL_SYNTAX', 'b.sql:5:7']]);
  });
});

describe('names', () => {
  it('a metric name of 63 characters plans; 64 is PW_SQL_NAME_TOO_LONG at the name', () => {
    const name63 = `m${'x'.repeat(62)}`;
    expect(plan(metric("kind = 'a'").replace('VIEW m', `VIEW ${name63}`)).name).toBe(name63);
    expect(rejection(metric("kind = 'a'").replace('VIEW m', `VIEW ${name63}x`))).toEqual(['PW_SQL_NAME_TOO_LONG', 1, 13]);
  });

  it('a 64-character alias, quoted or not, is PW_SQL_NAME_TOO_LONG at the alias', () => {
    expect(rejection(metric("kind = 'a'").replace('AS n', `AS n${'y'.repeat(63)}`))).toEqual(['PW_SQL_NAME_TOO_LONG', 2, 34]);
    expect(rejection(metric("kind = 'a'").replace('AS n', `AS "n ${'y'.repeat(62)}"`))).toEqual(['PW_SQL_NAME_TOO_LONG', 2, 34]);
  });

  it('a quoted metric name with other characters is PW_SQL_VIEW_NAME at the name', () => {
    expect(rejection(metric("kind = 'a'").replace('VIEW m', 'VIEW "my-metric"'))).toEqual(['PW_SQL_VIEW_NAME', 1, 13]);
  });
});

describe('window bounds', () => {
  it('HOP: 1,000 windows per event plan; 1,001 are PW_PLAN_WINDOW_SIZE at the slide', () => {
    const hop = (size: string): string => metric("kind = 'a'", `HOP(clicks, ts, INTERVAL '1 minute', INTERVAL '${size}')`);
    expect(plan(hop('1000 minutes')).window).toEqual({ type: 'hop', slideMs: 60_000, sizeMs: 60_000_000 });
    expect(rejection(hop('1001 minutes'))).toEqual(['PW_PLAN_WINDOW_SIZE', 3, 22]);
  });

  it('sizes and gaps up to 36,500 days plan; longer ones are PW_PLAN_WINDOW_SIZE at the interval', () => {
    expect(plan(metric("kind = 'a'", "TUMBLE(clicks, ts, INTERVAL '36500 days')")).window).toEqual({ type: 'tumble', sizeMs: 3_153_600_000_000 });
    expect(plan(metric("kind = 'a'", "HOP(clicks, ts, INTERVAL '365 days', INTERVAL '36500 days')")).window.type).toBe('hop');
    expect(rejection(metric("kind = 'a'", "HOP(clicks, ts, INTERVAL '36501 days', INTERVAL '36501 days')"))).toEqual(['PW_PLAN_WINDOW_SIZE', 3, 22]);
    expect(rejection(metric("kind = 'a'", "HOP(clicks, ts, INTERVAL '1 day', INTERVAL '36501 days')"))).toEqual(['PW_PLAN_WINDOW_SIZE', 3, 40]);
    expect(rejection(metric("kind = 'a'", "SESSION(clicks, ts, INTERVAL '36501 days')"))).toEqual(['PW_PLAN_WINDOW_SIZE', 3, 26]);
    expect(rejection(metric("kind = 'a'", "TUMBLE(clicks, ts, INTERVAL '99999999999999999999 days')"))).toEqual(['PW_PLAN_WINDOW_SIZE', 3, 25]);
  });
});

describe('text', () => {
  const text = metric("kind = 'a'");

  it('a UTF-8 byte-order mark at the start is ignored: same plan, same hash', () => {
    const withBom = plan(`\uFEFF${text}`);
    expect(withBom.sql).toBe(text);
    expect(explainPlan(withBom)).toBe(explainPlan(plan(text)));
  });

  it('positions after a byte-order mark count from the first real character', () => {
    expect(rejection(`\uFEFF${text.replace('SELECT', 'SELEC')}`)).toEqual(['PW_SQL_SYNTAX', 2, 1]);
    expect(rejection(`\uFEFFCREATE VIEW m AS SELEC 1`)).toEqual(['PW_SQL_SYNTAX', 1, 18]);
  });

  it('backslashes in quotes are ordinary characters (no \\t, \\u escapes; \'a\\\' ends the string)', () => {
    const literal = (where: string): unknown => {
      const predicate = findNode(plan(metric(where)).root, 'FilterNode')?.predicate;
      return predicate?.kind === 'BinaryExpr' && predicate.right.kind === 'LiteralExpr' ? predicate.right.value : undefined;
    };
    expect(literal("kind = 'C:\\temp'")).toBe('C:\\temp');
    expect(literal("kind = 'a\\u0041'")).toBe('a\\u0041');
    expect(literal("kind = 'a\\'")).toBe('a\\');
    expect(literal("kind = 'it''s\\n'")).toBe("it's\\n");
  });

  it('numbers the parser keeps as text: exact ints and finite doubles plan, others are rejected at the number', () => {
    const right = (where: string): unknown => {
      const predicate = findNode(plan(metric(where)).root, 'FilterNode')?.predicate;
      return predicate?.kind === 'BinaryExpr' ? predicate.right : undefined;
    };
    expect(right('qty < 9007199254740991')).toEqual({ kind: 'LiteralExpr', value: 9_007_199_254_740_991, type: 'int' });
    expect(right('amount > 1e3')).toEqual({ kind: 'LiteralExpr', value: 1000, type: 'double' });
    expect(right('amount > 0e5')).toEqual({ kind: 'LiteralExpr', value: 0, type: 'double' });
    expect(rejection(metric('qty < 9007199254740992'))).toEqual(['PW_PLAN_UNSUPPORTED', 4, 13]);
    expect(rejection(metric('amount > 1e-400'))).toEqual(['PW_PLAN_UNSUPPORTED', 4, 16]);
    expect(rejection(metric('amount > 1e400'))).toEqual(['PW_PLAN_UNSUPPORTED', 4, 16]);
  });

  it("LIKE … ESCAPE '' means no escape character", () => {
    const predicate = findNode(plan(metric("kind LIKE 'x!%' ESCAPE ''")).root, 'FilterNode')?.predicate;
    expect(predicate).toMatchObject({ kind: 'LikeExpr', escape: undefined, pattern: { value: 'x!%' } });
  });
});
