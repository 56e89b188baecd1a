/**
 * Whole-state JSON checkpoints (`checkpoint.json`): the engine snapshot (operator state
 * together with the next offset of every input partition) written atomically — to a temp
 * file, fsynced, renamed over `checkpoint.json`, directory fsynced — so a crash at any moment
 * leaves either the previous or the new checkpoint, never a torn one. `pitwall run` checkpoints
 * incrementally to the state store (state/state-store.ts) and reads this file only to migrate
 * a state directory written by an earlier pitwall.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionError } from '../errors.js';
import { writeFileAtomically } from '../util/atomic-file.js';
import type { EngineSnapshot } from './engine.js';

export class CheckpointStore {
  readonly dir: string;
  readonly #path: string;

  /** The checkpoint file's path. */
  get path(): string { return this.#path; }

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.#path = join(dir, 'checkpoint.json');
  }

  /** The latest checkpoint, or undefined when there is none. */
  load(): EngineSnapshot | undefined {
    if (!statSync(this.#path, { throwIfNoEntry: false })) return undefined;
    try {
      return JSON.parse(readFileSync(this.#path, 'utf8')) as EngineSnapshot;
    } catch (err) {
      throw new ExecutionError('PW_CHECKPOINT_CORRUPT', `checkpoint ${this.#path} cannot be read (${(err as Error).message}); move it away to start from the committed offsets`, { cause: err });
    }
  }

  /** Writes `snap` atomically; returns the bytes written. */
  save(snap: EngineSnapshot): number {
    return writeFileAtomically(this.#path, JSON.stringify(snap));
  }
}
