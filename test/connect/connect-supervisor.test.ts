/**
 * ConnectSupervisor against a stand-in binary (fixtures/fake-connect.mjs, run by node), so the
 * process handling is tested without a broker: readiness, log forwarding, restart with backoff
 * after a crash, SIGTERM then SIGKILL on stop, and no process left behind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectSupervisor, type ConnectSupervisorOptions } from '../../src/connect/index.js';
import { PitwallError } from '../../src/errors.js';
import { alive, freePort } from './free-port.js';

const FAKE = join(import.meta.dirname, 'fixtures', 'fake-connect.mjs');
const running: ConnectSupervisor[] = [];

async function supervisor(env: Record<string, string> = {}, extra: Partial<ConnectSupervisorOptions> = {}): Promise<{ sup: ConnectSupervisor; lines: string[] }> {
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const lines: string[] = [];
  const sup = new ConnectSupervisor({
    binary: { command: process.execPath, args: [FAKE], via: 'PATH' },
    configYaml: `http:\n  address: ${httpAddress}\n`, httpAddress, env, log: (l) => lines.push(l),
    readyTimeoutMs: 10_000, stopTimeoutMs: 2_000, backoff: { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 }, ...extra,
  });
  running.push(sup);
  return { sup, lines };
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !check()) await new Promise((r) => setTimeout(r, 20));
  return check();
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe('ConnectSupervisor', () => {
  it('starts, waits for /ready, forwards JSON logs as connect: lines, stops on SIGTERM', async () => {
    const { sup, lines } = await supervisor();
    await sup.start();
    const pid = sup.pid as number;
    expect(alive(pid)).toBe(true);
    expect(readFileSync(sup.configPath as string, 'utf8')).toContain('address: 127.0.0.1:');
    expect(lines.some((l) => /connect: info Launching a Benthos instance/.test(l))).toBe(true);
    await sup.stop();
    expect(alive(pid)).toBe(false);
    expect(lines.some((l) => /connect: info Received SIGTERM/.test(l))).toBe(true);
    expect(sup.restarts).toBe(0);
  });

  it('restarts a killed process and is ready again; stop leaves no process behind', async () => {
    const { sup, lines } = await supervisor();
    await sup.start();
    const first = sup.pid as number;
    process.kill(first, 'SIGKILL');
    expect(await until(() => sup.restarts === 1 && sup.pid !== undefined, 5_000)).toBe(true);
    expect(await sup.waitReady(5_000)).toBe(true);
    const second = sup.pid as number;
    expect(second).not.toBe(first);
    expect(lines.some((l) => /exited unexpectedly .*signal SIGKILL.*restarting in 50ms/.test(l))).toBe(true);
    await sup.stop();
    expect(alive(first)).toBe(false);
    expect(alive(second)).toBe(false);
  });

  it('backs off between quick crashes and restarts nothing once stopped', async () => {
    const { sup, lines } = await supervisor({ FAKE_CONNECT_EXIT_AFTER_MS: '800' });
    await sup.start();
    expect(await until(() => sup.restarts >= 3, 10_000)).toBe(true);
    const delays = lines.flatMap((l) => /restarting in (\d+)ms/.exec(l)?.[1] ?? []).map(Number);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
    await sup.stop();
    const after = sup.restarts;
    await new Promise((r) => setTimeout(r, 600));
    expect(sup.restarts).toBe(after);
    expect(sup.pid).toBeUndefined();
  });

  it('SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const { sup, lines } = await supervisor({ FAKE_CONNECT_IGNORE_TERM: '1' }, { stopTimeoutMs: 500 });
    await sup.start();
    const pid = sup.pid as number;
    const t0 = Date.now();
    await sup.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(alive(pid)).toBe(false);
    expect(lines.some((l) => /did not stop within 0.5s of SIGTERM: SIGKILL/.test(l))).toBe(true);
  });

  it('fails start with PW_CONNECT_NOT_READY and Connect\'s last lines when it exits first', async () => {
    const { sup } = await supervisor({ FAKE_CONNECT_FAIL: '1' });
    const err = await sup.start().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PitwallError);
    expect((err as PitwallError).code).toBe('PW_CONNECT_NOT_READY');
    expect((err as PitwallError).message).toMatch(/exited before it was ready[\s\S]*failed to connect to broker/);
    expect(sup.restarts).toBe(0);
  });
});
