/**
 * Scalar parity harness: evaluates bound expressions over rows of typed fields on the hot path
 * (compiled closures) and in DuckDB (the cold compiler's SQL, all expressions and rows in one
 * query), and returns both results per row and expression, values normalised to JavaScript
 * (BIGINT → number, TIMESTAMP → epoch ms).
 */
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { compileExpr, Parameters, rowNames } from '../../src/cold/compile-expr.js';
import { compileRowExpr, type Val } from '../../src/hot/eval/compile-expr.js';
import type { Expr, SqlType } from '../../src/plan/index.js';
import { scalarFunction } from '../../src/plan/functions/index.js';

/** The fields rows carry: two of each type, so binary operators can pair them. */
export const SCALAR_FIELDS = {
  s: 'string', s2: 'string', i: 'int', i2: 'int', d: 'double', d2: 'double', b: 'boolean', b2: 'boolean', t: 'timestamp', t2: 'timestamp',
} as const satisfies Record<string, SqlType>;

export type ScalarField = keyof typeof SCALAR_FIELDS;

/** A row: any field may be missing (NULL). Timestamps are epoch ms. */
export type ScalarRow = Partial<Record<ScalarField, string | number | boolean | null>>;

export const field = (name: ScalarField): Expr => ({ kind: 'FieldExpr', path: name, type: SCALAR_FIELDS[name] });

const DUCK: Record<SqlType, string> = { string: 'VARCHAR', int: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP', null: 'VARCHAR' };
const NAMES = Object.keys(SCALAR_FIELDS) as ScalarField[];

let conn: DuckDBConnection | undefined;

async function connection(): Promise<DuckDBConnection> {
  conn ??= await (await DuckDBInstance.create(':memory:')).connect();
  return conn;
}

function fromDuck(v: DuckDBValue): Val {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof DuckDBTimestampValue) return Number(v.micros / 1000n);
  throw new Error(`unexpected DuckDB value ${String(v)}`);
}

/** Hot results: `[row][expr]`. */
export function evalHot(exprs: readonly Expr[], rows: readonly ScalarRow[]): Val[][] {
  const compiled = exprs.map(compileRowExpr);
  return rows.map((r) => compiled.map((f) => f(r)));
}

/** Cold results: `[row][expr]`, from one DuckDB query over a table of the rows. */
export async function evalCold(exprs: readonly Expr[], rows: readonly ScalarRow[]): Promise<Val[][]> {
  const c = await connection();
  await c.run(`CREATE OR REPLACE TABLE pw_scalar (_pw_row BIGINT, ${NAMES.map((n) => `"${n}" ${DUCK[SCALAR_FIELDS[n]]}`).join(', ')})`);
  const app = await c.createAppender('pw_scalar');
  rows.forEach((r, i) => {
    app.appendBigInt(BigInt(i));
    for (const n of NAMES) {
      const v = r[n];
      if (v === undefined || v === null) { app.appendNull(); continue; }
      switch (SCALAR_FIELDS[n]) {
        case 'string': app.appendVarchar(v as string); break;
        case 'int': app.appendBigInt(BigInt(v as number)); break;
        case 'double': app.appendDouble(v as number); break;
        case 'boolean': app.appendBoolean(v as boolean); break;
        case 'timestamp': app.appendTimestamp(new DuckDBTimestampValue(BigInt(v as number) * 1000n)); break;
      }
    }
    app.endRow();
  });
  app.flushSync();
  app.closeSync();
  const params = new Parameters();
  // The node client decodes text with a BOM-stripping decoder: a result starting with U+FEFF
  // would lose it. Text results get a '|' in front, taken off here, so they arrive intact.
  const cols = exprs.map((e, i) => {
    const sql = compileExpr(e, rowNames, params);
    return `${e.type === 'string' ? `('|' || ${sql})` : sql} AS "e${i}"`;
  });
  const reader = await c.runAndReadAll(`SELECT ${cols.join(', ')} FROM pw_scalar ORDER BY _pw_row`, [...params.values]);
  return reader.getRows().map((row) => row.map((v, i) => {
    const val = fromDuck(v);
    return exprs[i]?.type === 'string' && typeof val === 'string' ? val.slice(1) : val;
  }));
}

/** Equal as SQL results: same type and value, −0 apart from 0 (both paths keep IEEE signs). */
export function sameVal(a: Val, b: Val): boolean {
  return Object.is(a, b);
}

/** A literal of `type` (timestamps as epoch ms). */
export const lit = (value: string | number | boolean | null, type: SqlType): Expr => ({ kind: 'LiteralExpr', value, type });

/**
 * A call of library function `name`, typed as the binder types it; throws when the binder
 * would refuse the call (a constant argument that must be a literal, a bad literal value).
 */
export function call(name: string, args: readonly Expr[]): Expr {
  const fn = scalarFunction(name);
  if (!fn) throw new Error(`no scalar function ${name}()`);
  const problem = fn.check?.(args);
  if (problem) throw new Error(`${name}(): ${problem.message}`);
  return { kind: 'CallExpr', fn: fn.name, args, type: typeof fn.result === 'function' ? fn.result(args) : fn.result };
}

const show = (v: unknown): string => (Object.is(v, -0) ? '-0' : JSON.stringify(v) ?? String(v));

/**
 * Evaluates `exprs` over `batch` on both paths and returns the first differences (at most 5),
 * each naming the expression, the row and both values; empty when the paths agree.
 */
export async function parityDiffs(exprs: readonly Expr[], batch: readonly ScalarRow[], display: (e: Expr) => string): Promise<string[]> {
  const hot = evalHot(exprs, batch);
  const cold = await evalCold(exprs, batch);
  const diffs: string[] = [];
  batch.forEach((row, r) => {
    exprs.forEach((e, k) => {
      const a = hot[r]?.[k] as Val;
      const b = cold[r]?.[k] as Val;
      if (!sameVal(a, b) && diffs.length < 5) diffs.push(`${display(e)} over ${show(row)}: hot ${show(a)}, cold ${show(b)}`);
    });
  });
  return diffs;
}
