/**
 * SQL fuzzing: random mutations of real metric files (queries/*.sql and the fixtures/ok and
 * fixtures/fail files) go through parse, plan and `loadQueries` (what `pitwall validate` runs).
 * Whatever the input:
 *
 * - a rejection is a PitwallError with a PW_ code other than PW_INTERNAL, positioned in the file
 *   (file name, line and column inside the text);
 * - an accepted metric compiles for the hot path (engine construction) and the cold path, and
 *   DuckDB accepts its SQL (run over an empty events table);
 * - each input takes under 2 s.
 *
 * Mutations work on tokens: delete, duplicate, swap, replace with or insert a token from a pool of
 * SQL that pitwall does and does not support, insert junk text, truncate, and nest a token
 * range hundreds of levels deep (parentheses, NOT, CASE, casts, operator chains). Generated
 * metrics (metric-arbitrary.ts) complement them: most parse, so they reach the binder and both
 * compilers.
 *
 * Bounded by default (the whole file well under 20 s on a slow two-core machine); set
 * PITWALL_FUZZ_RUNS (e.g. 20000) for a long run. A failure prints fast-check's seed and the
 * shrunk input; rerun with that seed to reproduce.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog } from '../../src/catalog/index.js';
import { changesRelationName, compileDuckDb, createEventsTable, runCompiled, tableAsStream } from '../../src/cold/index.js';
import { AggregateUserError, PitwallError } from '../../src/errors.js';
import { Engine } from '../../src/hot/engine.js';
import { buildPlan, findNode, loadQueries, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import { metricArb } from './metric-arbitrary.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? '') || undefined;
const LIMIT_MS = 2000;
/** Vitest's timeout for a property: the default unless a long run was asked for. */
const TIMEOUT_MS = RUNS ? 30_000 + RUNS * 20 : 30_000;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const sampleCatalog = loadCatalog(join(root, 'catalog'));
const testCatalog = loadCatalog(join(here, 'fixtures', 'catalog'));

interface Seed { readonly name: string; readonly text: string; readonly catalog: Catalog }

const seedsOf = (dir: string, catalog: Catalog): Seed[] => readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()
  .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8'), catalog }));
const SEEDS: Seed[] = [
  ...seedsOf(join(root, 'queries'), sampleCatalog),
  ...seedsOf(join(here, 'fixtures', 'ok'), testCatalog),
  // The failing fixtures start at a rejected construct: mutations wander from there.
  ...seedsOf(join(here, 'fixtures', 'fail'), testCatalog).map((s) => ({ ...s, text: s.text.replace(/^--fail=[^\n]*\n/, '') })),
];

const TOKEN = /\s+|--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'?|"[^"]*"?|[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|::|<=|>=|<>|!=|\|\||[^]/gu;
const tokenize = (text: string): string[] => text.match(TOKEN) ?? [];

/** Tokens users write, inside and outside the dialect, and tokens that break things. */
const POOL = [
  'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'HAVING', 'ORDER', 'LIMIT', 'OFFSET', 'WITH', 'UNION', 'ALL', 'DISTINCT', 'AS', 'ON', 'JOIN',
  'AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'BETWEEN', 'LIKE', 'ILIKE', 'ESCAPE', "ESCAPE '!'", 'SIMILAR', 'TO', 'COLLATE "C"',
  'NULLS', 'FIRST', 'LAST', 'NULLS FIRST', 'NULLS LAST', 'ASC', 'DESC', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'CAST', '::', 'TRY_CAST',
  'VARCHAR', 'VARCHAR(3)', 'DECIMAL(10, 2)', 'BIGINT', 'DOUBLE', 'TIMESTAMP', 'BOOLEAN', 'INTERVAL', "INTERVAL '1 millisecond'",
  "INTERVAL '1 month'", "INTERVAL '36501 days'", "INTERVAL '-5 minutes'", 'TUMBLE', 'HOP', 'SESSION', 'OVER', 'PARTITION', 'ROWS',
  'RANGE', 'UNBOUNDED', 'PRECEDING', 'CURRENT', 'ROW', 'ROW_NUMBER()', 'RANK()', 'FILTER', '(WHERE TRUE)', 'COUNT(*)', 'SUM', 'AVG', 'MIN', 'MAX',
  'approx_count_distinct', 'quantile_cont', 'COALESCE', 'window_start', 'window_end', 'rn', 'data', '.', ',', ';', '(', ')', '[1]', '*',
  '+', '-', '/', '%', '||', '=', '<>', '<', '>=', '->>', '@', '#', '$1', '?', "'x'", "''", "'it''s'", "'\\'", "'C:\\temp'", "'%_!'", '"quoted"',
  '""', '0', '1', '-1', '0.5', '1e400', '1e-400', '12345678901234567890', '9007199254740993', 'NaN', "'Infinity'", "TIMESTAMP '2024-02-30'",
  "TIMESTAMP '0000-01-01'", "'2024-03-15T19:30:00Z'", '--', '-- emit: on_update\n', '-- emit: sometimes\n', '/*', '*/', '\n', '\uFEFF', '\u0000',
  'é', '😀', '\u202e', 'CREATE', 'VIEW', 'OR REPLACE', 'TEMP', 'schema.', 'x'.repeat(70),
];

