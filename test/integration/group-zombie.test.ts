/**
 * A zombie member in a group whose state moves through changelog topics: two `pitwall run`
 * processes, each with its own state directory (as on two machines). One is frozen (SIGSTOP)
 * past its session timeout while events keep coming, so the group gives its partitions to the
 * other, which fences its transactional producers and restores its state from the changelogs;
 * then the frozen one wakes up (SIGCONT) with unsaved work and an open checkpoint, and must
 * neither commit it nor count anything twice. Final rows equal one uninterrupted engine's.
 */
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, readResults, waitFor, type ResultsReader } from './support.js';
import { checkpointedIn, closingEvents, expectGroupFinals, GROUP_SPAN_MS, GROUP_START_MS, groupScenario, PitwallProcesses, scenarioSender } from './group-scenario.js';

const ORDERS = 24_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!brokers)('a frozen group member (changelog state)', () => {
  it('is fenced when it wakes up: its partitions moved with their state, and nothing is counted twice', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 300_000) }, async () => {
    if (!brokers) return;
    const s = await groupScenario('zombie', 4242, ORDERS);
    const { kafka, topic, dir, events } = s;
    const broker = brokers;
    const procs = new PitwallProcesses();
    const spawn = (name: string): ResultPromise => procs.spawn(name, ['--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', broker,
      '--state-dir', join(dir, `state-${name}`), '--state-sync', 'changelog', '--results-topic', s.resultsTopic, '--group', s.group,
      '--checkpoint-interval', '500ms', '--from-beginning', '--port', '0', '--workers', '1']);
    const { producer, send } = await scenarioSender(s);
    let results: ResultsReader | undefined;
    try {
      const a = spawn('a');
      const b = spawn('b');
      const third = Math.floor(events.length / 3);
      await send(0, third, 0);
      expect(await waitFor(async () => (await checkpointedIn(join(dir, 'state-a'))) && (await checkpointedIn(join(dir, 'state-b'))), 90_000, 200), procs.stderr()).toBe(true);
      // A freezes mid-stream with work in hand; the session timeout (10 s) expels it meanwhile.
      const sending = send(third, 2 * third, 100);
      await sleep(1500);
      a.kill('SIGSTOP');
      const before = procs.log('b').length;
      expect(await waitFor(() => /restored \d+ input tasks? from their changelogs \([1-9]\d* records/.test(procs.log('b').slice(before)), 90_000, 200), `B took A's partitions over with their state\n${procs.stderr(30)}`).toBe(true);
      await sending;
      a.kill('SIGCONT');
      await send(2 * third, events.length, 20);
      await producer.send({ topic, acks: -1, messages: closingEvents(GROUP_START_MS + GROUP_SPAN_MS) });
      results = await readResults(kafka, s.resultsTopic);
      await expectGroupFinals(s, results, [a, b], procs);
    } finally {
      await procs.killAll();
      await results?.stop();
      await producer.disconnect();
    }
  });
});
