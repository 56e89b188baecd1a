/**
 * Finds the Redpanda Connect to run, in this order: `$PITWALL_CONNECT_BIN`, `redpanda-connect`
 * on PATH, then `rpk connect` (rpk's Connect plugin). The result is a command plus the
 * arguments that precede Connect's own (`rpk` needs `connect`).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ExecutionError } from '../errors.js';

/** How to invoke Redpanda Connect: `command ...args <connect arguments>`. */
export interface ConnectCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Where it was found (for logs). */
  readonly via: 'PITWALL_CONNECT_BIN' | 'PATH' | 'rpk';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` on `pathVar`'s directories, or undefined. */
export function whichSync(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Resolves the Connect command from `env` (default: this process's). A `PITWALL_CONNECT_BIN`
 * that is set but not an executable file is an error rather than a silent fallback. Throws
 * PW_CONNECT_NOT_FOUND, naming every way to provide one, when nothing is found.
 */
export function findConnectBinary(env: NodeJS.ProcessEnv = process.env): ConnectCommand {
  const given = env.PITWALL_CONNECT_BIN;
  if (given) {
    if (executable(given)) return { command: given, args: [], via: 'PITWALL_CONNECT_BIN' };
    throw new ExecutionError('PW_CONNECT_NOT_FOUND', `PITWALL_CONNECT_BIN=${given} is not an executable file; point it at a redpanda-connect binary, or unset it to search PATH`);
  }
  const onPath = whichSync('redpanda-connect', env.PATH);
  if (onPath) return { command: onPath, args: [], via: 'PATH' };
  const rpk = whichSync('rpk', env.PATH);
  if (rpk) return { command: rpk, args: ['connect'], via: 'rpk' };
  throw new ExecutionError('PW_CONNECT_NOT_FOUND', 'Redpanda Connect not found. Provide it one of three ways: '
    + 'set PITWALL_CONNECT_BIN=/path/to/redpanda-connect, put `redpanda-connect` on PATH, or install rpk (which runs it as `rpk connect`). '
    + 'To build pitwall\'s own small distribution (needs Go): `npm run connect:build`, then '
    + 'PITWALL_CONNECT_BIN=.cache/redpanda-connect/bin/redpanda-connect.');
}
