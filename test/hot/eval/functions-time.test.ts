/**
 * The time functions: date_trunc, date_part, epoch_ms, make_timestamp, time_bucket and timezone,
 * their values written out on the edges (year 1, year 9999, before 1970, ISO weeks, DST
 * transitions, local mean time), checked on both paths, and hot == cold over random rows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayExpr, type Expr } from '../../../src/plan/index.js';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../../src/util/timestamp.js';
import { ints, orNull, rows, timestamps } from '../../support/scalar-arbitraries.js';
import { call, evalCold, evalHot, field, lit, parityDiffs } from '../../support/scalar-parity.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);
const ts = (iso: string): Expr => lit(Date.parse(iso), 'timestamp');
const s = (v: string): Expr => lit(v, 'string');
const i = (v: number): Expr => lit(v, 'int');
const d = (v: number): Expr => lit(v, 'double');
const at = (iso: string): number => Date.parse(iso);
const bucket = (ms: number, t: Expr, origin?: Expr): Expr => call('time_bucket', origin ? [i(ms), t, origin] : [i(ms), t]);

const EDGES: readonly (readonly [Expr, number | null])[] = [
  [call('date_trunc', [s('week'), ts('2024-01-07T10:00:00Z')]), at('2024-01-01T00:00:00Z')],
  [call('date_trunc', [s('week'), ts('0001-01-01T05:00:00Z')]), MIN_TIMESTAMP_MS],
  [call('date_trunc', [s('Quarters'), ts('2024-08-15T10:00:00Z')]), at('2024-07-01T00:00:00Z')],
  [call('date_trunc', [s('second'), lit(-1, 'timestamp')]), -1000],
  [call('date_trunc', [s('year'), lit(MAX_TIMESTAMP_MS, 'timestamp')]), at('9999-01-01T00:00:00Z')],
  [call('date_trunc', [s('month'), ts('0099-03-31T23:00:00Z')]), at('0099-03-01T00:00:00Z')],
  [call('date_part', [s('second'), ts('2024-01-01T10:11:12.345Z')]), 12],
  [call('date_part', [s('millisecond'), ts('2024-01-01T10:11:12.345Z')]), 12345],
  [call('date_part', [s('epoch'), ts('2024-01-01T10:11:12.345Z')]), 1704103872.345],
  [call('date_part', [s('epoch'), ts('0001-01-01T00:00:00.001Z')]), -62135596799.999],
  [call('date_part', [s('dow'), ts('2024-01-07T00:00:00Z')]), 0], [call('date_part', [s('isodow'), ts('2024-01-07T00:00:00Z')]), 7],
  [call('date_part', [s('week'), ts('2021-01-01T00:00:00Z')]), 53], [call('date_part', [s('week'), ts('0001-01-01T00:00:00Z')]), 1],
  [call('date_part', [s('doy'), ts('2024-12-31T00:00:00Z')]), 366], [call('date_part', [s('quarter'), ts('2024-12-31T00:00:00Z')]), 4],
  [call('date_part', [s('year'), lit(MIN_TIMESTAMP_MS, 'timestamp')]), 1], [call('date_part', [s('millisecond'), lit(-1, 'timestamp')]), 59999],
  [call('epoch_ms', [ts('1970-01-01T00:00:01Z')]), 1000], [call('epoch_ms', [i(MIN_TIMESTAMP_MS - 1)]), null],
  [call('epoch_ms', [i(MAX_TIMESTAMP_MS)]), MAX_TIMESTAMP_MS], [call('epoch_ms', [i(MAX_TIMESTAMP_MS + 1)]), null],
  [call('make_timestamp', [i(2024), i(2), i(29), i(23), i(59), d(59.9999)]), at('2024-02-29T23:59:59.999Z')],
  [call('make_timestamp', [i(2023), i(2), i(29), i(0), i(0), d(0)]), null], [call('make_timestamp', [i(2024), i(13), i(1), i(0), i(0), d(0)]), null],
  [call('make_timestamp', [i(2024), i(1), i(1), i(24), i(0), d(0)]), null], [call('make_timestamp', [i(2024), i(1), i(1), i(0), i(0), d(-0.001)]), null],
  [call('make_timestamp', [i(2024), i(1), i(1), i(0), i(0), d(60)]), at('2024-01-01T00:01:00Z')],
  [call('make_timestamp', [i(9999), i(12), i(31), i(23), i(59), d(60)]), null], [call('make_timestamp', [i(1), i(1), i(1), i(0), i(0), d(0)]), MIN_TIMESTAMP_MS],
  [call('make_timestamp', [i(Number.MAX_SAFE_INTEGER), i(1), i(1), i(0), i(0), d(0)]), null],
  [bucket(7 * 86_400_000, ts('2024-01-07T00:00:00Z')), at('2024-01-01T00:00:00Z')],
  [bucket(86_400_000, ts('0001-01-01T05:00:00Z')), MIN_TIMESTAMP_MS],
  [bucket(7 * 86_400_000, ts('0001-01-01T05:00:00Z')), MIN_TIMESTAMP_MS],
  [bucket(5_400_000, ts('1969-12-31T23:59:59.999Z'), ts('2024-01-01T00:15:00Z')), at('1969-12-31T22:45:00Z')],
  [bucket(3 * 86_400_000, ts('0001-01-02T00:00:00Z')), null],
  [call('timezone', [s('America/New_York'), ts('2024-07-01T12:00:00Z')]), at('2024-07-01T08:00:00Z')],
  [call('timezone', [s('america/new_york'), ts('2024-01-01T12:00:00Z')]), at('2024-01-01T07:00:00Z')],
  // DST: 2024-03-10 07:00 UTC is 03:00 EDT, one ms before it 01:59:59.999 EST.
  [call('timezone', [s('America/New_York'), ts('2024-03-10T07:00:00Z')]), at('2024-03-10T03:00:00Z')],
  [call('timezone', [s('America/New_York'), ts('2024-03-10T06:59:59.999Z')]), at('2024-03-10T01:59:59.999Z')],
  [call('timezone', [s('Europe/Paris'), ts('2024-10-27T00:59:59.999Z')]), at('2024-10-27T02:59:59.999Z')],
  [call('timezone', [s('Europe/Paris'), ts('2024-10-27T01:00:00Z')]), at('2024-10-27T02:00:00Z')],
  // Local mean time (−4:56:02) before 1883, also before the Gregorian reform; year 1 falls before 0001-01-01.
  [call('timezone', [s('America/New_York'), ts('1800-01-01T00:00:00Z')]), at('1799-12-31T19:03:58Z')],
  [call('timezone', [s('America/New_York'), ts('1500-01-01T00:00:00Z')]), at('1499-12-31T19:03:58Z')],
  [call('timezone', [s('America/New_York'), ts('0001-01-01T03:00:00Z')]), null],
  [call('timezone', [s('Asia/Tokyo'), lit(MAX_TIMESTAMP_MS, 'timestamp')]), null],
  [call('timezone', [s('Asia/Kolkata'), ts('2024-01-01T00:00:00Z')]), at('2024-01-01T05:30:00Z')],
];

const ZONES = ['UTC', 'America/New_York', 'Europe/Paris', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Apia', 'Europe/Dublin', 'Africa/Casablanca', 'America/Sao_Paulo'];
const PROPS: readonly Expr[] = [
  ...['millisecond', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'].map((u) => call('date_trunc', [s(u), field('t')])),
  ...['year', 'quarter', 'month', 'day', 'hour', 'minute', 'second', 'millisecond', 'dow', 'isodow', 'doy', 'week', 'epoch'].map((u) => call('date_part', [s(u), field('t')])),
  call('epoch_ms', [field('t')]), call('epoch_ms', [field('i')]),
  bucket(1000, field('t')), bucket(5_400_000, field('t')), bucket(86_400_000, field('t')), bucket(7 * 86_400_000, field('t')), bucket(3 * 86_400_000 + 7, field('t'), field('t2')),
];

/** Rows where make_timestamp's parts are near or at their limits. */
const partRows = fc.array(fc.record({
  i: orNull(fc.oneof(fc.integer({ min: -1, max: 10_000 }), fc.constantFrom(1, 1970, 2024, 9999), ints)),
  i2: orNull(fc.integer({ min: -1, max: 32 })),
  d: orNull(fc.oneof(fc.double({ min: -1, max: 61, noNaN: true }), fc.constantFrom(0, 59.9999, 60, 60.0001, -0, 0.0005))),
  t: orNull(timestamps),
}), { minLength: 1, maxLength: 60 });
const MAKE: readonly Expr[] = [
  call('make_timestamp', [field('i'), field('i2'), field('i2'), field('i2'), field('i2'), field('d')]),
  call('make_timestamp', [field('i'), i(2), field('i2'), i(23), i(59), field('d')]),
  call('make_timestamp', [i(2024), i(2), i(29), field('i2'), field('i2'), field('d')]),
];

