/** Binary discovery order: PITWALL_CONNECT_BIN, then redpanda-connect on PATH, then rpk connect. */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConnectBinary } from '../../src/connect/index.js';
import { PitwallError } from '../../src/errors.js';

function fakeBin(dir: string, name: string, exec = true): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, exec ? 0o755 : 0o644);
  return path;
}

function thrown(fn: () => unknown): PitwallError {
  try { fn(); } catch (e) { return e as PitwallError; }
  throw new Error('expected a throw');
}

describe('findConnectBinary', () => {
  const root = mkdtempSync(join(tmpdir(), 'pw-find-connect-'));
  const a = join(root, 'a');
  const b = join(root, 'b');
  const explicit = fakeBin(join(root, 'own'), 'my-connect');
  const onPath = fakeBin(b, 'redpanda-connect');
  const rpk = fakeBin(a, 'rpk');
  fakeBin(a, 'redpanda-connect', false); // not executable: skipped

  it('prefers PITWALL_CONNECT_BIN', () => {
    expect(findConnectBinary({ PITWALL_CONNECT_BIN: explicit, PATH: [a, b].join(delimiter) })).toEqual({ command: explicit, args: [], via: 'PITWALL_CONNECT_BIN' });
  });

  it('then an executable redpanda-connect on PATH', () => {
    expect(findConnectBinary({ PATH: [a, b].join(delimiter) })).toEqual({ command: onPath, args: [], via: 'PATH' });
  });

  it('then rpk, as `rpk connect`', () => {
    expect(findConnectBinary({ PATH: a })).toEqual({ command: rpk, args: ['connect'], via: 'rpk' });
  });

  it('a PITWALL_CONNECT_BIN pointing at nothing is an error, not a fallback', () => {
    const err = thrown(() => findConnectBinary({ PITWALL_CONNECT_BIN: join(root, 'missing'), PATH: b }));
    expect(err.code).toBe('PW_CONNECT_NOT_FOUND');
    expect(err.message).toContain('missing');
  });

  it('names all three ways and the local build when nothing is found', () => {
    const err = thrown(() => findConnectBinary({ PATH: join(root, 'empty') }));
    expect(err).toBeInstanceOf(PitwallError);
    expect(err.code).toBe('PW_CONNECT_NOT_FOUND');
    for (const way of ['PITWALL_CONNECT_BIN', 'redpanda-connect', 'rpk connect', 'npm run connect:build']) expect(err.message).toContain(way);
  });
});
