/**
 * The commander command every `pitwall` subcommand is built on. An action returns its exit
 * status (nothing means 0); the root command keeps the status of the action that ran, and
 * `main()` returns it. So a command reports a failure by returning 1, never by setting
 * `process.exitCode`, which the bin overwrites with what `main()` returns.
 */
import { Command } from 'commander';

/** What an action returns: its exit status; nothing (undefined) means 0. */
export type ActionStatus = number | undefined | void;

/** An action as commander calls it: positional arguments, then options, then the command. */
export type StatusAction = (...args: never[]) => ActionStatus | Promise<ActionStatus>;

export class PitwallCommand extends Command {
  #status: number | undefined;

  /** Subcommands (`program.command('x')`) are PitwallCommands too. */
  override createCommand(name?: string): PitwallCommand {
    return new PitwallCommand(name);
  }

  /** Registers an action whose returned status becomes the root command's {@link status}. */
  override action(fn: StatusAction): this {
    return super.action(async (...args: unknown[]) => {
      const status = await fn(...(args as never[]));
      this.root.#status = typeof status === 'number' ? status : 0;
    });
  }

  /** The root of this command's tree (the program). */
  get root(): PitwallCommand {
    return this.parent instanceof PitwallCommand ? this.parent.root : this;
  }

  /** The exit status of the action that ran (undefined before one ran, or when none did). */
  get status(): number | undefined {
    return this.root.#status;
  }
}
