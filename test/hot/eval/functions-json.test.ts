/**
 * json_extract_string over whole event payloads: the hot path reads JSON.parse's object, DuckDB
 * the same JSON text, as the archive keeps it (raw as received). Paths of the subset, edge
 * values written out, and hot == cold over random JSON texts full of duplicate keys, numbers
 * past 2^53 and the double range, -0, exponents, unpaired surrogate escapes, astral and
 * combining characters, nested objects and arrays.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileExpr, Parameters, rowNames } from '../../../src/cold/compile-expr.js';
import { compileRowExpr, type Val } from '../../../src/hot/eval/compile-expr.js';
import { parseJsonPath } from '../../../src/plan/functions/json.js';
import { PAYLOAD_FIELD } from '../../../src/plan/functions/index.js';
import type { Expr } from '../../../src/plan/index.js';
import { pick } from '../../support/scalar-arbitraries.js';
import { call, lit } from '../../support/scalar-parity.js';
import { nastyText } from '../../support/string-arbitraries.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);
const payload: Expr = { kind: 'FieldExpr', path: PAYLOAD_FIELD, type: 'string' };
const extract = (path: string): Expr => call('json_extract_string', [payload, lit(path, 'string')]);

let conn: DuckDBConnection | undefined;

/** Each path's value over each JSON text: [hot, cold], each `[text][path]`. */
async function both(paths: readonly string[], texts: readonly string[]): Promise<[Val[][], Val[][]]> {
  const exprs = paths.map(extract);
  const hotFns = exprs.map(compileRowExpr);
  const hot = texts.map((t) => { const p = JSON.parse(t) as Record<string, unknown>; return hotFns.map((f) => f(p)); });
  conn ??= await (await DuckDBInstance.create(':memory:')).connect();
  await conn.run('CREATE OR REPLACE TABLE pw_json (_pw_row BIGINT, _pw_payload VARCHAR)');
  const app = await conn.createAppender('pw_json');
  texts.forEach((t, i) => { app.appendBigInt(BigInt(i)); app.appendVarchar(t); app.endRow(); });
  app.flushSync();
  app.closeSync();
  const params = new Parameters();
  // '|' in front: the client strips a leading U+FEFF from text results.
  const cols = exprs.map((e, i) => `'|' || ${compileExpr(e, rowNames, params)} AS "e${i}"`);
  const reader = await conn.runAndReadAll(`SELECT ${cols.join(', ')} FROM pw_json ORDER BY _pw_row`, [...params.values]);
  const cold = reader.getRows().map((r) => r.map((v) => (typeof v === 'string' ? v.slice(1) : v === null ? null : String(v))));
  return [hot, cold];
}

const DOC = String.raw`{"s":"h\u00e9\n😀","n":1.50,"i":-0,"z":-0.0,"e":1E5,"big":9007199254740993,"huge":12345678901234567890123,"inf":1e400,"tiny":1e-400,
 "max":9007199254740991,"f":0.1,"x":1e-7,"y":1e21,"t":true,"no":false,"nul":null,"o":{"a":[1,{"b":"deep"}],"a b":3},"arr":[10,"x",null],
 "dup":1,"dup":2,"nest":{"k":1},"nest":{"k":"last"},"__proto__":"own","a.b":"dotted","":"empty"}`;

const EDGES: readonly (readonly [string, string | null])[] = [
  ['$.s', 'hé\n😀'], ['$.n', '1.5'], ['$.i', '0'], ['$.z', '0'], ['$.e', '100000'], ['$.big', null], ['$.huge', null], ['$.inf', null], ['$.tiny', '0'],
  ['$.max', '9007199254740991'], ['$.f', '0.1'], ['$.x', '1e-07'], ['$.y', null], ['$.t', 'true'], ['$.no', 'false'], ['$.nul', null], ['$.o', null],
  ['$.o.a[1].b', 'deep'], ['$.o.a[0]', '1'], ['$.o.a[2]', null], ['$.o."a b"', '3'], ['$.arr', null], ['$.arr[1]', 'x'], ['$.arr[2]', null],
  ['$.dup', '2'], ['$.nest.k', 'last'], ['$.__proto__', 'own'], ['$."a.b"', 'dotted'], ['$.missing', null], ['$.s.deeper', null], ['$.constructor', null],
  ['$.toString', null], ['$[0]', null],
];

