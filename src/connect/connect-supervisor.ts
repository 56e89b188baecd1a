/**
 * Runs Redpanda Connect as a supervised child process (execa): writes the generated config to a
 * file, starts the binary, waits for `/ready`, forwards its JSON log lines as `connect:` lines,
 * and restarts it with exponential backoff ({@link RestartBackoff}) whenever it exits without
 * being asked to. `stop()` sends SIGTERM, waits up to `stopTimeoutMs`, then SIGKILLs.
 *
 * Invariants: at most one child at a time; after `stop()` resolves no child is running and no
 * restart is pending. execa's `cleanup` kills the child if pitwall itself exits, so a crash of
 * pitwall leaves no orphan behind. A child exiting on its own (Ctrl-C reaching the whole process
 * group included) is only restarted after the backoff delay, and never once `stop()` was called.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { ExecutionError, InternalError } from '../errors.js';
import { formatConnectLog, parseConnectLog } from './connect-log.js';
import { readyUrl } from './connect-urls.js';
import type { ConnectCommand } from './find-connect-binary.js';
import { RestartBackoff, type BackoffPolicy } from './restart-backoff.js';
import { waitReady } from './wait-ready.js';

export interface ConnectSupervisorOptions {
  readonly binary: ConnectCommand;
  /** The config text (from `generateConnectConfig`). */
  readonly configYaml: string;
  /** The config's `http.address`, where `/ready` is polled. */
  readonly httpAddress: string;
  /** Directory for `connect.yaml`; default a fresh temporary directory, removed by `stop()`. */
  readonly stateDir?: string;
  /** Receives every log line (Connect's and the supervisor's), without a trailing newline. */
  readonly log?: (line: string) => void;
  /** Bound on waiting for `/ready` at start (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL in `stop()` (default 10 s). */
  readonly stopTimeoutMs?: number;
  readonly backoff?: Partial<BackoffPolicy>;
  /** The child's stdin: `inherit` for the `stdin` input, else `ignore` (default). */
  readonly stdin?: 'inherit' | 'ignore';
  /** Extra environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
}

interface Child {
  readonly sub: ResultPromise;
  readonly pid: number;
  readonly startedAtMs: number;
  exited: boolean;
  /** Settles when the process has exited and its output is drained. */
  readonly done: Promise<void>;
}

const TAIL_LINES = 20;

export class ConnectSupervisor {
  readonly #opts: ConnectSupervisorOptions;
  readonly #backoff: RestartBackoff;
  readonly #tail: string[] = [];
  #configPath: string | undefined;
  #ownDir: string | undefined;
  #child: Child | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  /** Set once the first start was ready: only from then on is an exit restarted. */
  #supervising = false;
  #stopping = false;
  #restarts = 0;

  constructor(opts: ConnectSupervisorOptions) {
    this.#opts = opts;
    this.#backoff = new RestartBackoff(opts.backoff);
  }

