/**
 * Compiles bound expressions to DuckDB SQL. String values are bound as parameters; numbers,
 * booleans and timestamps (epoch ms) come from the plan as typed values and are written as
 * typed literals.
 *
 * Semantics are the hot path's, rule for rule (hot/eval/arithmetic.ts, cast.ts, value-text.ts):
 * int arithmetic runs in HUGEINT (no int64 overflow error can stop a recompute) and a result
 * outside ±(2^53 − 1) is NULL; a non-finite double result is NULL; `/` is double division and
 * `/`, `%` by zero are NULL; CAST never fails and reads text by the grammars of
 * hot/eval/text-forms.ts — never DuckDB's own TRY_CAST forms, which read more (`'12.5'` as
 * BIGINT 13, `'inf'`, `'1_000'`) and drop UTC offsets from timestamps.
 *
 * A value tested and then returned (`x` if `p(x)` else NULL) is written once, through a
 * one-element list and a lambda ({@link keepIf}), so nested expressions never duplicate SQL
 * (NULLIF and CASE would copy `x` into each branch, doubling the text at every level).
 */
import { assertNever, InternalError } from '../errors.js';
import type { Expr, SqlType } from '../plan/index.js';
import type { ArithmeticOp } from '../plan/expr.js';
import { DOUBLE_TEXT, FALSE_TEXT, INT_TEXT, TIMESTAMP_GROUPS, TIMESTAMP_TEXT, TRUE_TEXT } from '../hot/eval/text-forms.js';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../util/timestamp.js';
import { duckType, quoteIdent } from './duckdb-dialect.js';
import { COLD_FUNCTIONS } from './functions/index.js';

/** Maps the slots an expression may reference (keys, aggregates, window bounds) to SQL. */
export interface ExprNames {
  /** `table`: a field of the joined reference table's row (see {@link joinedColumn}). */
  readonly field: (path: string, table?: string) => string;
  readonly key: (index: number) => string;
  readonly agg: (index: number) => string;
  readonly bound: (bound: 'window_start' | 'window_end') => string;
}

/** The column a lookup join gives a field of the joined table (`$t.` cannot begin a catalog field path). */
export const joinedColumn = (path: string): string => quoteIdent(`$t.${path}`);

export const rowNames: ExprNames = {
  field: (path, table) => (table === undefined ? quoteIdent(path) : joinedColumn(path)),
  key: (i) => `_pw_k${i}`,
  agg: (i) => `_pw_a${i}`,
  bound: (b) => (b === 'window_start' ? '_pw_ws' : '_pw_we'),
};

/** Collects bound parameters while compiling, and names lambda variables uniquely. */
export class Parameters {
  readonly values: (string | number | boolean)[] = [];
  #variables = 0;
  add(value: string): string {
    this.values.push(value);
    return `$${this.values.length}::VARCHAR`;
  }
  /** A fresh lambda variable name (`_pw_l1`, …), distinct from every column name. */
  variable(): string {
    return `_pw_l${++this.#variables}`;
  }
}

/** 2^53 − 1: the int range, as the hot path's `MAX_INT`. */
const MAX_INT = String(Number.MAX_SAFE_INTEGER);

/** `body(v)` with `v` bound to the value of `sql`, which is written and evaluated once. */
export function letIn(sql: string, body: (v: string) => string, params: Parameters): string {
  const v = params.variable();
  return `list_transform([${sql}], lambda ${v}: ${body(v)})[1]`;
}

/** The value of `sql` when `test(v)` is true for it, otherwise NULL; `sql` is written once. */
export function keepIf(sql: string, test: (v: string) => string, params: Parameters): string {
  const v = params.variable();
  return `list_filter([${sql}], lambda ${v}: ${test(v)})[1]`;
}

/** An integer-valued `sql` (HUGEINT, DOUBLE, …) as an int: BIGINT inside ±(2^53 − 1), else NULL. */
export function intInRange(sql: string, params: Parameters): string {
  return `CAST(${keepIf(sql, (v) => `${v} BETWEEN -${MAX_INT} AND ${MAX_INT}`, params)} AS BIGINT)`;
}

