/**
 * The answers of one lookup by key, kept `ttlMs` and at most `size` of them: least recently
 * used first out (a Map's insertion order, refreshed on every hit). Only service answers are
 * kept (rows and 404s), never fallbacks: a key that fell back is asked again.
 */
import type { LookupRow } from './lookup-answer.js';

export class LookupCache {
  readonly #entries = new Map<string, { row: LookupRow | null; expiresMs: number }>();
  readonly #ttlMs: number;
  readonly #size: number;

  constructor(ttlMs: number, size: number) {
    this.#ttlMs = ttlMs;
    this.#size = size;
  }

  /** The answer kept for `key` (refreshed as most recently used), or undefined (none, or expired at `nowMs`). */
  get(key: string, nowMs: number): { row: LookupRow | null } | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    if (e.expiresMs <= nowMs) return undefined;
    this.#entries.set(key, e);
    return { row: e.row };
  }

  set(key: string, row: LookupRow | null, nowMs: number): void {
    if (this.#size === 0 || this.#ttlMs === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { row, expiresMs: nowMs + this.#ttlMs });
    while (this.#entries.size > this.#size) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  get size(): number { return this.#entries.size; }
}
