/**
 * Exit status: `main()` returns the status the action returned, for every command (the bin
 * assigns it to process.exitCode, so an action that set process.exitCode itself used to be
 * overwritten with 0). Driven in-process through `main()`.
 */
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, main } from '../../src/cli/main.js';
import { PitwallCommand } from '../../src/cli/pitwall-command.js';

function program(): PitwallCommand {
  const p = new PitwallCommand('pitwall').exitOverride();
  p.command('fails').action(async () => 1);
  p.command('ok').action(async () => undefined);
  p.command('three').argument('<x>').action((x: string) => (x === 'x' ? 3 : 4));
  const group = p.command('group');
  group.command('inner').option('--n <n>').action(async (opts: { n?: string }) => Number(opts.n ?? 0));
  p.command('legacy').action(() => { process.exitCode = 5; });
  return p;
}

function commands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(commands)];
}

afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('main() exit status', () => {
  it('returns what the action returned, nothing meaning 0, in subcommands too', async () => {
    expect(await main(['node', 'pitwall', 'fails'], program())).toBe(1);
    expect(await main(['node', 'pitwall', 'ok'], program())).toBe(0);
    expect(await main(['node', 'pitwall', 'three', 'x'], program())).toBe(3);
    expect(await main(['node', 'pitwall', 'group', 'inner', '--n', '7'], program())).toBe(7);
  });

  it('never turns a failure set on process.exitCode into 0', async () => {
    expect(await main(['node', 'pitwall', 'legacy'], program())).toBe(5);
  });

  it('keeps user errors at 1 and usage errors at 2', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'pitwall', 'replay', '--catalog', 'catalog', '--queries', 'queries', '--input', 'orders=x', '--out', 'o', '--max-groups', 'abc'])).toBe(1);
    expect(await main(['node', 'pitwall', 'no-such-command'])).toBe(2);
  });

  it('builds every command of the real program on PitwallCommand, so each action reports its status', () => {
    const all = commands(buildProgram());
    expect(all.length).toBeGreaterThan(10);
    for (const c of all) expect(c, c.name()).toBeInstanceOf(PitwallCommand);
  });
});

describe('reportError', () => {
  it('gives 1 for user errors reported together, and 70 when one of them is PW_INTERNAL', async () => {
    const { reportError } = await import('../../src/cli/main.js');
    const { AggregateUserError, InternalError, PlanError } = await import('../../src/errors.js');
    let out = '';
    const write = (s: string): void => { out += s; };
    const user = new PlanError('PW_SQL_SYNTAX', 'bad');
    expect(reportError(new AggregateUserError([user, user]), write)).toBe(1);
    expect(reportError(new AggregateUserError([user, new InternalError('broken')]), write)).toBe(70);
    expect(out).toContain('error[PW_INTERNAL] broken (this is a bug in pitwall; please report it)');
  });
});
