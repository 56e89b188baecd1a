/**
 * Option values: one reader per kind of value, and every numeric, duration or instant option of
 * every command reads through one of them, so garbage is PW_BAD_OPTION at startup instead of a
 * NaN that silently disables a cap.
 */
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { durationMs, fraction, MAX_TIMER_MS, nonNegativeInt, portNumber, positiveInt, positiveNumber, timestampMs } from '../../src/cli/option-values.js';
import { PitwallError } from '../../src/errors.js';

function badOption(read: () => unknown): PitwallError {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(PitwallError);
    expect((err as PitwallError).code).toBe('PW_BAD_OPTION');
    return err as PitwallError;
  }
  throw new Error('expected PW_BAD_OPTION');
}

/** Every (command path, option) of the program, subcommands included. */
function allOptions(cmd: Command, path: string[] = []): { command: string; option: Option }[] {
  const here = [...path, cmd.name()];
  return [
    ...cmd.options.map((option) => ({ command: here.join(' '), option })),
    ...cmd.commands.flatMap((c) => allOptions(c, here)),
  ];
}

describe('option readers', () => {
  it('positiveInt takes whole numbers of 1 or more only, naming the option', () => {
    const read = positiveInt('--max-groups');
    expect(read('1')).toBe(1);
    expect(read(' 1000000 ')).toBe(1_000_000);
    for (const v of ['abc', '-5', '0', '1.5', '', '1e3', '10x', '0x10', '99999999999999999999']) {
      expect(badOption(() => read(v)).message).toContain(`--max-groups '${v}'`);
    }
    expect(positiveInt('--n', 10)('10')).toBe(10);
    expect(badOption(() => positiveInt('--n', 10)('11')).message).toContain('from 1 to 10');
  });

  it('nonNegativeInt and portNumber keep their ranges', () => {
    expect(nonNegativeInt('--seed', 4_294_967_295)('0')).toBe(0);
    expect(nonNegativeInt('--seed', 4_294_967_295)('4294967295')).toBe(4_294_967_295);
    badOption(() => nonNegativeInt('--seed', 4_294_967_295)('4294967296'));
    badOption(() => nonNegativeInt('--seed')('-1'));
    expect(portNumber('--port')('0')).toBe(0);
    expect(portNumber('--port')('65535')).toBe(65_535);
    for (const v of ['65536', '-1', 'http', '80.5']) badOption(() => portNumber('--port')(v));
  });

  it('positiveNumber and fraction take finite decimals in range', () => {
    expect(positiveNumber('--rate')('2.5')).toBe(2.5);
    expect(positiveNumber('--rate')('1e3')).toBe(1000);
    for (const v of ['0', '-1', 'abc', 'Infinity', 'NaN', '', '1e999', '0x10']) badOption(() => positiveNumber('--rate')(v));
    expect(fraction('--late')('0')).toBe(0);
    expect(fraction('--late')('1')).toBe(1);
    expect(fraction('--late')('.03')).toBe(0.03);
    for (const v of ['1.01', '-0.1', 'half', '']) badOption(() => fraction('--late')(v));
  });

  it('durationMs takes positive durations a timer can wait; timestampMs ISO instants', () => {
    expect(durationMs('--checkpoint-interval')('500ms')).toBe(500);
    expect(durationMs('--checkpoint-interval')('5s')).toBe(5000);
    // A Node.js timer longer than 2^31 - 1 ms fires at once: 30d would checkpoint every millisecond.
    for (const v of ['0s', '30d', '5', 'soon', '-5s']) badOption(() => durationMs('--checkpoint-interval')(v));
    expect(durationMs('--duration', Number.MAX_SAFE_INTEGER)('30d')).toBe(30 * 86_400_000);
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(timestampMs('--start')('2024-03-15T19:00:00Z')).toBe(Date.UTC(2024, 2, 15, 19));
    badOption(() => timestampMs('--start')('yesterday'));
  });
});

describe('every command', () => {
  // Value names that hold a number, a duration or an instant.
  const NUMERIC = /<(n|duration|d|fraction|iso)>/;
  const options = allOptions(buildProgram()).filter(({ option }) => NUMERIC.test(option.flags));

  it('has numeric options, each read through an option reader (never parseInt or Number)', () => {
    const names = options.map(({ command, option }) => `${command} ${option.long ?? option.flags}`);
    for (const expected of ['pitwall replay --max-groups', 'pitwall replay --max-dedup-ids', 'pitwall run --max-groups', 'pitwall run --max-dedup-ids',
      'pitwall run --port', 'pitwall run --checkpoint-interval', 'pitwall run --reconcile-every', 'pitwall demo --port', 'pitwall demo --rate',
      'pitwall demo --duration', 'pitwall gen --rate', 'pitwall gen --seed', 'pitwall gen --duplicates', 'pitwall gen --late', 'pitwall gen --malformed', 'pitwall gen --start']) {
      expect(names).toContain(expected);
    }
    for (const { command, option } of options) {
      const where = `${command} ${option.flags}`;
      expect(option.parseArg, where).toBeTypeOf('function');
      const parse = option.parseArg as (value: string, previous: unknown) => unknown;
      // Garbage and negative values are refused with the option's name.
      for (const v of ['abc', '-5']) expect(badOption(() => parse(v, undefined)).message, where).toContain(option.long as string);
      // Defaults are given already read (commander does not parse them).
      if (option.defaultValue !== undefined) expect(typeof option.defaultValue, where).toBe('number');
    }
  });
});