/** A DOUBLE `sql` when finite, otherwise (±inf, NaN) NULL. */
export function finite(sql: string, params: Parameters): string {
  return keepIf(sql, (v) => `isfinite(${v})`, params);
}

const nonZero = (sql: string, params: Parameters): string => keepIf(sql, (v) => `${v} <> 0`, params);

/** A regular-expression source as a SQL string literal (the sources hold no quotes). */
const pattern = (source: string): string => `'${source.replace(/'/g, "''")}'`;

function literal(e: Extract<Expr, { kind: 'LiteralExpr' }>, params: Parameters): string {
  if (e.value === null) return 'NULL';
  switch (e.type) {
    case 'string': return params.add(String(e.value));
    // Outside the value domain (an int literal past ±(2^53 − 1), a double literal past the
    // double range) reads as NULL, as on the hot path.
    case 'int': return Number.isSafeInteger(e.value) ? `CAST(${String(e.value)} AS BIGINT)` : 'CAST(NULL AS BIGINT)';
    // Through text, which DuckDB reads correctly rounded (a plain 0.1 would be a DECIMAL first).
    case 'double': {
      const v = e.value as number;
      return Number.isFinite(v) ? `CAST('${Object.is(v, -0) ? '-0.0' : String(v)}' AS DOUBLE)` : 'CAST(NULL AS DOUBLE)';
    }
    case 'boolean': return e.value ? 'TRUE' : 'FALSE';
    case 'timestamp': return `epoch_ms(CAST(${String(e.value)} AS BIGINT))`;
    case 'null': return 'NULL';
    default: return assertNever(e.type, 'literal type');
  }
}

/** `l op r` with result type `type`, as hot/eval/arithmetic.ts. */
export function arithmeticSql(op: ArithmeticOp, type: SqlType, l: string, r: string, params: Parameters): string {
  if (type === 'int' || type === 'null') {
    if (op === '%') return `(${l} % ${nonZero(r, params)})`;
    if (op !== '/') return intInRange(`(CAST(${l} AS HUGEINT) ${op} CAST(${r} AS HUGEINT))`, params);
  }
  const dl = `CAST(${l} AS DOUBLE)`;
  const dr = `CAST(${r} AS DOUBLE)`;
  if (op === '/' || op === '%') return finite(`(${dl} ${op} ${nonZero(dr, params)})`, params);
  return finite(`(${dl} ${op} ${dr})`, params);
}

/** TIMESTAMP text: ISO-8601 UTC with milliseconds, NULL outside the catalog's range. */
function timestampText(sql: string, params: Parameters): string {
  return letIn(sql, (t) => `CASE WHEN epoch_ms(${t}) BETWEEN ${MIN_TIMESTAMP_MS} AND ${MAX_TIMESTAMP_MS} THEN strftime(${t}, '%Y-%m-%dT%H:%M:%S.%gZ') END`, params);
}

/** The text of a value of type `type`, as `CAST(x AS VARCHAR)` (for `||` and CAST). */
export function textSql(sql: string, type: SqlType, params: Parameters): string {
  switch (type) {
    case 'string': return sql;
    // BIGINT digits, 'true'/'false', and DOUBLE in Python-repr style are DuckDB's own forms,
    // which the hot path reproduces.
    case 'int': case 'boolean': case 'double': return `CAST(${sql} AS VARCHAR)`;
    case 'timestamp': return timestampText(sql, params);
    case 'null': return 'CAST(NULL AS VARCHAR)';
    default: return assertNever(type, 'type');
  }
}

/** The days of month `mo` (1…12) of year `y`, proleptic Gregorian; `y` and `mo` are column-like SQL. */
export function daysInMonthSql(y: string, mo: string): string {
  const leap = `(${y} % 4 = 0 AND (${y} % 100 <> 0 OR ${y} % 400 = 0))`;
  return `CASE WHEN ${mo} = 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END WHEN ${mo} IN (4, 6, 9, 11) THEN 30 ELSE 31 END`;
}