describe('json paths', () => {
  it.each([
    ['a.b', 'a path starts with $ at character 1'],
    ['$', 'a path to the whole payload'],
    ['$.a[-1]', 'an index other than [n]'],
    ['$.a[*]', 'an index other than [n]'],
    ['$.*', 'a key that is neither a name'],
    ['$.a..b', 'a key that is neither a name'],
    ['$.1a', 'a key that is neither a name'],
    ['$.a[2147483648]', 'an index other than [n]'],
    ['$.a b', "unexpected ' ' at character 4"],
  ])('refuses %s', (path, detail) => {
    const r = parseJsonPath(path);
    expect(Array.isArray(r)).toBe(false);
    expect(`${(r as { detail: string }).detail} at character ${(r as { at: number }).at}`).toContain(detail);
  });
  it('reads names, quoted keys and indexes', () => {
    expect(parseJsonPath('$.data."a b"[3].c_1')).toEqual([{ key: 'data' }, { key: 'a b' }, { index: 3 }, { key: 'c_1' }]);
  });
});

describe('json_extract_string', () => {
  it('gives the written values on both paths', async () => {
    const [hot, cold] = await both(EDGES.map(([p]) => p), [DOC]);
    const want = EDGES.map(([, v]) => v);
    expect(hot[0]).toEqual(want);
    expect(cold[0]).toEqual(want);
  });

  it('reads unpaired surrogate escapes as U+FFFD on both paths, in strings and keys', async () => {
    const [hot, cold] = await both(['$.a', '$.b', '$."\ufffd"'], [
      String.raw`{"a":"x","b":"\ud800y\udc00"}`, String.raw`{"a":"x","\udc00":1}`, String.raw`{"a":"\ud83d\ude00\\ud800"}`, String.raw`{"a":["\ud800"],"a":true}`,
    ]);
    expect(hot).toEqual([['x', '\ufffdy\ufffd', null], ['x', null, '1'], ['\u{1f600}\\ud800', null, null], ['true', null, null]]);
    expect(cold).toEqual(hot);
  });

  // Random JSON texts: objects of a few keys (often repeated), nested, with nasty values.
  // Keys with unpaired surrogates, none equal to another once made well-formed (the documented limit).
  const key = pick('a', 'b', 'c', 'a b', '__proto__', 'constructor', '😀', 'e\u0301', '\ud800', '\udc00a');
  const number = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    fc.integer().map(String),
    pick('-0', '-0.0', '1.50', '1E5', '1e400', '-1e400', '1e-400', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
      '18446744073709551615', '18446744073709551616', '12345678901234567890123', '0.1', '1e21', '1e-7', '123456789012345678', '1.0', '2e0', '0.30000000000000004',
      '9007199254740991.4', '4.9e-324', '1.7976931348623157e308'),
  );
  const str = fc.oneof(nastyText.map((t) => JSON.stringify(t)), pick(String.raw`"\ud800"`, String.raw`"\u0000"`, String.raw`"\ud83d\ude00"`, String.raw`"a\"b"`, String.raw`"\/"`));
  const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, number, str, pick('true', 'false', 'null'),
      fc.array(tie('v'), { maxLength: 3 }).map((a) => `[${a.join(', ')}]`),
      fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map((m) => `{${m.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(',')}}`)),
  })).v;
  const doc = fc.array(fc.tuple(key, value), { maxLength: 5 }).map((m) => `{${m.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
  const PATHS = ['$.a', '$.b', '$.c', '$."\ufffd"', '$."\ufffda"', '$."a b"', '$.__proto__', '$.constructor', '$."😀"', '$.a.a', '$.a.b', '$.a[0]', '$.a[1]', '$.b[0].a', '$.a.c[2]', '$.c."e\u0301"'];

  it(`agrees hot and cold over random JSON texts (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(fc.array(doc, { minLength: 1, maxLength: 40 }), async (texts) => {
      const [hot, cold] = await both(PATHS, texts);
      const diffs = texts.flatMap((t, r) => PATHS.flatMap((p, k) => (hot[r]?.[k] === cold[r]?.[k] ? [] : [`${p} of ${t}: hot ${JSON.stringify(hot[r]?.[k])}, cold ${JSON.stringify(cold[r]?.[k])}`])));
      expect(diffs.slice(0, 5)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
