/**
 * The `pitwall` command as a user starts it (compiled dist/, a real process): --version, a taken
 * port is a user error with its fix, SIGHUP ends the demo like Ctrl-C, a closed pipe is quiet,
 * and the build check refuses a missing or stale dist/.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';

const BIN = join(process.cwd(), 'bin', 'pitwall.js');
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

function pitwall(args: string[], cwd = process.cwd()): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pitwall (process)', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('prints its version with --version and -V', () => {
    expect(pitwall(['--version'])).toMatchObject({ status: 0, stdout: `${version}\n` });
    expect(pitwall(['-V']).stdout).toBe(`${version}\n`);
  });

  it('reports a taken port as PW_PORT_IN_USE with the fix, exits 1, and leaves no empty run behind', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const out = join(mkdtempSync(join(tmpdir(), 'pw-port-')), 'run');
    try {
      const r = pitwall(['demo', '--port', String(port), '--duration', '3s', '--out', out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`error[PW_PORT_IN_USE] port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain('pass --port N');
      expect(r.stderr).not.toContain('PW_INTERNAL');
      expect(existsSync(out)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('ends the demo on SIGHUP as on Ctrl-C: windows closed, results and archive written, exit 0', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pw-hup-')), 'run');
    const child = spawn(process.execPath, [BIN, 'demo', '--port', '0', '--rate', '200', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Bounded wait for the demo to be live, then a few seconds of events.
    for (let i = 0; i < 1200 && !stdout.includes('live at'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain('live at http://127.0.0.1:');
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGHUP');
    expect(await exited).toBe(0);
    expect(stdout).toContain('stopped.');
    const summary = JSON.parse(readFileSync(join(out, 'hot', '_summary.json'), 'utf8')) as { streams: Record<string, { events: number }> };
    expect(Object.values(summary.streams).reduce((n, s) => n + s.events, 0)).toBeGreaterThan(0);
    expect(readdirSync(join(out, 'archive'))).toContain('_manifest.ndjson');
    // The lookup-join sample joins scans with the demo's rooms table.
    expect(readFileSync(join(out, 'hot', 'room_fill_1m.ndjson'), 'utf8')).toContain('"room":"Hall ');
    expect(readdirSync(join(out, 'archive'))).toContain('rooms');
  });

  it('ends quietly with status 0 when the reader of its output goes away (| head)', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" plan --all | head -n 1; echo "status=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    const [first, status] = r.stdout.split('\n');
    expect(first).toMatch(/^== \w+ \(queries\//);
    expect(status).toBe('status=0');
    expect(r.stderr).not.toContain('EPIPE');
  });
});

describe('build check (bin/check-build.js)', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  /** A checkout-shaped copy: bin/, a one-file src/, and dist/ built or not. */
  function checkout(built: boolean): string {
    const root = mkdtempSync(join(tmpdir(), 'pw-build-'));
    cpSync('bin', join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    writeFileSync(join(root, 'tsconfig.build.json'), '{}');
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export {};\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'src', 'cli', 'main.ts'), old, old);
    if (built) {
      mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
      writeFileSync(join(root, 'dist', 'cli', 'main.js'), 'export async function main() { process.stdout.write("compiled\\n"); return 0; }\n');
      writeFileSync(join(root, 'dist', '.build-stamp'), 'now\n');
    }
    return root;
  }
  const run = (root: string): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(root, 'bin', 'pitwall.js')], { cwd: root, encoding: 'utf8' });

  it('runs the compiled dist/ when it is newer than src/', () => {
    const r = run(checkout(true));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('compiled\n');
  });

  it('refuses a missing dist/ with PW_BUILD_MISSING and the command that fixes it', () => {
    const r = run(checkout(false));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error\[PW_BUILD_MISSING\] .*run `npm run build`/);
  });

  it('refuses a dist/ older than a source file with PW_BUILD_STALE naming the file', () => {
    const root = checkout(true);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'src', 'cli', 'main.ts'), later, later);
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[PW_BUILD_STALE] dist/ is older than src/cli/main.ts: run `npm run build`');
  });

  it('does not check staleness in an installed package (no tsconfig.build.json shipped)', () => {
    const root = checkout(true);
    execFileSync('rm', [join(root, 'tsconfig.build.json')]);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'src', 'cli', 'main.ts'), later, later);
    expect(run(root).stdout).toBe('compiled\n');
  });
});