/** Instants around DST changes and old offsets, where the zones' rules matter. */
const zonedRows = fc.array(fc.record({
  t: fc.oneof(
    timestamps,
    fc.integer({ min: Date.parse('1850-01-01'), max: Date.parse('2037-12-31') }),
    fc.tuple(fc.constantFrom(...['2024-03-10T07:00Z', '2024-11-03T06:00Z', '2024-03-31T01:00Z', '2024-10-27T01:00Z', '1883-11-18T17:00Z', '1918-03-31T07:00Z', '1911-03-11T00:00Z', '2011-12-30T10:00Z', '2024-10-06T15:30Z'].map((x) => Date.parse(x))),
      fc.integer({ min: -7_200_000, max: 7_200_000 })).map(([a, b]) => a + b),
  ),
}), { minLength: 1, maxLength: 80 });

describe('time functions', () => {
  it('give the written values on the edges, on both paths', async () => {
    const exprs = EDGES.map(([e]) => e);
    const want = EDGES.map(([e, v]) => [displayExpr(e), v]);
    expect(evalHot(exprs, [{}])[0]?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want);
    expect((await evalCold(exprs, [{}]))[0]?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want);
  });
  it('type date_part by unit and epoch_ms by argument, and refuse bad units and zones', () => {
    expect(call('date_part', [s('epoch'), field('t')]).type).toBe('double');
    expect(call('date_part', [s('DOW'), field('t')]).type).toBe('int');
    expect(call('epoch_ms', [field('i')]).type).toBe('timestamp');
    expect(call('epoch_ms', [field('t')]).type).toBe('int');
    expect(() => call('date_trunc', [s('fortnight'), field('t')])).toThrow(/unknown unit 'fortnight'/);
    expect(() => call('date_trunc', [s('huor'), field('t')])).toThrow(/did you mean 'hour'/);
    expect(() => call('date_trunc', [field('s'), field('t')])).toThrow(/constant/);
    expect(() => call('timezone', [s('Europe/Pariss'), field('t')])).toThrow(/unknown time zone 'Europe\/Pariss' \(did you mean 'Europe\/Paris'\?\)/);
    expect(() => call('timezone', [s('+05:00'), field('t')])).toThrow(/unknown time zone/);
  });
  it('know every time zone Intl knows in DuckDB too', async () => {
    const names = Intl.supportedValuesOf('timeZone');
    const exprs = names.map((z) => call('timezone', [s(z), field('t')]));
    const t = Date.parse('2024-06-01T00:00:00Z');
    const hot = evalHot(exprs, [{ t }])[0];
    const cold = (await evalCold(exprs, [{ t }]))[0];
    expect(names.filter((_, k) => hot?.[k] !== cold?.[k])).toEqual([]);
  }, 60_000);
  it(`agree hot and cold over random rows (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(rows, async (batch) => {
      expect(await parityDiffs(PROPS, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
  it(`agree on make_timestamp over parts near their limits (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(partRows, async (batch) => {
      expect(await parityDiffs(MAKE, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
  it(`agree on wall-clock times in ${ZONES.length} zones, DST changes and old offsets included (${RUNS} batches)`, async () => {
    const exprs = ZONES.map((z) => call('timezone', [s(z), field('t')]));
    await fc.assert(fc.asyncProperty(zonedRows, async (batch) => {
      expect(await parityDiffs(exprs, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