/** Days from 1970-01-01 to a valid date with year ≥ 1 (days_from_civil, integer arithmetic: the hot path's formula). */
export function epochDaysSql(y: string, mo: string, d: string): string {
  const yy = `(${y} - CASE WHEN ${mo} <= 2 THEN 1 ELSE 0 END)`; // ≥ 0: `//` and `%` are floor here
  const doy = `((153 * ((${mo} + 9) % 12) + 2) // 5 + ${d} - 1)`;
  const yoe = `(${yy} % 400)`;
  return `((${yy} // 400) * 146097 + ${yoe} * 365 + ${yoe} // 4 - ${yoe} // 100 + ${doy} - 719468)`;
}

/**
 * Text to TIMESTAMP by {@link TIMESTAMP_TEXT}: the groups are read as numbers, the calendar and
 * clock checked, the epoch milliseconds computed with days_from_civil (integer arithmetic, the
 * hot path's formula) and the offset subtracted; NULL outside the catalog's timestamp range.
 */
function textToTimestampSql(sql: string, params: Parameters): string {
  const groups = TIMESTAMP_GROUPS.map((g) => `'${g}'`).join(', ');
  const extracted = `regexp_extract(${sql}, ${pattern(TIMESTAMP_TEXT)}, [${groups}])`;
  const epochMs = letIn(extracted, (p) => {
    const num = (g: string): string => `coalesce(TRY_CAST(${p}.${g} AS BIGINT), 0)`;
    // No match leaves every group '': y reads NULL and so does the result.
    const parts = `{'y': TRY_CAST(${p}.y AS BIGINT), 'mo': ${num('mo')}, 'd': ${num('d')}, 'h': ${num('h')}, 'mi': ${num('mi')}, 's': ${num('s')}, `
      + `'ms': CAST(left(${p}.f || '000', 3) AS BIGINT), 'oh': ${num('oh')}, 'om': ${num('om')}, 'neg': ${p}.sg = '-'}`;
    return letIn(parts, (q) => {
      const valid = `${q}.y >= 1 AND ${q}.mo BETWEEN 1 AND 12 AND ${q}.d BETWEEN 1 AND ${daysInMonthSql(`${q}.y`, `${q}.mo`)} AND ${q}.h <= 23 AND ${q}.mi <= 59 AND ${q}.s <= 59 AND ${q}.oh <= 23 AND ${q}.om <= 59`;
      const days = epochDaysSql(`${q}.y`, `${q}.mo`, `${q}.d`);
      const offsetMin = `(CASE WHEN ${q}.neg THEN -1 ELSE 1 END * (${q}.oh * 60 + ${q}.om))`;
      return `CASE WHEN ${valid} THEN ${days} * 86400000 + ${q}.h * 3600000 + ${q}.mi * 60000 + ${q}.s * 1000 + ${q}.ms - ${offsetMin} * 60000 END`;
    }, params);
  }, params);
  return `epoch_ms(${keepIf(epochMs, (v) => `${v} BETWEEN ${MIN_TIMESTAMP_MS} AND ${MAX_TIMESTAMP_MS}`, params)})`;
}

