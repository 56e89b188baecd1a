/** (b) end-to-end file replay throughput vs JSON.parse alone on the same bytes. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replay } from '../src/hot/replay.js';
import { benchCatalog, benchPayload, timeIt, type Figure } from './common.js';

export async function replayVsParse(n = 1_000_000): Promise<Figure[]> {
  const { catalog, plan } = benchCatalog();
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-'));
  const file = join(dir, 'orders.ndjson');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ ...benchPayload(i), eventTime: new Date(1_710_000_000_000 + i).toISOString() }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  lines.length = 0;
  let sink = 0;
  const parseSecs = await timeIt(() => {
    const text = readFileSync(file, 'utf8');
    for (const line of text.split('\n')) if (line) sink += (JSON.parse(line) as { eventTime: string }).eventTime.length;
  });
  const replaySecs = await timeIt(async () => { await replay(catalog, [plan], [{ stream: 'orders', file }], join(dir, 'out')); });
  const ratio = parseSecs / replaySecs;
  return [{
    id: 'b', what: `file replay end to end (read, JSON.parse, validate, dedup, window, aggregate, write) vs read + JSON.parse alone, ${n.toLocaleString('en-US')} NDJSON lines (${sink > 0 ? 'parsed' : ''})`,
    value: `${Math.round(n / replaySecs).toLocaleString('en-US')} events/s vs ${Math.round(n / parseSecs).toLocaleString('en-US')} events/s`, ratio: ratio.toFixed(2), target: '≥ 0.6 of JSON.parse', met: ratio >= 0.6,
  }];
}
