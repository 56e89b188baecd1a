/**
 * The Redpanda Connect binary unit tests may use (lint, the shape check through stdin/stdout):
 * $PITWALL_CONNECT_BIN, else the local build. Returns null, after one loud line, when neither exists.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function localConnectBin(): string | null {
  const bin = process.env.PITWALL_CONNECT_BIN ?? join(process.cwd(), '.cache', 'redpanda-connect', 'bin', 'redpanda-connect');
  if (existsSync(bin)) return bin;
  process.stderr.write(`\n!!! pitwall: SKIPPING the Redpanda Connect lint and shape-check tests: no binary at ${bin}. To enable: npm run connect:build (needs Go), or set PITWALL_CONNECT_BIN\n`);
  return null;
}