/** Every word of the seeds (field, stream, function and alias names, keywords): swaps that often still parse. */
const VOCABULARY = [...new Set(SEEDS.flatMap((s) => s.text.match(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/g) ?? []))].sort();

/** Wrappers for nesting: prefix and suffix, applied around a token range `times` times. */
const WRAPPERS: readonly [string, string][] = [
  ['(', ')'], ['NOT (', ')'], ['-(', ')'], ['CASE WHEN TRUE THEN ', ' END'], ['COALESCE(', ')'], ['CAST(', ' AS DOUBLE)'],
  ['(', ' + 1)'], ['(', " OR kind = 'x')"], ['(', ' AND TRUE)'], ['', '::BIGINT'], ['NOT ', ''], ['(SELECT ', ')'],
];

type Mutation =
  | { readonly kind: 'delete' | 'duplicate' | 'truncate'; readonly at: number }
  | { readonly kind: 'swap'; readonly at: number; readonly other: number }
  | { readonly kind: 'replace' | 'insert' | 'word'; readonly at: number; readonly token: string }
  | { readonly kind: 'nest'; readonly at: number; readonly length: number; readonly wrapper: number; readonly times: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const, 'truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constantFrom('replace' as const, 'insert' as const),
    at: fc.nat(),
    token: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...POOL) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
  }),
  fc.record({ kind: fc.constant('word' as const), at: fc.nat(), token: fc.constantFrom(...VOCABULARY) }),
  fc.record({
    kind: fc.constant('nest' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }),
    wrapper: fc.nat({ max: WRAPPERS.length - 1 }), times: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 60, max: 400 })),
  }),
);

function mutate(text: string, mutations: readonly Mutation[]): string {
  let tokens = tokenize(text);
  for (const m of mutations) {
    if (tokens.length === 0) tokens = [''];
    const at = m.at % tokens.length;
    switch (m.kind) {
      case 'delete': tokens.splice(at, 1); break;
      case 'duplicate': tokens.splice(at, 0, tokens[at] as string); break;
      case 'truncate': tokens = tokens.slice(0, at); break;
      case 'swap': {
        const other = m.other % tokens.length;
        [tokens[at], tokens[other]] = [tokens[other] as string, tokens[at] as string];
        break;
      }
      case 'replace': tokens[at] = m.token; break;
      case 'word': {
        // The next word token at or after `at` becomes another word of the seeds.
        const w = tokens.findIndex((t, i) => i >= at && /^[A-Za-z_]/.test(t));
        if (w >= 0) tokens[w] = m.token;
        break;
      }
      case 'insert': tokens.splice(at, 0, ` ${m.token} `); break;
      case 'nest': {
        const [open, close] = WRAPPERS[m.wrapper] as [string, string];
        const end = Math.min(tokens.length, at + m.length);
        tokens = [...tokens.slice(0, at), open.repeat(m.times), ...tokens.slice(at, end), close.repeat(m.times), ...tokens.slice(end)];
        break;
      }
    }
  }
  return tokens.join('');
}

const inputArb = fc.record({
  seed: fc.nat({ max: SEEDS.length - 1 }),
  // Zero mutations now and then: the accepted side of the check below never depends on luck.
  mutations: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 9, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 5 }) }),
}).map(({ seed, mutations }) => {
  const s = SEEDS[seed] as Seed;
  return { name: s.name, catalog: s.catalog, text: mutate(s.text, mutations) };
});

/** Checks a rejection: coded, not internal, positioned inside `text` of `file`. */
function expectUserError(err: unknown, file: string, text: string): void {
  if (!(err instanceof PitwallError)) throw new Error(`not a PitwallError: ${String(err)}`, { cause: err });
  expect(err.code).toMatch(/^PW_[A-Z_]+$/);
  expect(err.code, err.message).not.toBe('PW_INTERNAL');
  const pos = err.position;
  expect(pos, `${err.code} without a position: ${err.message}`).toBeDefined();
  expect(pos?.file.endsWith(file)).toBe(true);
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  expect(pos?.line).toBeGreaterThanOrEqual(1);
  expect(pos?.line).toBeLessThanOrEqual(lines.length);
  expect(pos?.col).toBeGreaterThanOrEqual(1);
  expect(pos?.col).toBeLessThanOrEqual((lines[(pos?.line ?? 1) - 1] ?? '').length + 1);
}

