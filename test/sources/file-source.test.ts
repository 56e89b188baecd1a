import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecutionError } from '../../src/errors.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { DEFAULT_BATCH, readNdjson } from '../../src/sources/file-source.js';
import { isUtf8 } from 'node:buffer';
import { firstInvalidUtf8 } from '../../src/util/utf8.js';

/** The node:readline implementation this reader replaced, verbatim: the reference for every file. */
async function* readlineReference(path: string, batchSize = DEFAULT_BATCH, fromOffset = 0): AsyncGenerator<RawRecord[]> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let offset = 0;
  let batch: RawRecord[] = [];
  for await (const line of lines) {
    const here = offset++;
    if (here < fromOffset || line.trim() === '') continue;
    batch.push({ partition: 0, offset: here, value: line });
    if (batch.length >= batchSize) { yield batch; batch = []; }
  }
  if (batch.length) yield batch;
}

const dir = mkdtempSync(join(tmpdir(), 'pitwall-file-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `f${files++}.ndjson`);
  writeFileSync(path, content);
  return path;
}

async function collect(gen: AsyncGenerator<RawRecord[]>): Promise<RawRecord[][]> {
  const out: RawRecord[][] = [];
  for await (const batch of gen) out.push(batch);
  return out;
}

/** Records of a file read whole and split on '\n' (a trailing '\r' dropped): valid without lone '\r'. */
function splitReference(path: string, fromOffset = 0): RawRecord[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines
    .map((l, offset) => ({ partition: 0, offset, value: l.endsWith('\r') ? l.slice(0, -1) : l }))
    .filter((r) => r.offset >= fromOffset && r.value.trim() !== '');
}

/**
 * Same batches as the readline reader for every read size, tiny ones forcing lines, CRLFs and
 * characters across reads; except that a byte-order mark opening the file is not part of the
 * first line (readline keeps it), and a line that is not valid UTF-8 carries its exact bytes and
 * the offset of the first bad sequence (readline only has the lossy text, which `value` keeps).
 */
async function sameAsReadline(path: string, batchSize = DEFAULT_BATCH, fromOffset = 0, sizes = [1, 2, 3, 5, 7, 13, 64 * 1024, undefined]): Promise<RawRecord[][]> {
  const bom = readFileSync(path).subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]));
  const expected = (await collect(readlineReference(path, batchSize, fromOffset)))
    .map((b) => b.map((r) => (bom && r.offset === 0 ? { ...r, value: r.value.slice(1) } : r)));
  for (const size of sizes) {
    const got = await collect(readNdjson(path, batchSize, fromOffset, size));
    for (const r of got.flat()) {
      if (r.bytes === undefined) continue;
      expect(isUtf8(r.bytes)).toBe(false);
      expect(Buffer.from(r.bytes).toString('utf8')).toBe(r.value);
      expect(r.invalidUtf8At).toBe(firstInvalidUtf8(r.bytes));
    }
    expect(got.map((b) => b.map(({ partition, offset, value }) => ({ partition, offset, value }))), `read size ${size}`).toEqual(expected);
  }
  return expected;
}

const values = (batches: RawRecord[][]): string[] => batches.flat().map((r) => r.value);
const offsets = (batches: RawRecord[][]): number[] => batches.flat().map((r) => r.offset);

