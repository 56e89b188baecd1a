/**
 * Fuzz: hostile NDJSON (values outside the domain, broken UTF-8, deep nesting, BOMs, junk,
 * duplicates, far-future and far-past times, wrong types) mixed with valid events, through
 * replay with the archive, recompute from the files and from the archive, and reconcile.
 * Asserts: no PW_INTERNAL (no non-pitwall error at all), every non-blank line accounted for
 * (accepted + quarantined + duplicates = lines), reconcile clean on both cold sources.
 * Bounded in `npm test`; PITWALL_FUZZ_RUNS=200 for a long run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { loadCatalog } from '../../src/catalog/index.js';
import { recompute } from '../../src/cold/recompute.js';
import { PitwallError } from '../../src/errors.js';
import { replay } from '../../src/hot/replay.js';
import { loadQueries } from '../../src/plan/index.js';
import { reconcile } from '../../src/reconcile/reconcile.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 6);
const BASE = Date.parse('2024-03-15T19:00:00Z');

const catalog = loadCatalog('catalog');
const plans = loadQueries('queries', catalog).filter((p) => p.stream.name === 'orders');

/** A valid order, with knobs for the hostile variants. */
function order(id: string, timeMs: number, data: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId: id, eventType: 'order.created', eventTime: new Date(timeMs).toISOString(), data: { restaurantId: `r${id.length % 5}`, orderTotal: 12.5, itemCount: 2, prepSeconds: 300, ...data } };
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** One line (bytes, without the newline) of hostile or valid input. */
const line: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 900_000 })).map(([i, dt]) => text(JSON.stringify(order(`e${i}`, BASE + dt)))) },
  fc.constantFrom(
    '{"eventId":"d","eventType":"x","eventTime":"2024-03-15T19:01:00Z","data":{"orderTotal":1e400}}',
    '{"eventId":"d2","eventType":"x","eventTime":"2024-03-15T19:01:00Z","data":{"itemCount":9007199254740993}}',
    '{"eventId":"d3","eventType":"x","eventTime":8640000000000000,"data":{}}',
    '{"eventId":"d4","eventType":"x","eventTime":-62135596800001,"data":{}}',
    '{"eventId":"d5","eventType":"x","eventTime":"0000-01-01T00:00:00Z","data":{}}',
    '{"eventId":"d6","eventType":"x","eventTime":"10000-01-01T00:00:00Z","data":{}}',
    '{"eventId":"d7","eventType":"x","eventTime":"9999-12-31T23:59:59Z","data":{}}',
    '{"eventId":"d8","eventType":"x","eventTime":"2024-03-15T19:01:00Z","data":{"restaurantId":"r\\ud800"}}',
    '{"eventId":"d9","eventType":"x","eventTime":"2024-03-15T19:01:00.5+05:30","data":{"restaurantId":"r1"}}',
    '{"eventId":12,"eventType":"x","eventTime":"2024-03-15T19:01:00Z"}',
    '{"eventId":"d10","eventType":"x","eventTime":"2024-03-15T19:01:00Z","data":{"orderTotal":"12"}}',
    '{"eventId":"d11","eventTime":"2024-03-15T19:01:00Z"}',
    '[1,2,3]', 'null', '"just a string"', '{"eventId": "trunc', 'NaN', '{}', '   ', '',
    '{"eventId":"d12","eventType":"x","eventTime":"2024-03-15T19:01:00Z","extra":{"deep":[{"a":[null,true,1.5e308]}]}}',
  ).map(text),
  fc.integer({ min: 65, max: 3000 }).map((depth) => text(`{"eventId":"deep","eventType":"x","eventTime":"2024-03-15T19:01:00Z","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
  // Junk bytes inside one line: '\n' or a lone '\r' would end it (readNdjson's line ends), and the
  // count of lines is the oracle.
  fc.uint8Array({ minLength: 1, maxLength: 4 }).map((junk) => junk.map((b) => (b === 0x0a || b === 0x0d ? 0x20 : b)))
    .map((junk) => Buffer.concat([text('{"eventId":"u","eventType":"x","eventTime":"2024-03-15T19:01:00Z","data":{"restaurantId":"'), Buffer.from(junk), text('"}}')])),
  fc.string({ maxLength: 40 }).map((s) => text(s.replace(/[\n\r]/g, ' '))),
);

describe('hostile NDJSON fuzz (replay → archive → recompute → reconcile)', () => {
  it('never fails internally, accounts for every line, and reconciles clean', { timeout: 60_000 + RUNS * 20_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 60 }), fc.boolean(), fc.boolean(), async (lines, bom, crlf) => {
      const dir = mkdtempSync(join(tmpdir(), 'pw-fuzz-'));
      const file = join(dir, 'orders.ndjson');
      const eol = text(crlf ? '\r\n' : '\n');
      writeFileSync(file, Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), ...lines.flatMap((l) => [l, eol])]));
      const nonBlank = lines.filter((l) => l.toString('utf8').trim() !== '').length;
      try {
        const archive = new ArchiveWriter(join(dir, 'archive'), catalog, { piiKey: 'k' });
        archive.open();
        const inputs = [{ stream: 'orders', file }];
        const hot = await replay(catalog, plans, inputs, join(dir, 'hot'), { archive });
        await archive.close();
        const s = hot.streams.orders;
        expect(s && s.accepted + s.quarantined + s.duplicates).toBe(nonBlank);
        expect(s?.events).toBe(nonBlank);
        const cold = await recompute(catalog, plans, { inputs }, join(dir, 'cold'));
        expect(cold.streams.orders).toMatchObject({ events: nonBlank, accepted: s?.accepted, quarantined: s?.quarantined, duplicates: s?.duplicates });
        await recompute(catalog, plans, { archive: join(dir, 'archive') }, join(dir, 'cold-archive'));
        for (const c of ['cold', 'cold-archive']) expect(reconcile(plans, join(dir, 'hot'), join(dir, c), 'k').unexplained, c).toBe(0);
      } catch (err) {
        // Only expectation failures may escape; anything else is an internal error.
        if (err instanceof PitwallError && err.code !== 'PW_INTERNAL') throw new Error(`unexpected user error ${err.code}: ${err.message}`);
        throw err;
      }
    }), { numRuns: RUNS });
  });
});
