/**
 * Planning of every construct of the SQL dialect (DESIGN.md, "SQL dialect"): one metric file per
 * construct under fixtures/ok, planned against the test catalog in fixtures/catalog. Each test
 * checks the EXPLAIN text (hash masked; the hash has its own tests), the output columns and
 * types, the emit mode, the window and the key columns. The sample metrics of queries/ are
 * planned against catalog/ at the end.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import type { Catalog } from '../../src/catalog/index.js';
import { buildPlan, displayExpr, explainPlan, findNode, loadQueries, walkExpr } from '../../src/plan/index.js';
import type { AggregateCall, Expr, MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const okDir = join(here, 'fixtures', 'ok');
const catalog = loadCatalog(join(here, 'fixtures', 'catalog'));

function planText(file: string, text: string, cat: Catalog = catalog): MetricPlan {
  return buildPlan(parseQuery(file, text), cat);
}

/** Plans fixtures/ok/<name>.sql. */
function plan(name: string): MetricPlan {
  return planText(`${name}.sql`, readFileSync(join(okDir, `${name}.sql`), 'utf8'));
}

/** EXPLAIN with the definition hash masked (it changes with every edit of the fixture). */
function explain(p: MetricPlan): string {
  return explainPlan(p).replace(/hash=[0-9a-f]{16}\]/, 'hash=…]');
}

const columns = (p: MetricPlan): string[] => p.columns.map((c) => `${c.name} ${c.type}`);

function aggregates(p: MetricPlan): readonly AggregateCall[] {
  const node = findNode(p.root, 'AggregateNode');
  if (!node) throw new Error('no AggregateNode');
  return node.aggregates;
}

function filterPredicate(p: MetricPlan): Expr {
  const node = findNode(p.root, 'FilterNode');
  if (!node) throw new Error('no FilterNode');
  return node.predicate;
}

/** Every literal value of an expression tree, in order. */
function literals(e: Expr): unknown[] {
  const out: unknown[] = [];
  walkExpr(e, (x) => { if (x.kind === 'LiteralExpr') out.push(x.value); });
  return out;
}

/** The fixtures of fixtures/ok, each planned by a test below. */
const OK_FIXTURES = [
  'aggregates', 'aggregates-filter', 'cumulate', 'group-by-alias', 'group-by-ordinal', 'having-expressions', 'hop',
  'lookup-join', 'lookup-join-left', 'nested-fields', 'session', 'string-literals', 'topn-cumulate', 'topn-inline',
  'topn-three-level', 'tumble', 'where-arithmetic', 'where-boolean-logic',
  'where-case-cast-coalesce', 'where-comparisons', 'where-predicates', 'where-timestamps',
];

