/**
 * /openapi.json against the server, as the tool API users run checks it
 * (../shared/cases/openapi-spec-vs-server): schemathesis with every check, a bounded number of
 * examples, against a server with rows and live streams, open (no tokens: no security declared)
 * and with tokens (bearer security declared, requests without a valid token refused). Needs
 * schemathesis in .cache/schemathesis (.ci/run installs it from PyPI into that virtualenv):
 * skipped with one loud line without it, failed under PITWALL_TEST_REQUIRE=1.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type ServerOptions } from '../../src/serve/server.js';
import { fixture, handleOf, ROOT } from './serve-harness.js';

const ST = join(ROOT, '.cache', 'schemathesis', 'bin', 'schemathesis');
const has = existsSync(ST);
if (!has) {
  if (process.env.PITWALL_TEST_REQUIRE === '1') throw new Error(`schemathesis is required (PITWALL_TEST_REQUIRE=1): python3 -m venv .cache/schemathesis && .cache/schemathesis/bin/pip install schemathesis`);
  process.stderr.write('!!! schemathesis test skipped: .cache/schemathesis missing (enable: python3 -m venv .cache/schemathesis && .cache/schemathesis/bin/pip install schemathesis)\n');
}

/** schemathesis' whole report, kept in test-output/ for reading a failure. */
function keep(mode: string, out: string): void {
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  writeFileSync(join(ROOT, 'test-output', `schemathesis-${mode}.txt`), out);
}

const apps: FastifyInstance[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

async function serve(opts: Partial<ServerOptions>): Promise<string> {
  const f = fixture();
  const { app } = await createServer({ store: f.store, handle: handleOf(f.engine, { checkpoint: async () => undefined, lastCheckpointAt: () => Date.now() }), rateLimitPerMinute: 1e9, ...opts });
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/** Runs schemathesis (async: the server under test runs in this process); resolves with its exit status and output. */
function schemathesis(base: string, extra: readonly string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(ST, ['run', `${base}/openapi.json`, '--checks', 'all', '--max-examples', '5', '--request-timeout', '1', '--seed', '1', '--workers', '1', '--no-color', ...extra], { cwd: join(ROOT, '.cache', 'schemathesis'), env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } }); // its own cache goes there
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (status) => resolve({ status, out }));
  });
}

describe.skipIf(!has)('/openapi.json under schemathesis (all checks)', () => {
  it('matches the server when it runs open', async () => {
    const r = await schemathesis(await serve({}), []);
    keep('open', r.out);
    expect(r.status, r.out.slice(-6000)).toBe(0);
  }, 300_000);

  it('matches the server when it has tokens', async () => {
    const r = await schemathesis(await serve({ tokens: [{ token: 'atok', scope: 'admin' }] }), ['--header', 'Authorization: Bearer atok']);
    keep('tokens', r.out);
    expect(r.status, r.out.slice(-6000)).toBe(0);
  }, 300_000);
});