  /** Restarts after unexpected exits so far. */
  get restarts(): number { return this.#restarts; }

  /** The running child's pid, or undefined between a crash and its restart. */
  get pid(): number | undefined { return this.#child && !this.#child.exited ? this.#child.pid : undefined; }

  /** Where the config was written (set by `start()`). */
  get configPath(): string | undefined { return this.#configPath; }

  /**
   * Writes the config, starts Connect and resolves once `/ready` answers 200. Throws
   * PW_CONNECT_NOT_READY (with Connect's last log lines) when it exits first or the bound passes.
   */
  async start(): Promise<void> {
    if (this.#started) throw new InternalError('ConnectSupervisor.start() called twice');
    this.#started = true;
    const dir = this.#opts.stateDir ?? (this.#ownDir = mkdtempSync(join(tmpdir(), 'pitwall-connect-')));
    mkdirSync(dir, { recursive: true });
    this.#configPath = join(dir, 'connect.yaml');
    writeFileSync(this.#configPath, this.#opts.configYaml);
    const child = this.#spawn();
    const timeoutMs = this.#opts.readyTimeoutMs ?? 30_000;
    const ready = await waitReady(readyUrl(this.#opts.httpAddress), { timeoutMs, abandon: () => child.exited });
    if (ready) {
      this.#supervising = true;
      this.#say(`ready at ${readyUrl(this.#opts.httpAddress)} (pid ${child.pid}, ${this.#opts.binary.via})`);
      return;
    }
    const why = child.exited ? 'exited before it was ready' : `did not report ready at ${readyUrl(this.#opts.httpAddress)} within ${timeoutMs / 1000}s`;
    await this.stop();
    throw new ExecutionError('PW_CONNECT_NOT_READY', `Redpanda Connect ${why}; its last lines:\n${this.#tail.map((l) => `  ${l}`).join('\n') || '  (none)'}`);
  }

  /** Resolves once `/ready` answers 200 (e.g. after a restart); false when the bound passes. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    return waitReady(readyUrl(this.#opts.httpAddress), { timeoutMs, abandon: () => this.#stopping });
  }

  /** Stops Connect: SIGTERM, then SIGKILL after `stopTimeoutMs`; cancels any pending restart. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    if (child && !child.exited) {
      const graceMs = this.#opts.stopTimeoutMs ?? 10_000;
      child.sub.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        child.done.then(() => true),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(false), graceMs); }),
      ]);
      clearTimeout(timer);
      if (!inTime) {
        this.#say(`did not stop within ${graceMs / 1000}s of SIGTERM: SIGKILL`);
        child.sub.kill('SIGKILL');
        await child.done;
      }
    }
    if (this.#ownDir) rmSync(this.#ownDir, { recursive: true, force: true });
    this.#ownDir = undefined;
  }

  #say(msg: string): void {
    this.#opts.log?.(`${new Date().toISOString()} pitwall: connect supervisor: ${msg}`);
  }

  #forward(stream: Readable | null): Promise<void> {
    if (!stream) return Promise.resolve();
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (!line.trim()) return;
      const formatted = formatConnectLog(parseConnectLog(line));
      this.#tail.push(formatted);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      this.#opts.log?.(formatted);
    });
    return new Promise((resolve) => rl.once('close', resolve));
  }

  #spawn(): Child {
    const { command, args } = this.#opts.binary;
    const sub = execa(command, [...args, 'run', this.#configPath as string], {
      stdin: this.#opts.stdin ?? 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false,
      cleanup: true, forceKillAfterDelay: this.#opts.stopTimeoutMs ?? 10_000,
      env: { ...this.#opts.env }, extendEnv: true,
    });
    const outputs = Promise.all([this.#forward(sub.stdout), this.#forward(sub.stderr)]);
    const child: Child = {
      sub, pid: sub.pid ?? -1, startedAtMs: Date.now(), exited: false,
      done: sub.then(async (result) => {
        child.exited = true;
        await outputs;
        this.#onExit(child, result.exitCode, result.signal);
      }),
    };
    this.#child = child;
    return child;
  }

  #onExit(child: Child, code: number | undefined, signal: string | undefined): void {
    const how = signal ? `signal ${signal}` : `code ${code ?? '?'}`;
    if (this.#stopping || !this.#supervising) {
      // A failed first start is reported by start() itself, with Connect's last lines.
      this.#say(`${this.#stopping ? 'stopped' : 'exited during start'} (pid ${child.pid}, ${how})`);
      return;
    }
    const ranForMs = Date.now() - child.startedAtMs;
    const delayMs = this.#backoff.next(ranForMs);
    this.#say(`exited unexpectedly (pid ${child.pid}, ${how}, after ${(ranForMs / 1000).toFixed(1)}s); restarting in ${delayMs}ms`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopping) return;
      this.#restarts++;
      const next = this.#spawn();
      this.#say(`restart #${this.#restarts} (pid ${next.pid})`);
      void waitReady(readyUrl(this.#opts.httpAddress), { timeoutMs: this.#opts.readyTimeoutMs ?? 30_000, abandon: () => next.exited || this.#stopping })
        .then((ok) => { if (ok) this.#say(`ready again after restart #${this.#restarts} (pid ${next.pid})`); });
    }, delayMs);
  }
}
