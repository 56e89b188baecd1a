/**
 * Global setup of the integration project: brings up a real Kafka broker (KRaft) and finds or
 * builds the Redpanda Connect binary, then hands both to the tests through `inject()`.
 *
 * - Broker: `PITWALL_TEST_BROKERS` when set; else `scripts/kafka.sh start` when java and mvn exist
 *   (stopped again in teardown unless it was already running); else the broker tests skip with
 *   one loud line.
 * - Connect: `PITWALL_CONNECT_BIN` when set; else `scripts/connect.sh build` when go exists (a
 *   cached build returns at once); else the Connect tests skip with one loud line.
 * - `PITWALL_TEST_REQUIRE=1` (set by .ci/run) turns every skip into a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Kafka bootstrap address (`host:port`), or null when the broker tests are skipped. */
    brokers: string | null;
    /** Absolute path of a Redpanda Connect binary, or null when the Connect tests are skipped. */
    connectBin: string | null;
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const required = process.env.PITWALL_TEST_REQUIRE === '1';

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function lastLine(out: string): string {
  const lines = out.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

function skip(what: string, why: string, how: string): null {
  const line = `\n!!! pitwall: SKIPPING ${what}: ${why}. To enable: ${how}\n`;
  if (required) throw new Error(line.trim());
  process.stderr.write(line);
  return null;
}

function bringUpBroker(): { brokers: string | null; stop: boolean } {
  const given = process.env.PITWALL_TEST_BROKERS;
  if (given) return { brokers: given, stop: false };
  if (!has('java') || !has('mvn')) {
    return {
      brokers: skip('the Kafka broker tests', 'java and mvn are needed to run the test broker',
        'install Java 17+ and Maven, or set PITWALL_TEST_BROKERS=host:port'),
      stop: false,
    };
  }
  const script = join(root, 'scripts', 'kafka.sh');
  const wasRunning = spawnSync('bash', [script, 'status'], { stdio: 'ignore' }).status === 0;
  try {
    const out = execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return { brokers: lastLine(out), stop: !wasRunning && process.env.PITWALL_KEEP_BROKER !== '1' };
  } catch (err) {
    return {
      brokers: skip('the Kafka broker tests', `scripts/kafka.sh start failed (${(err as Error).message})`,
        'see .cache/kafka/run/ for the broker log, or set PITWALL_TEST_BROKERS=host:port'),
      stop: false,
    };
  }
}

function findConnect(): string | null {
  const given = process.env.PITWALL_CONNECT_BIN;
  if (given) {
    if (existsSync(given)) return given;
    return skip('the Redpanda Connect tests', `PITWALL_CONNECT_BIN=${given} does not exist`, 'point it at a redpanda-connect binary');
  }
  if (!has('go')) {
    return skip('the Redpanda Connect tests', 'Go is needed to build the custom Redpanda Connect',
      'install Go, or set PITWALL_CONNECT_BIN=/path/to/redpanda-connect');
  }
  try {
    const out = execFileSync('bash', [join(root, 'scripts', 'connect.sh'), 'build'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    });
    return lastLine(out);
  } catch (err) {
    return skip('the Redpanda Connect tests', `scripts/connect.sh build failed (${(err as Error).message})`,
      'run `npm run connect:build` to see why');
  }
}

export default function setup(project: TestProject): () => void {
  const broker = bringUpBroker();
  project.provide('brokers', broker.brokers);
  project.provide('connectBin', findConnect());
  return () => {
    if (broker.stop) spawnSync('bash', [join(root, 'scripts', 'kafka.sh'), 'stop'], { stdio: 'inherit' });
  };
}