/** `CAST(sql AS to)` for `sql` of type `from`, by the table of hot/eval/cast.ts. */
function castSql(sql: string, from: SqlType, to: SqlType, params: Parameters): string {
  if (from === 'null' || to === 'null') return `CAST(NULL AS ${duckType(to)})`;
  if (from === to) return sql;
  switch (to) {
    case 'int':
      if (from === 'string') return intInRange(`TRY_CAST(regexp_extract(${sql}, ${pattern(INT_TEXT)}, 1) AS HUGEINT)`, params);
      // DuckDB's DOUBLE → BIGINT rounds half to even (nearbyint), as the hot path's roundHalfEven.
      if (from === 'double') return intInRange(sql, params);
      if (from === 'boolean') return `CAST(${sql} AS BIGINT)`;
      break;
    case 'double':
      if (from === 'string') return finite(`TRY_CAST(regexp_extract(${sql}, ${pattern(DOUBLE_TEXT)}, 1) AS DOUBLE)`, params);
      if (from === 'int' || from === 'boolean') return `CAST(${sql} AS DOUBLE)`;
      break;
    case 'boolean':
      if (from === 'string') {
        return letIn(sql, (v) => `CASE WHEN regexp_full_match(${v}, ${pattern(TRUE_TEXT)}) THEN TRUE WHEN regexp_full_match(${v}, ${pattern(FALSE_TEXT)}) THEN FALSE END`, params);
      }
      if (from === 'int' || from === 'double') return `(${sql} <> 0)`;
      break;
    case 'string': return textSql(sql, from, params);
    case 'timestamp':
      if (from === 'string') return textToTimestampSql(sql, params);
      break;
    default: return assertNever(to, 'type');
  }
  throw new InternalError(`CAST from ${from} to ${to} reached the DuckDB compiler (the binder rejects it)`);
}

/** Compiles `e` to a DuckDB expression; string values go to `params`, slots are named by `names`. */
export function compileExpr(e: Expr, names: ExprNames, params: Parameters): string {
  const c = (x: Expr): string => compileExpr(x, names, params);
  switch (e.kind) {
    case 'FieldExpr': return names.field(e.path, e.table);
    case 'LiteralExpr': return literal(e, params);
    case 'WindowBoundExpr': return names.bound(e.bound);
    case 'KeyRefExpr': return names.key(e.index);
    case 'AggRefExpr': return names.agg(e.index);
    // Negation never overflows inside ±(2^53 − 1); BIGINT has no −0, DOUBLE keeps it (as the hot path).
    case 'NegateExpr': return `(- ${c(e.operand)})`;
    case 'NotExpr': return `(NOT ${c(e.operand)})`;
    case 'BinaryExpr': {
      const l = c(e.left);
      const r = c(e.right);
      switch (e.op) {
        case '+': case '-': case '*': case '/': case '%': return arithmeticSql(e.op, e.type, l, r, params);
        case '||': return `(${textSql(l, e.left.type, params)} || ${textSql(r, e.right.type, params)})`;
        // VARCHAR compares byte by byte in UTF-8, which is code point order (the hot path's compareText).
        case '=': case '<>': case '<': case '<=': case '>': case '>=': case 'AND': case 'OR': return `(${l} ${e.op} ${r})`;
        default: return assertNever(e.op, 'operator');
      }
    }
    case 'InExpr': return `(${c(e.operand)} ${e.negated ? 'NOT IN' : 'IN'} (${e.list.map(c).join(', ')}))`;
    case 'BetweenExpr': return `(${c(e.operand)} ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${c(e.low)} AND ${c(e.high)})`;
    case 'LikeExpr': {
      const escape = e.escape === undefined ? '' : ` ESCAPE '${e.escape.replace(/'/g, "''")}'`;
      return `(${c(e.operand)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${c(e.pattern)}${escape})`;
    }
    case 'IsNullExpr': return `(${c(e.operand)} IS ${e.negated ? 'NOT NULL' : 'NULL'})`;
    case 'CaseExpr': {
      const whens = e.whens.map((w) => ` WHEN ${c(w.when)} THEN ${c(w.then)}`).join('');
      return `(CASE${e.operand ? ` ${c(e.operand)}` : ''}${whens}${e.otherwise ? ` ELSE ${c(e.otherwise)}` : ''} END)`;
    }
    case 'CastExpr': return castSql(c(e.operand), e.operand.type, e.type, params);
    case 'CoalesceExpr': return `COALESCE(${e.args.map(c).join(', ')})`;
    case 'CallExpr': {
      const fn = COLD_FUNCTIONS[e.fn];
      if (!fn) throw new InternalError(`scalar function ${e.fn}() has no DuckDB compilation`);
      return fn(e, e.args.map(c), params);
    }
    default: return assertNever(e, 'expression');
  }
}
