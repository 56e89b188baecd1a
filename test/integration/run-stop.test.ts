/**
 * `pitwall run` stops within a bounded time on SIGTERM, on a real broker: after a clean final
 * checkpoint with status 0; when checkpoints fail (the state directory became unwritable),
 * /readyz says not ready with the reason, and SIGTERM still closes the consumer, the producer
 * and the server and exits with status 1 (the last good checkpoint stays the recovery point)
 * instead of lingering as a healthy-looking zombie.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/sources/generator.js';
import { freePort } from '../connect/free-port.js';
import { brokers, createTopic, sampleOrdersProject, testKafka, uniqueName, waitFor } from './support.js';

interface Ready { status: number; body: { status?: string; reasons?: string[] } }

async function readyz(port: number): Promise<Ready | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: r.status, body: (await r.json()) as Ready['body'] };
  } catch {
    return undefined; // not listening (yet, or any more)
  }
}

describe.skipIf(!brokers)('pitwall run: stopping', () => {
  it('exits 0 after a clean stop, and 1 within a bounded time when the final checkpoint fails (not ready meanwhile)', async () => {
    if (!brokers) return;
    const broker = brokers;
    const topic = uniqueName('orders');
    const dir = sampleOrdersProject('pw-run-stop-', topic);
    const kafka = testKafka('run-stop-test');
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: generate('food-delivery', 300, { seed: 5, ratePerSec: 20 }).map((g) => ({ key: g.key, value: g.value })) });
    await producer.disconnect();

    const stateDir = join(dir, 'state');
    const group = uniqueName('run-stop-g');
    const resultsTopic = uniqueName('run-stop-results');
    const start = async (): Promise<{ proc: ResultPromise; port: number }> => {
      const port = await freePort();
      const proc = execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', broker,
        '--state-dir', stateDir, '--group', group, '--results-topic', resultsTopic, '--checkpoint-interval', '500ms', '--from-beginning', '--port', String(port)],
      // forceKillAfterDelay: a group member's stop leaves two consumer groups (a few seconds);
      // run-action bounds the whole stop at 25 s, which this test checks.
      { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env: { PITWALL_PII_KEY: 'run-stop' }, forceKillAfterDelay: 30_000 });
      return { proc, port };
    };
    const stopWith = async (proc: ResultPromise): Promise<{ code: number | undefined; ms: number; stderr: string }> => {
      const t0 = Date.now();
      proc.kill('SIGTERM');
      const r = await proc;
      return { code: r.exitCode, ms: Date.now() - t0, stderr: String(r.stderr) };
    };

    // 1. A clean stop: final checkpoint written, status 0.
    const first = await start();
    expect(await waitFor(async () => (await readyz(first.port))?.status === 200, 60_000, 200), 'ready after the first checkpoint').toBe(true);
    const clean = await stopWith(first.proc);
    expect(clean.stderr).toContain('stopped');
    expect(clean.code, clean.stderr).toBe(0);

    // 2. Checkpoints fail: the state directory is replaced by a file under the running engine.
    const second = await start();
    expect(await waitFor(async () => (await readyz(second.port))?.status === 200, 60_000, 200), 'ready after restoring').toBe(true);
    rmSync(stateDir, { recursive: true, force: true });
    writeFileSync(stateDir, 'not a directory');
    let notReady: Ready | undefined;
    expect(await waitFor(async () => {
      notReady = await readyz(second.port);
      return notReady?.status === 503 && (notReady.body.reasons ?? []).some((r) => r.startsWith('last checkpoint failed'));
    }, 30_000, 200), JSON.stringify(notReady)).toBe(true);
    const failed = await stopWith(second.proc);
    expect(failed.stderr).toContain('stop failed (final checkpoint:');
    expect(failed.code, failed.stderr).toBe(1);
    // The orderly path closes the consumer, producer and server right after the failed checkpoint
    // (about 4 s, mostly leaving the consumer group), well before the 25 s hard limit of run-action.
    expect(failed.ms).toBeLessThan(20_000);
    expect(await readyz(second.port)).toBeUndefined(); // the server is closed with it
  });
});
