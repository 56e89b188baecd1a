/** Snappy-compressed batches (Redpanda Connect's default) are read by the engine, not skipped. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KafkaRunner } from '../../src/hot/kafka-runner.js';
import { loadQueries } from '../../src/plan/index.js';
import { generate } from '../../src/sources/generator.js';
import { catalogOf } from '../support/cold-harness.js';
import { brokers, uniqueName, waitFor } from './support.js';

describe.skipIf(!brokers)('compressed input', () => {
  it('consumes snappy-compressed batches', async () => {
    if (!brokers) return;
    const topic = uniqueName('snappy');
    const dir = mkdtempSync(join(tmpdir(), 'pw-snappy-'));
    const { readFileSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
    mkdirSync(join(dir, 'queries'));
    writeFileSync(join(dir, 'queries', 'n.sql'), "CREATE VIEW n AS SELECT window_start, COUNT(*) AS c FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start;");
    const catalog = catalogOf(readFileSync('catalog/orders.yaml', 'utf8').replace(/^topic: orders$/m, `topic: ${topic}`));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    const events = generate('food-delivery', 2000, { seed: 4 });
    writeFileSync(join(dir, 'events.json'), JSON.stringify(events.map((e) => ({ key: e.key, value: e.value }))));
    // Produced by another process, so this one gets the codec only through the engine's own import.
    const script = `import kafkajs from 'kafkajs'; import Snappy from 'kafkajs-snappy'; import { readFileSync } from 'node:fs';
      const { Kafka, CompressionTypes, CompressionCodecs } = kafkajs;
      CompressionCodecs[CompressionTypes.Snappy] = Snappy;
      const p = new Kafka({ brokers: ['${brokers}'] }).producer(); await p.connect();
      await p.send({ topic: '${topic}', compression: CompressionTypes.Snappy, messages: JSON.parse(readFileSync('${join(dir, 'events.json')}', 'utf8')) }); await p.disconnect();`;
    // Inside the repository, so the script resolves kafkajs from its node_modules.
    const scriptDir = join(process.cwd(), '.cache', 'tmp');
    mkdirSync(scriptDir, { recursive: true });
    const scriptPath = join(scriptDir, `${topic}-produce.mjs`);
    writeFileSync(scriptPath, script);
    try { execFileSync('node', [scriptPath], { stdio: 'ignore' }); } finally { rmSync(scriptPath, { force: true }); }
    const runner = new KafkaRunner(catalog, plans, { brokers: [brokers], groupId: uniqueName('snappy-g'), stateDir: join(dir, 'state'), resultsTopic: uniqueName('snappy-r'), checkpointIntervalMs: 60_000, fromBeginning: true });
    await runner.start();
    const done = await waitFor(() => (runner.engine.stats().streams.orders?.events ?? 0) >= events.length, 60_000);
    await runner.stop();
    expect(done).toBe(true);
    expect(runner.engine.stats().streams.orders?.events).toBe(events.length);
  });
});
