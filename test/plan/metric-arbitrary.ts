/**
 * fast-check arbitrary of whole metric files over the test catalog's `clicks` stream
 * (fixtures/catalog/clicks.yaml): random windows, group keys, aggregates with FILTER, WHERE and
 * HAVING conditions built from typed expression trees, an optional top-N wrapper, and, now and
 * then, a construct outside the dialect (COLLATE, a type length, an unsupported function or
 * operator, a bad interval). Unlike token mutations, most of these parse, so they exercise the
 * binder and both compilers rather than the parser's error path.
 */
import fc from 'fast-check';

type Gen = fc.Arbitrary<string>;

const pick = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);

/** `arb` once in `oneIn` draws, else undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Constructs outside the dialect, appended to an expression now and then. */
const ODD_SUFFIX = pick(' COLLATE "C"', '::VARCHAR(3)', ' AT TIME ZONE \'UTC\'', '[1]', ' IS DISTINCT FROM NULL', ' ~ \'a\'');

function expressions(): { num: Gen; str: Gen; bool: Gen } {
  const tree = fc.letrec<{ num: string; str: string; bool: string; ts: string }>((tie) => ({
    num: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      pick('amount', 'qty', 'data.latencyMs', 'clicks.qty'),
      pick('0', '1', '-1', '2.5', '1e3', '9007199254740991', '0.1'),
      fc.tuple(tie('num'), pick('+', '-', '*', '/', '%'), tie('num')).map(([a, op, b]) => `(${a} ${op} ${b})`),
      tie('num').map((a) => `-${a}`),
      fc.tuple(tie('num'), pick('DOUBLE', 'BIGINT', 'INTEGER')).map(([a, t]) => `CAST(${a} AS ${t})`),
      fc.tuple(tie('str'), pick('DOUBLE', 'BIGINT')).map(([a, t]) => `CAST(${a} AS ${t})`),
      fc.tuple(tie('num'), tie('num')).map(([a, b]) => `COALESCE(${a}, ${b})`),
      fc.tuple(tie('bool'), tie('num'), tie('num')).map(([c, a, b]) => `CASE WHEN ${c} THEN ${a} ELSE ${b} END`),
    ),
    str: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      pick('kind', 'userId', 'data.page', 'data.geo.country'),
      pick("'buy'", "''", "'it''s'", "'%a_'", "'C:\\temp'", "'é😀'"),
      fc.tuple(tie('str'), tie('str')).map(([a, b]) => `(${a} || ${b})`),
      tie('num').map((a) => `CAST(${a} AS VARCHAR)`),
      fc.tuple(tie('str'), tie('str')).map(([a, b]) => `COALESCE(${a}, ${b})`),
      fc.tuple(tie('str'), tie('str'), tie('str')).map(([x, a, b]) => `CASE ${x} WHEN ${a} THEN ${b} END`),
    ),
    ts: fc.oneof(pick('ts', 'seenAt'), pick("TIMESTAMP '2024-03-15T19:30:00Z'", "'2024-03-15 19:30:00'", "CAST('2024-01-01' AS TIMESTAMP)")),
    bool: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      pick('flag', 'TRUE', 'FALSE', 'NULL'),
      fc.tuple(tie('num'), pick('=', '<>', '<', '<=', '>', '>=', '!='), tie('num')).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(tie('str'), pick('=', '<>', '<'), tie('str')).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(tie('ts'), pick('<', '>=', '='), tie('ts')).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(tie('str'), pick('LIKE', 'NOT LIKE'), pick("'b%'", "'%!%%'", "'_u_'", "'a\\_'"), pick('', " ESCAPE '!'", " ESCAPE '\\'", " ESCAPE ''"))
        .map(([a, op, p, e]) => `${a} ${op} ${p}${e}`),
      fc.tuple(tie('str'), pick('IN', 'NOT IN'), fc.array(tie('str'), { minLength: 1, maxLength: 3 })).map(([a, op, l]) => `${a} ${op} (${l.join(', ')})`),
      fc.tuple(tie('num'), pick('BETWEEN', 'NOT BETWEEN'), tie('num'), tie('num')).map(([a, op, l, h]) => `${a} ${op} ${l} AND ${h}`),
      fc.tuple(pick('kind', 'amount', 'seenAt', 'flag'), pick('IS NULL', 'IS NOT NULL')).map(([a, t]) => `${a} ${t}`),
      tie('bool').map((a) => `NOT (${a})`),
      fc.tuple(tie('bool'), pick('AND', 'OR'), tie('bool')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    ),
  }));
  // Now and then, a construct pitwall has no meaning for.
  const odd = (g: Gen): Gen => fc.tuple(g, sometimes(ODD_SUFFIX, 12)).map(([e, s]) => `${e}${s ?? ''}`);
  return { num: odd(tree.num), str: odd(tree.str), bool: odd(tree.bool) };
}

