/** `pitwall connect`'s flags, through the real CLI entry (no broker, no Connect started). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { main } from '../../src/cli/main.js';
import { generateConnectConfig } from '../../src/connect/index.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  try {
    return { code: await main(['node', 'pitwall', 'connect', ...args]), out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => { vi.unstubAllEnvs(); });

describe('pitwall connect', () => {
  const catalog = loadCatalog('catalog');

  it('--print needs no broker: the YAML reads ${PITWALL_BROKERS}, with --brokers as its default', async () => {
    vi.stubEnv('PITWALL_BROKERS', '');
    const bare = await run(['--print']);
    expect(bare.code).toBe(0);
    expect(bare.out).toBe(generateConnectConfig(catalog, { httpAddress: '127.0.0.1:4195' }));
    expect(bare.out).toContain('- ${PITWALL_BROKERS}\n');
    const a = await run(['--print', '--brokers', 'b1:9092,b2:9092', '--http', '0.0.0.0:4195']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(generateConnectConfig(catalog, { brokers: ['b1:9092', 'b2:9092'], httpAddress: '0.0.0.0:4195' }));
    expect(a.out).toContain('- ${PITWALL_BROKERS:b1:9092,b2:9092}\n');
    // The shell's PITWALL_BROKERS is not baked into the file: the environment Connect runs in decides.
    vi.stubEnv('PITWALL_BROKERS', 'env-broker:9092');
    const b = await run(['--print']);
    expect(b.out).toBe(bare.out);
    expect(b.out).not.toContain('env-broker');
  });

  it('--file and --stdin add inputs; bad values are coded errors', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pw-connect-cmd-')), 'orders.ndjson');
    writeFileSync(file, '{}\n');
    const ok = await run(['--print', '--brokers', 'b:9092', '--file', `orders=${file}`, '--stdin', 'badge_scans']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`- ${file}`);
    expect(ok.out).toContain('label: stdin_badge_scans');
    expect((await run(['--print', '--brokers', 'b:9092', '--file', 'orders'])).err).toContain('error[PW_INPUT_SPEC]');
    expect((await run(['--print', '--brokers', 'b:9092', '--file', 'orders=/nonexistent.ndjson'])).err).toContain('error[PW_INPUT_MISSING]');
    expect((await run(['--print', '--brokers', 'b:9092', '--stdin', 'nope'])).err).toContain('error[PW_UNKNOWN_STREAM]');
    expect((await run(['--print', '--brokers', 'b:9092', '--http', 'nohost'])).err).toContain('error[PW_BAD_OPTION]');
    expect((await run(['--print', '--brokers', 'not-a-broker'])).err).toContain('error[PW_BAD_OPTION]');
    vi.stubEnv('PITWALL_BROKERS', '');
    // Running (not printing) creates topics first, so it needs the brokers here.
    expect((await run([])).err).toContain('error[PW_NO_BROKERS]');
  });
});