let conn: DuckDBConnection;
beforeAll(async () => { conn = await (await DuckDBInstance.create(':memory:')).connect(); });

/** An accepted metric must compile on both paths, and DuckDB must accept its SQL. */
async function expectRunnable(plan: MetricPlan, catalog: Catalog): Promise<void> {
  expect(() => new Engine(catalog, [plan], { result: () => undefined, late: () => undefined })).not.toThrow();
  await createEventsTable(conn, plan.stream);
  const join = findNode(plan.root, 'LookupJoinNode');
  if (join) await createEventsTable(conn, tableAsStream(join.table), changesRelationName(join.table));
  await runCompiled(conn, plan, compileDuckDb(plan));
}

const stats = { accepted: 0, rejected: new Map<string, number>() };

describe('SQL fuzzing', () => {
  it('mutated metric files are planned or rejected with a coded, positioned error, fast', async () => {
    await fc.assert(fc.asyncProperty(inputArb, async ({ name, catalog, text }) => {
      const t0 = performance.now();
      let plan: MetricPlan | undefined;
      try {
        plan = buildPlan(parseQuery(name, text), catalog);
      } catch (err) {
        expectUserError(err, name, text);
        const code = (err as PitwallError).code;
        stats.rejected.set(code, (stats.rejected.get(code) ?? 0) + 1);
      }
      if (plan) {
        stats.accepted++;
        await expectRunnable(plan, catalog);
      }
      expect(performance.now() - t0).toBeLessThan(LIMIT_MS);
    }), { numRuns: RUNS ?? 250 });
    // The mutations reach both sides: some inputs still plan, many distinct rejections occur.
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected.size).toBeGreaterThan(8);
  }, TIMEOUT_MS);

  it('generated metrics (mostly parseable, some outside the dialect) are planned and runnable, or rejected the same way', async () => {
    const seen = { accepted: 0, rejected: 0 };
    await fc.assert(fc.asyncProperty(metricArb, async (text) => {
      const t0 = performance.now();
      let plan: MetricPlan | undefined;
      try {
        plan = buildPlan(parseQuery('gen.sql', text), testCatalog);
      } catch (err) {
        expectUserError(err, 'gen.sql', text);
        seen.rejected++;
      }
      if (plan) {
        seen.accepted++;
        await expectRunnable(plan, testCatalog);
      }
      expect(performance.now() - t0).toBeLessThan(LIMIT_MS);
    }), { numRuns: RUNS ?? 150 });
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  }, TIMEOUT_MS);

  it('every unmutated seed plans (queries/, fixtures/ok) or fails with its coded error (fixtures/fail)', async () => {
    for (const s of SEEDS) {
      try {
        await expectRunnable(buildPlan(parseQuery(s.name, s.text), s.catalog), s.catalog);
      } catch (err) {
        expectUserError(err, s.name, s.text);
      }
    }
  });

  describe('loadQueries over a directory of mutated files', () => {
    const dirs: string[] = [];
    afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

    it('reports every bad file with its code and position, and plans the rest', () => {
      fc.assert(fc.property(fc.array(inputArb.filter((i) => i.catalog === sampleCatalog), { minLength: 1, maxLength: 4 }), (inputs) => {
        const dir = mkdtempSync(join(tmpdir(), 'pitwall-fuzz-'));
        dirs.push(dir);
        const texts = new Map<string, string>();
        inputs.forEach((input, i) => {
          const file = `${i}_${input.name}`;
          texts.set(file, input.text);
          writeFileSync(join(dir, file), input.text);
        });
        const t0 = performance.now();
        try {
          const plans = loadQueries(dir, sampleCatalog);
          expect(plans.length).toBe(inputs.length);
        } catch (err) {
          const errors = err instanceof AggregateUserError ? err.errors : [err];
          if (err instanceof AggregateUserError) expect(err.code).toBe('PW_MULTIPLE');
          for (const e of errors) {
            const file = (e as PitwallError).position?.file.split(/[\\/]/).pop() ?? '';
            expectUserError(e, file, texts.get(file) ?? '');
          }
        }
        expect(performance.now() - t0).toBeLessThan(LIMIT_MS * inputs.length);
      }), { numRuns: Math.ceil((RUNS ?? 250) / 10) });
    }, TIMEOUT_MS);
  });
});