describe('windows', () => {
  it('TUMBLE: default emit, window bounds and a nested key', () => {
    const p = plan('tumble');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric page_views_5m [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, page string, views int)
        Project: window_start, window_end, page, views
          Aggregate: group=[window, page := data.page] aggregates=[views := count(*)]
            WindowAssign: TUMBLE(size=5m) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(p.name).toBe('page_views_5m');
    expect(p.emit).toBe('on_window_close');
    expect(p.window).toEqual({ type: 'tumble', sizeMs: 300_000 });
    expect(columns(p)).toEqual(['window_start timestamp', 'window_end timestamp', 'page string', 'views int']);
    expect(p.keyColumns).toEqual([2]);
    expect(p.stream.name).toBe('clicks');
    expect(p.file).toBe('tumble.sql');
  });

  it("HOP with INTERVAL '<n>' UNIT, emit on_update", () => {
    const p = plan('hop');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric kinds_hop [emit=on_update, hash=…] -> (window_start timestamp, window_end timestamp, kind string, events int)
        Project: window_start, window_end, kind, events
          Aggregate: group=[window, kind] aggregates=[events := count(*)]
            WindowAssign: HOP(slide=30s, size=2m) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(p.emit).toBe('on_update');
    expect(p.window).toEqual({ type: 'hop', slideMs: 30_000, sizeMs: 120_000 });
    expect(p.keyColumns).toEqual([2]);
  });

  it('CUMULATE with a negative offset: window_end identifies the row with the key', () => {
    const p = plan('cumulate');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric kinds_today [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, kind string, events int)
        Project: window_start, window_end, kind, events
          Aggregate: group=[window, kind] aggregates=[events := count(*)]
            WindowAssign: CUMULATE(step=1h, size=1d, offset=-5h) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(p.window).toEqual({ type: 'cumulate', stepMs: 3_600_000, sizeMs: 86_400_000, offsetMs: -18_000_000 });
    expect(p.keyColumns).toEqual([1, 2]);
  });

  it('CUMULATE top-N ranks per (window_start, window_end)', () => {
    const p = plan('topn-cumulate');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric top_pages_this_hour [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, page string, views int, rn int)
        TopN: per window, ORDER BY views DESC, limit=3, rank=rn
          Project: window_start, window_end, page, views
            Aggregate: group=[window, page := data.page] aggregates=[views := count(*)]
              WindowAssign: CUMULATE(step=10m, size=1h) on ts
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(p.window).toEqual({ type: 'cumulate', stepMs: 600_000, sizeMs: 3_600_000 });
    expect(columns(p)).toEqual(['window_start timestamp', 'window_end timestamp', 'page string', 'views int', 'rn int']);
    expect(p.keyColumns).toEqual([1, 2]);
  });

  it('SESSION per key, explicit on_window_close, stream settings at their defaults', () => {
    const p = plan('session');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric payment_sessions [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, userId string, payments int, spent double)
        Project: window_start, window_end, userId, payments, spent
          Aggregate: group=[window, userId] aggregates=[payments := count(*), spent := sum(total)]
            WindowAssign: SESSION(gap=15m) on paidAt
              Scan: payments (topic=payments, event_id=paymentId, event_time=paidAt, watermark_delay=0s, allowed_lateness=0s, dedup_ttl=1h)"
    `);
    expect(p.emit).toBe('on_window_close');
    expect(p.window).toEqual({ type: 'session', gapMs: 900_000 });
    expect(columns(p)).toEqual(['window_start timestamp', 'window_end timestamp', 'userId string', 'payments int', 'spent double']);
    expect(p.keyColumns).toEqual([2]);
  });
});

describe('WHERE', () => {
  it('comparisons = <> != < <= > >= (!= reads as <>)', () => {
    const p = plan('where-comparisons');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric comparisons [emit=on_window_close, hash=…] -> (window_start timestamp, n int)
        Project: window_start, n
          Aggregate: group=[window] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (((((((qty = 1) AND (qty <> 2)) AND (qty <> 3)) AND (amount < 9.5)) AND (amount <= 10)) AND (qty > 0)) AND (qty >= -1))
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(p.keyColumns).toEqual([]);
  });

  it('AND / OR / NOT with SQL precedence (AND binds tighter than OR)', () => {
    const p = plan('where-boolean-logic');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric boolean_logic [emit=on_window_close, hash=…] -> (window_start timestamp, n int)
        Project: window_start, n
          Aggregate: group=[window] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (((NOT ((kind = 'bot')) AND (flag OR ((qty > 1) AND (amount > 0)))) AND NOT (flag)) OR ((kind = 'vip') AND (qty > 0)))
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
  });

  it('arithmetic + - * / % and unary minus; / is always double', () => {
    const p = plan('where-arithmetic');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric arithmetic [emit=on_window_close, hash=…] -> (window_start timestamp, n int)
        Project: window_start, n
          Aggregate: group=[window] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: ((((((((qty + 1) > 2) AND ((qty - 1) < 5)) AND ((qty * 2) = 4)) AND ((amount / 2) > 0.5)) AND ((qty % 2) = 0)) AND (-amount < 0)) AND (-(qty * 2) < amount))
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    const pred = filterPredicate(p);
    const divisions: Expr[] = [];
    const walk = (e: Expr): void => {
      if (e.kind === 'BinaryExpr') {
        if (e.op === '/') divisions.push(e);
        walk(e.left);
        walk(e.right);
      }
    };
    walk(pred);
    expect(divisions.map((d) => d.type)).toEqual(['double']);
  });

  it('IN / NOT IN, BETWEEN / NOT BETWEEN, LIKE / NOT LIKE, IS [NOT] NULL', () => {
    const p = plan('where-predicates');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric predicates [emit=on_window_close, hash=…] -> (window_start timestamp, n int)
        Project: window_start, n
          Aggregate: group=[window] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (((((((kind IN ('view', 'buy') AND qty NOT IN (1, 2, 3)) AND amount BETWEEN 1 AND 10.5) AND qty NOT BETWEEN 5 AND 6) AND data.page LIKE '/shop/%') AND kind NOT LIKE 'debug_%') AND userId IS NOT NULL) AND seenAt IS NULL)
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
  });

  it('CASE (searched and simple), CAST, COALESCE', () => {
    const p = plan('where-case-cast-coalesce');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric case_cast_coalesce [emit=on_window_close, hash=…] -> (window_start timestamp, n int)
        Project: window_start, n
          Aggregate: group=[window] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (((((((CASE WHEN (qty > 1) THEN 'many' WHEN (qty = 1) THEN 'one' ELSE 'none' END = 'many') AND (CASE kind WHEN 'view' THEN 1 WHEN 'buy' THEN 2 END = 2)) AND (CAST(qty AS double) > 1.5)) AND (CAST(amount AS int) = 3)) AND (CAST(qty AS string) = '3')) AND (COALESCE(userId, 'anonymous') <> 'anonymous')) AND (COALESCE(amount, qty, 0) > 0))
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
  });

  it("timestamps compared with a string literal and with TIMESTAMP '…' (read as UTC epoch ms at plan time)", () => {
    const p = plan('where-timestamps');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric march_clicks [emit=on_window_close, hash=…] -> (window_start timestamp, n int)
        Project: window_start, n
          Aggregate: group=[window] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (((ts >= TIMESTAMP '2024-03-15T19:30:00.000Z') AND (ts < TIMESTAMP '2024-03-16T00:00:00.000Z')) AND seenAt BETWEEN TIMESTAMP '2024-03-15T00:00:00.000Z' AND TIMESTAMP '2024-03-16T00:00:00.000Z')
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(literals(filterPredicate(p))).toEqual([
      Date.UTC(2024, 2, 15, 19, 30),
      Date.UTC(2024, 2, 16),
      Date.UTC(2024, 2, 15),
      Date.UTC(2024, 2, 16), // 02:00 at +02:00 is midnight UTC
    ]);
  });

  it('nested data.field paths, qualified by the stream name or the FROM alias', () => {
    const p = plan('nested-fields');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric latency_by_country [emit=on_window_close, hash=…] -> (window_start timestamp, country string, avg_latency double, max_latency double)
        Project: window_start, country, avg_latency, max_latency
          Aggregate: group=[window, country := data.geo.country] aggregates=[avg_latency := avg(data.latencyMs), max_latency := max(data.latencyMs)]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (((data.page <> '/health') AND (kind = 'view')) AND data.geo.country IS NOT NULL)
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(columns(p)).toEqual(['window_start timestamp', 'country string', 'avg_latency double', 'max_latency double']);
    expect(p.keyColumns).toEqual([1]);
  });

  it("string literals: a doubled quote ('it''s') is one quote in the value", () => {
    const p = plan('string-literals');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric quoted [emit=on_window_close, hash=…] -> (window_start timestamp, its int)
        Project: window_start, its
          Aggregate: group=[window] aggregates=[its := count(*) FILTER (WHERE (data.page = '/it''s'))]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: kind IN ('view', 'o''clock')
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(literals(filterPredicate(p))).toEqual(['view', "o'clock"]);
    const filter = aggregates(p)[0]?.filter;
    expect(filter && literals(filter)).toEqual(["/it's"]);
  });
});

describe('aggregates', () => {
  it('every aggregate function, with its result type', () => {
    const p = plan('aggregates');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric every_aggregate [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, n int, with_user int, users int, qty_sum int, amount_sum double, qty_avg double, min_amount double, last_ts timestamp, first_kind string, approx_users int, p50 double, p99 double)
        Project: window_start, window_end, n, with_user, users, qty_sum, amount_sum, qty_avg, min_amount, last_ts, first_kind, approx_users, p50, p99
          Aggregate: group=[window] aggregates=[n := count(*), with_user := count(userId), users := count(DISTINCT userId), qty_sum := sum(qty), amount_sum := sum(amount), qty_avg := avg(qty), min_amount := min(amount), last_ts := max(ts), first_kind := min(kind), approx_users := approx_count_distinct(userId), p50 := quantile_cont(data.latencyMs, 0.5), p99 := approx_quantile(amount, 0.99)]
            WindowAssign: TUMBLE(size=1m) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(aggregates(p).map((a) => [a.name, a.fn, a.type, a.quantile])).toEqual([
      ['n', 'count_star', 'int', undefined],
      ['with_user', 'count', 'int', undefined],
      ['users', 'count_distinct', 'int', undefined],
      ['qty_sum', 'sum', 'int', undefined],
      ['amount_sum', 'sum', 'double', undefined],
      ['qty_avg', 'avg', 'double', undefined],
      ['min_amount', 'min', 'double', undefined],
      ['last_ts', 'max', 'timestamp', undefined],
      ['first_kind', 'min', 'string', undefined],
      ['approx_users', 'approx_count_distinct', 'int', undefined],
      ['p50', 'quantile_cont', 'double', 0.5],
      ['p99', 'approx_quantile', 'double', 0.99],
    ]);
    expect(p.keyColumns).toEqual([]);
  });

  it('every aggregate function with FILTER (WHERE …)', () => {
    const p = plan('aggregates-filter');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric every_aggregate_filtered [emit=on_window_close, hash=…] -> (window_start timestamp, buys int, flagged int, buyers int, revenue double, avg_amount double, min_qty int, max_qty int, viewers int, p90_amount double, p25_latency double)
        Project: window_start, buys, flagged, buyers, revenue, avg_amount, min_qty, max_qty, viewers, p90_amount, p25_latency
          Aggregate: group=[window] aggregates=[buys := count(*) FILTER (WHERE (kind = 'buy')), flagged := count(userId) FILTER (WHERE flag), buyers := count(DISTINCT userId) FILTER (WHERE (kind = 'buy')), revenue := sum(amount) FILTER (WHERE (kind = 'buy')), avg_amount := avg(amount) FILTER (WHERE (amount > 0)), min_qty := min(qty) FILTER (WHERE (qty > 0)), max_qty := max(qty) FILTER (WHERE (qty < 100)), viewers := approx_count_distinct(userId) FILTER (WHERE (kind = 'view')), p90_amount := quantile_cont(amount, 0.9) FILTER (WHERE (kind = 'buy')), p25_latency := approx_quantile(data.latencyMs, 0.25) FILTER (WHERE data.page LIKE '/shop/%')]
            WindowAssign: TUMBLE(size=1m) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    const aggs = aggregates(p);
    expect(aggs.map((a) => a.fn)).toEqual([
      'count_star', 'count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'approx_count_distinct', 'quantile_cont', 'approx_quantile',
    ]);
    expect(aggs.every((a) => a.filter?.type === 'boolean')).toBe(true);
    expect(aggs.map((a) => a.quantile)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 0.9, 0.25]);
  });

  it('HAVING and expressions over aggregates; repeated aggregates are computed once', () => {
    const p = plan('having-expressions');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric kind_stats [emit=on_window_close, hash=…] -> (window_start timestamp, kind string, n int, avg_amount double, odd int, negated int, max_or_zero double, load string)
        Project: window_start, kind, n, avg_amount := (_agg1 / n), odd := ((n * 2) + 1), negated := -_agg2, max_or_zero := COALESCE(_agg3, 0), load := CASE WHEN (n > 100) THEN 'busy' ELSE 'quiet' END
          Having: (((n > 10) AND (_agg3 < 1000)) AND (kind <> 'bot'))
            Aggregate: group=[window, kind] aggregates=[n := count(*), _agg1 := sum(amount), _agg2 := sum(qty), _agg3 := max(amount)]
              WindowAssign: TUMBLE(size=1m) on ts
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(columns(p)).toEqual([
      'window_start timestamp', 'kind string', 'n int', 'avg_amount double', 'odd int', 'negated int', 'max_or_zero double', 'load string',
    ]);
    // COUNT(*) appears five times and is one aggregate; SUM(amount), SUM(qty), MAX(amount) one each.
    expect(aggregates(p).map((a) => a.name)).toEqual(['n', '_agg1', '_agg2', '_agg3']);
    expect(p.keyColumns).toEqual([1]);
  });
});

describe('GROUP BY', () => {
  it('by ordinal', () => {
    const p = plan('group-by-ordinal');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric by_ordinal [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, kind string, page string, n int)
        Project: window_start, window_end, kind, page, n
          Aggregate: group=[window, kind, page := data.page] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(p.keyColumns).toEqual([2, 3]);
  });

  it('by SELECT alias (of a field and of an expression)', () => {
    const p = plan('group-by-alias');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric by_alias [emit=on_window_close, hash=…] -> (window_start timestamp, country string, bucket int, n int)
        Project: window_start, country, bucket, n
          Aggregate: group=[window, country := data.geo.country, bucket := (qty % 10)] aggregates=[n := count(*)]
            WindowAssign: TUMBLE(size=1m) on ts
              Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    expect(columns(p)).toEqual(['window_start timestamp', 'country string', 'bucket int', 'n int']);
    expect(p.keyColumns).toEqual([1, 2]);
  });
});

describe('top-N per window', () => {
  it('ROW_NUMBER() in the aggregate query, wrapped once; rn < N keeps N - 1 rows', () => {
    const p = plan('topn-inline');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric top_pages [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, page string, views int, rn int)
        TopN: per window, ORDER BY views DESC, limit=3, rank=rn
          Project: window_start, window_end, page, views
            Aggregate: group=[window, page := data.page] aggregates=[views := count(*)]
              WindowAssign: TUMBLE(size=1m) on ts
                Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    const top = findNode(p.root, 'TopNNode');
    expect(top?.limit).toBe(3);
    expect(top?.rankColumn).toBe('rn');
    expect(top?.orderBy).toEqual([{ column: 3, descending: true, nullsFirst: false }]);
    expect(columns(p)).toEqual(['window_start timestamp', 'window_end timestamp', 'page string', 'views int', 'rn int']);
    expect(p.keyColumns).toEqual([2]);
  });

  it('three levels (aggregate, rank, keep) with rn <= N and a column list without the rank', () => {
    const p = plan('topn-three-level');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric top_spenders [emit=on_update, hash=…] -> (window_start timestamp, userId string, spent double, purchases int)
        TopN: per window, ORDER BY spent DESC, userId ASC, limit=5
          Project: window_start, window_end, userId, spent, purchases
            Aggregate: group=[window, userId] aggregates=[spent := sum(amount), purchases := count(*)]
              WindowAssign: HOP(slide=1m, size=10m) on ts
                Filter: (kind = 'buy')
                  Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    const top = findNode(p.root, 'TopNNode');
    expect(top?.limit).toBe(5);
    expect(top?.rankColumn).toBeUndefined();
    expect(top?.columns).toEqual([0, 2, 3, 4]);
    expect(top?.orderBy).toEqual([{ column: 3, descending: true, nullsFirst: false }, { column: 2, descending: false, nullsFirst: false }]);
    expect(p.emit).toBe('on_update');
    expect(p.window).toEqual({ type: 'hop', slideMs: 60_000, sizeMs: 600_000 });
    expect(columns(p)).toEqual(['window_start timestamp', 'userId string', 'spent double', 'purchases int']);
    expect(p.keyColumns).toEqual([1]);
  });

  it('each shape takes rn <= N and rn < N; rn = 1 and N >= rn work too', () => {
    const limit = (name: string, filter: string): number | undefined => {
      const text = readFileSync(join(okDir, `${name}.sql`), 'utf8').replace(/WHERE rn .*;/, `WHERE ${filter};`);
      return findNode(planText(`${name}.sql`, text).root, 'TopNNode')?.limit;
    };
    expect([limit('topn-inline', 'rn <= 4'), limit('topn-inline', 'rn < 4'), limit('topn-inline', 'rn = 1'), limit('topn-inline', '7 >= rn')]).toEqual([4, 3, 1, 7]);
    expect([limit('topn-three-level', 'rn <= 2'), limit('topn-three-level', 'rn < 2'), limit('topn-three-level', '2 > rn')]).toEqual([2, 1, 1]);
  });
});

describe('definition hash', () => {
  const text = readFileSync(join(okDir, 'tumble.sql'), 'utf8');

  it('is 16 hex digits, stable, and ignores the file name and surrounding whitespace', () => {
    const a = planText('a.sql', text);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(planText('b.sql', `\n${text}\n\n`).hash).toBe(a.hash);
  });

  it('changes with the SQL and with the stream settings results depend on', () => {
    const a = planText('a.sql', text);
    expect(planText('a.sql', text.replace("'5 minutes'", "'10 minutes'")).hash).not.toBe(a.hash);
    const clicks = catalog.streams.get('clicks');
    if (!clicks) throw new Error('clicks missing');
    const later: Catalog = { ...catalog, streams: new Map([...catalog.streams, ['clicks', { ...clicks, allowedLatenessMs: 60_000 }]]) };
    expect(planText('a.sql', text, later).hash).not.toBe(a.hash);
  });
});

describe('lookup joins', () => {
  it('JOIN a reference table: its columns by alias or alone, in WHERE, GROUP BY and aggregates', () => {
    const p = plan('lookup-join');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric clicks_by_country [emit=on_window_close, hash=…] -> (window_start timestamp, country string, n int, top_tier int, weighted double)
        Project: window_start, country, n, top_tier, weighted
          Aggregate: group=[window, country := users.country] aggregates=[n := count(*), top_tier := max(users.tier), weighted := sum((amount * users.tier))]
            WindowAssign: TUMBLE(size=1m) on ts
              Filter: (users.tier IS NULL OR (users.tier > 1))
                LookupJoin: INNER users (key=userId, valid_from=since) ON users.userId = userId AS OF event time
                  Scan: clicks (topic=web-clicks, event_id=id, event_time=ts, watermark_delay=2s, allowed_lateness=10s, dedup_ttl=30m)"
    `);
    const lj = findNode(p.root, 'LookupJoinNode');
    expect([lj?.joinType, lj?.table.name, lj?.probe]).toEqual(['inner', 'users', { kind: 'FieldExpr', path: 'userId', type: 'string' }]);
    expect(columns(p)).toEqual(['window_start timestamp', 'country string', 'n int', 'top_tier int', 'weighted double']);
  });

  it('LEFT JOIN with the key on the left of = and an expression as the probe', () => {
    const p = plan('lookup-join-left');
    const lj = findNode(p.root, 'LookupJoinNode');
    expect(lj?.joinType).toBe('left');
    expect(displayExpr(lj?.probe as Expr)).toMatchInlineSnapshot(`"((kind || '-') || data.page)"`);
    expect(p.window.type).toBe('hop');
  });

  it('the definition hash depends on the joined table', () => {
    const text = readFileSync(join(okDir, 'lookup-join.sql'), 'utf8');
    const users = catalog.streams.get('users');
    if (!users?.table) throw new Error('users missing');
    const other: Catalog = { ...catalog, streams: new Map([...catalog.streams, ['users', { ...users, table: { ...users.table, validFrom: 'tier' } }]]) };
    expect(planText('a.sql', text, other).hash).not.toBe(planText('a.sql', text).hash);
  });
});

