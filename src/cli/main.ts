/**
 * The `pitwall` command line. Each subcommand lives in its own module; this file wires them
 * into commander and turns pitwall errors into a coded message and a non-zero exit status.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { AggregateUserError, PitwallError } from '../errors.js';
import { registerBackfillCommand } from './backfill-command.js';
import { registerColdCommands } from './cold-commands.js';
import { registerConnectCommand } from './connect-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerDlqCommand } from './dlq-command.js';
import { registerGenCommand } from './gen-command.js';
import { PitwallCommand } from './pitwall-command.js';
import { registerPlanCommand } from './plan-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerReportCommands } from './report-command.js';
import { registerRunCommand } from './run-command.js';
import { registerValidateCommand } from './validate-command.js';

/** Prints an error the way users read it: `error[PW_CODE] file:line:col: message`. */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof AggregateUserError) {
    write(`${err.errors.length} errors:\n`);
    for (const e of err.errors) write(`error[${e.code}] ${e.message}\n`);
    // One of them a bug in pitwall: the status says so, as for a lone PW_INTERNAL.
    if (err.errors.some((e) => e.code === 'PW_INTERNAL')) {
      write('(an error above is a bug in pitwall; please report it)\n');
      return 70;
    }
    return 1;
  }
  if (err instanceof PitwallError) {
    write(`error[${err.code}] ${err.message}\n`);
    return err.code === 'PW_INTERNAL' ? 70 : 1;
  }
  write(`error[PW_INTERNAL] ${(err as Error)?.stack ?? String(err)}\n(this is a bug in pitwall; please report it)\n`);
  return 70;
}

/** The package's version, from its package.json (two levels up from src/cli and dist/cli alike). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The `pitwall` program with every subcommand registered. */
export function buildProgram(): PitwallCommand {
  const program = new PitwallCommand('pitwall')
    .description('Stream-SQL analytics for live events: windowed metrics in SQL, hot over Kafka, cold over DuckDB.')
    .version(packageVersion(), '-V, --version', 'print the pitwall version')
    .showHelpAfterError()
    .exitOverride();
  registerPlanCommand(program);
  registerValidateCommand(program);
  registerReplayCommand(program);
  registerRunCommand(program);
  registerConnectCommand(program);
  registerColdCommands(program);
  registerBackfillCommand(program);
  registerDemoCommand(program);
  registerDlqCommand(program);
  registerGenCommand(program);
  registerReportCommands(program);
  return program;
}

/**
 * Runs the CLI; returns the exit status: the status the action returned (see PitwallCommand),
 * 1 for a user error, 2 for a usage error, 70 for a bug. A non-zero `process.exitCode` set on
 * the way (by a library, say) is kept: the caller assigns the result to it, and a failure must
 * never turn into 0.
 */
export async function main(argv: readonly string[], program: PitwallCommand = buildProgram()): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    const status = program.status ?? 0;
    const pending = Number(process.exitCode ?? 0);
    return status !== 0 ? status : Number.isInteger(pending) ? pending : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return reportError(err);
  }
}