const { num, str, bool } = expressions();

const WINDOW = pick(
  "TUMBLE(clicks, ts, INTERVAL '1 minute')", "TUMBLE(clicks, ts, INTERVAL '5' MINUTE)", "HOP(clicks, ts, INTERVAL '1 minute', INTERVAL '5 minutes')",
  "SESSION(clicks, ts, INTERVAL '30 seconds')", "HOP(clicks, ts, INTERVAL '1 second', INTERVAL '1 hour')", "TUMBLE(clicks, ts, INTERVAL '1 month')",
  "TUMBLE(clicks, seenAt, INTERVAL '1 minute')", "TUMBLE(clicks, ts, INTERVAL '36500 days')",
);

const aggregate: Gen = fc.oneof(
  pick('COUNT(*)'),
  num.map((x) => `SUM(${x})`), num.map((x) => `AVG(${x})`), num.map((x) => `MIN(${x})`), str.map((x) => `MAX(${x})`),
  str.map((x) => `COUNT(DISTINCT ${x})`), str.map((x) => `COUNT(${x})`), str.map((x) => `approx_count_distinct(${x})`),
  fc.tuple(num, pick('0.5', '0.95', '1', '1.5')).map(([x, q]) => `quantile_cont(${x}, ${q})`),
  fc.tuple(num, pick('0.9')).map(([x, q]) => `approx_quantile(${x}, ${q})`),
);

const filteredAggregate: Gen = fc.tuple(aggregate, sometimes(bool, 3))
  .map(([a, f]) => (f === undefined ? a : `${a} FILTER (WHERE ${f})`));

/** A metric file (text) over `clicks`, named `m`. */
export const metricArb: Gen = fc.record({
  emit: pick('', '-- emit: on_update\n'),
  window: WINDOW,
  keys: fc.uniqueArray(pick('kind', 'userId', 'data.geo.country', 'qty', 'flag'), { maxLength: 2 }),
  aggs: fc.array(filteredAggregate, { minLength: 1, maxLength: 3 }),
  where: sometimes(bool, 2),
  having: sometimes(pick('COUNT(*) > 1', 'SUM(qty) >= 0', 'a0 IS NOT NULL', 'MAX(amount) < 100.5'), 4),
  topN: sometimes(fc.record({
    dir: pick('', ' ASC', ' DESC'), nulls: pick('', ' NULLS FIRST', ' NULLS LAST'), n: pick('1', '3', '3', '0', '99999999999999999999'),
  }), 3),
}).map(({ emit, window, keys, aggs, where, having, topN }) => {
  const keyAliases = keys.map((k) => k.replace(/\./g, '_'));
  const select = ['window_start', 'window_end', ...keys.map((k, i) => (k.includes('.') ? `${k} AS ${keyAliases[i]}` : k)), ...aggs.map((a, i) => `${a} AS a${i}`)];
  const inner = `SELECT ${select.join(', ')}\nFROM ${window}${where ? `\nWHERE ${where}` : ''}\nGROUP BY ${['window_start', 'window_end', ...keys].join(', ')}${having ? `\nHAVING ${having}` : ''}`;
  const body = topN
    ? `SELECT * FROM (\n  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY a0${topN.dir}${topN.nulls}) AS rn\n  FROM (${inner}) AS g\n) AS ranked\nWHERE rn <= ${topN.n}`
    : inner;
  return `${emit}CREATE VIEW m AS\n${body};\n`;
});
