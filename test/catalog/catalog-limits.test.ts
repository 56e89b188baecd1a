/**
 * Catalog files that try to exhaust the loader are coded errors at a position, never PW_INTERNAL:
 * a YAML alias bomb (fixtures/yaml-alias-bomb, from the bug report), absurd nesting, and
 * durations past 100 years. A UTF-8 byte-order mark is ignored.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog, type StreamDef } from '../../src/catalog/index.js';
import { CatalogError } from '../../src/errors.js';
import { BASE, parse as parseFile } from './catalog-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));

function parse(text: string): { stream: StreamDef | undefined; errors: string[] } {
  const { stream, errors } = parseFile(text);
  for (const e of errors) expect(e).toBeInstanceOf(CatalogError);
  return { stream, errors: errors.map((e) => `${e.code} ${e.position?.file}:${e.position?.line}:${e.position?.col} ${e.detail}`) };
}

describe('catalog resource bounds', () => {
  it('a YAML alias bomb is PW_CATALOG_YAML at its first alias, quickly', () => {
    const dir = join(here, 'fixtures', 'yaml-alias-bomb');
    const t0 = performance.now();
    let err: unknown;
    try { loadCatalog(dir); } catch (e) { err = e; }
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(CatalogError);
    expect(err).toMatchObject({ code: 'PW_CATALOG_YAML', position: { line: 5, col: 8 } });
    expect((err as CatalogError).detail).toBe('too many YAML aliases (the file expands more than 100 alias references); write the values out instead of nesting anchors');
    expect((err as CatalogError).position?.file).toMatch(/bomb\.yaml$/);
  });

  it('a few reused anchors are fine', () => {
    const s = parse(`${BASE}  a: &str { type: string }\n  b: *str\n`).stream;
    expect(s?.fields.get('b')?.type).toBe('string');
  });

  it('nesting deep enough to overflow the YAML library is PW_CATALOG_YAML "nested too deeply"', () => {
    expect(parse(`${BASE}description: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`).errors).toEqual([
      expect.stringMatching(/^PW_CATALOG_YAML clicks\.yaml:7:\d+ not valid YAML: nested too deeply$/),
    ]);
  });

  it('durations up to 36500d load; longer ones are PW_CATALOG_DURATION at the value', () => {
    expect(parse(`${BASE}allowed_lateness: 36500d\ndedup_ttl: 876000h\n`).stream?.allowedLatenessMs).toBe(3_153_600_000_000);
    expect(parse(`${BASE}allowed_lateness: 36501d\nwatermark_delay: 99999999999999999999s\n`).errors).toEqual([
      "PW_CATALOG_DURATION clicks.yaml:8:18 key 'watermark_delay' has '99999999999999999999s'; durations are at most 36500d (100 years)",
      "PW_CATALOG_DURATION clicks.yaml:7:19 key 'allowed_lateness' has '36501d'; durations are at most 36500d (100 years)",
    ]);
  });

  it('a UTF-8 byte-order mark at the start is ignored (positions count without it)', () => {
    expect(parse(`\uFEFF${BASE}`).stream?.name).toBe('clicks');
    expect(parse(`\uFEFF${BASE}colour: red\n`).errors).toEqual([expect.stringMatching(/^PW_CATALOG_INVALID clicks\.yaml:7:1 unknown key 'colour'/)]);
  });
});

describe('names a catalog gives: stream, topic, fields', () => {
  const errors = (yaml: string): string[] => parseFile(yaml, 's.yaml').errors.map((e) => `${e.code} ${e.message}`);
  const named = (name: string): string => BASE.replace('name: clicks', `name: ${name}`);
  it('limits a stream name to 63 characters, as SQL identifiers, so every stream can be named in a query', () => {
    expect(errors(named('s'.repeat(63)))).toEqual([]);
    const [e] = errors(named('s'.repeat(64)));
    expect(e).toMatch(/^PW_CATALOG_INVALID s\.yaml:1:7: key 'name' is longer than 63 characters \(it must be nameable in SQL\)/);
  });
  it('takes topic names Kafka takes', () => {
    expect(errors(`${BASE}topic: bk6.orders_v2-eu\n`)).toEqual([]);
    expect(errors(`${BASE}topic: "orders/eu"\n`)[0]).toContain("key 'topic' must be a Kafka topic name");
    expect(errors(`${BASE}topic: ${'t'.repeat(246)}\n`)[0]).toContain("key 'topic' is longer than 245 characters");
  });
  it('limits each segment of a field path to 63 characters', () => {
    const long = 'f'.repeat(64);
    const [e] = errors(BASE.replace('fields:\n', `fields:\n  data.${long}: { type: string }\n`));
    expect(e).toContain(`field name 'data.${long}'`);
    expect(e).toContain('at most 63 characters each');
  });
});