describe('readNdjson', () => {
  it('splits lines, counts blank lines in offsets and keeps a last line without a newline', async () => {
    const got = await sameAsReadline(file('{"a":1}\n\n   \n{"a":2}\n\t\n{"a":3}'));
    expect(values(got)).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(offsets(got)).toEqual([0, 3, 5]);
  });

  it('strips CRLF, also where the pair straddles two reads, and ends lines at a lone CR as readline did', async () => {
    const crlf = await sameAsReadline(file('{"a":1}\r\n{"b":22}\r\n\r\n{"c":333}\r\n'));
    expect(values(crlf)).toEqual(['{"a":1}', '{"b":22}', '{"c":333}']);
    expect(offsets(crlf)).toEqual([0, 1, 3]);
    const lone = await sameAsReadline(file('{"a":1}\r{"b":2}\n\r\r\n{"c":3}\r'));
    expect(values(lone)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(offsets(lone)).toEqual([0, 1, 4]);
  });

  it('keeps multi-byte characters whole when a read ends inside them', async () => {
    const text = ['{"driver":"Pérez","flag":"🏁"}', '{"team":"Équipe 日本","emoji":"👩‍🔧🏎️"}', 'ÿ€𝄞\u2028x', '{"ok":"✓"}'].join('\n');
    const got = await sameAsReadline(file(`\uFEFF${text}\n`));
    expect(values(got)).toEqual(text.split('\n')); // the byte-order mark opening the file is ignored
    for (const size of [1, 2, 3, 4, 5, 6, 7]) expect(values(await collect(readNdjson(file(text), 2, 0, size)))).toEqual(text.split('\n'));
  });

  it('reads an empty file and a file of only newlines as nothing', async () => {
    expect(await sameAsReadline(file(''))).toEqual([]);
    expect(await sameAsReadline(file('\n\n\n\r\n\n'))).toEqual([]);
    expect(await sameAsReadline(file(' \u00a0\n\uFEFF\n\t'))).toEqual([]);
  });

  it('honours batchSize and fromOffset', async () => {
    const lines = Array.from({ length: 23 }, (_, i) => (i % 5 === 4 ? '' : `{"i":${i}}`));
    const path = file(`${lines.join('\n')}\n`);
    const got = await sameAsReadline(path, 4, 6);
    expect(got.map((b) => b.length)).toEqual([4, 4, 4, 2]);
    expect(offsets(got)).toEqual([6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18, 20, 21, 22]);
    await sameAsReadline(path, 1, 0);
    await sameAsReadline(path, 3, 22);
    await sameAsReadline(path, 3, 1000);
    await sameAsReadline(path, 3, -5);
    await sameAsReadline(path, 3, 2.5);
    await sameAsReadline(path, 3, NaN);
  });

  it('matches the readline reader on random bytes, invalid UTF-8 included', async () => {
    const piece = fc.constantFrom(
      ...['{"a":1}', 'x', ' ', '\t', '\n', '\n', '\r', '\r\n', 'é', '€', '😀', '\u2028', '\uFEFF', '\u00a0'].map((s) => Buffer.from(s)),
      Buffer.from([0x80]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from([0xff]),
      Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0]),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: -1, max: 8 }),
        async (pieces, size, batchSize, fromOffset) => {
          await sameAsReadline(file(Buffer.concat(pieces)), batchSize, fromOffset, [size]);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('equals a whole-file split on a generated 50k-line file', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const row = i % 997 === 0 ? '' : JSON.stringify({ i, t: new Date(1_710_000_000_000 + i * 37).toISOString(), driver: ['Pérez', 'Hülkenberg', 'Zhou 周冠宇', 'Norris 🏎️'][i % 4], pad: 'x'.repeat(i % 150) });
      rows.push(i % 11 === 0 ? `${row}\r` : row);
    }
    const path = file(`${rows.join('\n')}\n`);
    const expected = splitReference(path);
    expect(expected.length).toBe(50_000 - Math.ceil(50_000 / 997));
    for (const size of [undefined, 64 * 1024, 4093]) {
      const got = await collect(readNdjson(path, DEFAULT_BATCH, 0, size));
      expect(got.slice(0, -1).every((b) => b.length === DEFAULT_BATCH)).toBe(true);
      expect(got.flat()).toEqual(expected);
    }
    expect((await collect(readNdjson(path, 1000, 12_345))).flat()).toEqual(splitReference(path, 12_345));
    expect(await collect(readNdjson(path, 1000, 12_345))).toEqual(await collect(readlineReference(path, 1000, 12_345)));
  });

  it('reports a missing file', async () => {
    await expect(collect(readNdjson(join(dir, 'nope.ndjson')))).rejects.toThrow(ExecutionError);
    await expect(collect(readNdjson(dir))).rejects.toThrow(/does not exist/);
  });
});