describe('fixtures', () => {
  it('fixtures/ok holds exactly the fixtures planned above', () => {
    const files = readdirSync(okDir).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -'.sql'.length)).sort();
    expect(files).toEqual([...OK_FIXTURES].sort());
  });
});

describe('sample metrics (queries/ against catalog/)', () => {
  const root = resolve(here, '..', '..');
  const plans = loadQueries(join(root, 'queries'), loadCatalog(join(root, 'catalog')));
  const byName = new Map(plans.map((p) => [p.name, p]));
  const summary = (name: string): { stream: string; emit: string; window: unknown; columns: string[]; keys: readonly number[] } => {
    const p = byName.get(name);
    if (!p) throw new Error(`no metric ${name}`);
    return { stream: p.stream.name, emit: p.emit, window: p.window, columns: columns(p), keys: p.keyColumns };
  };

  it('plans all eleven', () => {
    expect(plans.map((p) => p.name)).toEqual([
      'attendee_visits', 'courier_sessions', 'highlight_plays_1m', 'nexmark_q5_hot_items', 'nexmark_q7_highest_bid', 'order_funnel_1m',
      'restaurant_orders_5m', 'room_fill_1m', 'room_occupancy_1m', 'team_damage_30s', 'top_restaurants_10m',
    ]);
  });

  it('room_fill_1m: a lookup join to the rooms table', () => {
    expect(summary('room_fill_1m')).toEqual({
      stream: 'badge_scans', emit: 'on_window_close', window: { type: 'tumble', sizeMs: 60_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'room string', 'capacity int', 'entries int', 'fill_ratio double', 'vip_entries int'], keys: [2],
    });
    expect(findNode(plans.find((p) => p.name === 'room_fill_1m')?.root as MetricPlan['root'], 'LookupJoinNode')?.table.name).toBe('rooms');
  });

  it('nexmark_q5_hot_items', () => {
    expect(summary('nexmark_q5_hot_items')).toEqual({
      stream: 'nexmark', emit: 'on_window_close', window: { type: 'hop', slideMs: 2000, sizeMs: 10_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'auction int', 'bids int', 'rn int'], keys: [2],
    });
  });

  it('nexmark_q7_highest_bid', () => {
    expect(summary('nexmark_q7_highest_bid')).toEqual({
      stream: 'nexmark', emit: 'on_update', window: { type: 'tumble', sizeMs: 10_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'max_price int', 'bids int'], keys: [],
    });
  });

  it('attendee_visits', () => {
    expect(summary('attendee_visits')).toEqual({
      stream: 'badge_scans', emit: 'on_window_close', window: { type: 'session', gapMs: 1_200_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'attendee_id string', 'rooms_visited int', 'scans int'], keys: [2],
    });
  });

  it('courier_sessions', () => {
    expect(summary('courier_sessions')).toEqual({
      stream: 'orders', emit: 'on_window_close', window: { type: 'session', gapMs: 900_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'courier_id string', 'events int', 'deliveries int', 'first_event timestamp', 'last_event timestamp'],
      keys: [2],
    });
  });

  it('highlight_plays_1m', () => {
    expect(summary('highlight_plays_1m')).toEqual({
      stream: 'match_events', emit: 'on_window_close', window: { type: 'tumble', sizeMs: 60_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'match_id string', 'highlights int', 'highlight_share double', 'biggest_hit double'],
      keys: [2],
    });
  });

  it('order_funnel_1m', () => {
    expect(summary('order_funnel_1m')).toEqual({
      stream: 'orders', emit: 'on_update', window: { type: 'tumble', sizeMs: 60_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'created int', 'delivered int', 'cancelled int', 'customers int', 'avg_basket double'],
      keys: [],
    });
  });

  it('restaurant_orders_5m', () => {
    expect(summary('restaurant_orders_5m')).toEqual({
      stream: 'orders', emit: 'on_window_close', window: { type: 'tumble', sizeMs: 300_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'restaurant_id string', 'orders int', 'revenue double', 'p95_prep double'],
      keys: [2],
    });
  });

  it('room_occupancy_1m', () => {
    expect(summary('room_occupancy_1m')).toEqual({
      stream: 'badge_scans', emit: 'on_update', window: { type: 'hop', slideMs: 60_000, sizeMs: 300_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'room_id string', 'net_entries int', 'unique_attendees int', 'vip_scans int'],
      keys: [2],
    });
  });

  it('team_damage_30s', () => {
    expect(summary('team_damage_30s')).toEqual({
      stream: 'match_events', emit: 'on_update', window: { type: 'tumble', sizeMs: 30_000 },
      columns: [
        'window_start timestamp', 'window_end timestamp', 'match_id string', 'team_id string', 'damage double', 'peak_hit double',
        'min_hit double', 'p99_latency_ms double', 'gold int',
      ],
      keys: [2, 3],
    });
  });

  it('top_restaurants_10m', () => {
    expect(summary('top_restaurants_10m')).toEqual({
      stream: 'orders', emit: 'on_window_close', window: { type: 'hop', slideMs: 120_000, sizeMs: 600_000 },
      columns: ['window_start timestamp', 'window_end timestamp', 'restaurant_id string', 'orders int', 'revenue double', 'rn int'],
      keys: [2],
    });
  });

  it('EXPLAIN of the top-N sample', () => {
    const p = byName.get('top_restaurants_10m');
    if (!p) throw new Error('missing');
    expect(explain(p)).toMatchInlineSnapshot(`
      "Metric top_restaurants_10m [emit=on_window_close, hash=…] -> (window_start timestamp, window_end timestamp, restaurant_id string, orders int, revenue double, rn int)
        TopN: per window, ORDER BY orders DESC, revenue DESC, limit=3, rank=rn
          Project: window_start, window_end, restaurant_id, orders, revenue
            Aggregate: group=[window, restaurant_id := data.restaurantId] aggregates=[orders := count(*), revenue := sum(data.orderTotal)]
              WindowAssign: HOP(slide=2m, size=10m) on eventTime
                Filter: ((eventType = 'order.created') AND data.restaurantId IS NOT NULL)
                  Scan: orders (topic=orders, event_id=eventId, event_time=eventTime, watermark_delay=5s, allowed_lateness=0s, dedup_ttl=1h)"
    `);
  });
});
