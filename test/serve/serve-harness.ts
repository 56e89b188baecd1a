/**
 * Shared fixtures for the serving tests: the sample catalog and metrics, an engine feeding a
 * serving store with generated food-delivery events, fake engine handles, and a raw SSE client.
 */
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../../src/catalog/index.js';
import { Engine } from '../../src/hot/engine.js';
import type { EnrichmentFigures } from '../../src/hot/enrichment/build-stages.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { loadQueries } from '../../src/plan/index.js';
import type { EngineHandle } from '../../src/serve/engine-handle.js';
import type { ChangeEvent } from '../../src/serve/serving-store.js';
import { ServingStore } from '../../src/serve/serving-store.js';
import { generate, type GeneratorOptions } from '../../src/sources/generator.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const catalog = loadCatalog(join(ROOT, 'catalog'));
export const plans = loadQueries(join(ROOT, 'queries'), catalog);

export interface Fixture {
  readonly store: ServingStore;
  readonly engine: Engine;
  readonly handle: EngineHandle;
  readonly records: readonly RawRecord[];
  /** Every change the store applied, per metric, in order (as its subscribers saw them). */
  readonly applied: Map<string, ChangeEvent[]>;
  /** Processes records [from, to) in batches of `batch`. */
  feed(from: number, to: number, batch?: number): void;
}

export interface FixtureOptions {
  /** Generated food-delivery events (default 3,000). */
  readonly events?: number;
  /** Process every record now (default true). */
  readonly process?: boolean;
  /** Close every window after processing (default true). */
  readonly close?: boolean;
  readonly batch?: number;
  readonly store?: { maxWindows?: number; maxChanges?: number };
  readonly generator?: GeneratorOptions;
}

export function fixture(opts: FixtureOptions = {}): Fixture {
  const store = new ServingStore(plans, opts.store);
  const applied = new Map<string, ChangeEvent[]>(plans.map((p) => [p.name, []]));
  for (const p of plans) store.subscribe(p.name, (e) => applied.get(p.name)?.push(e));
  const engine = new Engine(catalog, plans, { result: (p, c) => store.apply(p, c) });
  const records = generate('food-delivery', opts.events ?? 3000, { seed: 3, ratePerSec: 5, ...opts.generator })
    .map((r, i): RawRecord => ({ partition: 0, offset: i, value: r.value }));
  const feed = (from: number, to: number, batch = opts.batch ?? records.length): void => {
    for (let i = from; i < to; i += batch) engine.process('orders', records.slice(i, Math.min(to, i + batch)), 0);
  };
  if (opts.process ?? true) {
    feed(0, records.length);
    if (opts.close ?? true) engine.endOfInput();
  }
  return { store, engine, handle: handleOf(engine), records, applied, feed };
}

/** Figures of one external lookup, for scrapes with every series present. */
export function enrichmentFigures(): Record<string, EnrichmentFigures> {
  return { geo: { cacheHits: 5, answered: 9, failed: 3, fallbacks: { breaker_open: 4, timeout: 2, http_status: 1, network: 0, bad_response: 0 }, opened: 1, state: 'open', waiting: 2, windowFullSeconds: 1.5 } };
}

export function handleOf(engine: Engine, overrides: Partial<EngineHandle> = {}): EngineHandle {
  return { plans, engine, lag: () => new Map(), lastCheckpointAt: () => undefined, ...overrides };
}

export interface SseFrame { readonly id?: string; readonly event: string; readonly data: string }

export interface SseClient {
  readonly frames: SseFrame[];
  /** Resolves with the response status once headers arrive. */
  readonly opened: Promise<number>;
  /** Resolves when the server ends or drops the connection. */
  readonly ended: Promise<void>;
  readonly req: http.ClientRequest;
  /** Waits until `pred(frames)` holds (rejects after `timeoutMs`). */
  waitFor(pred: (frames: readonly SseFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A raw `text/event-stream` client: parses `id:`, `event:`, `data:` frames itself. */
export function sseConnect(url: string, headers: Record<string, string> = {}, options: { read?: boolean } = {}): SseClient {
  const frames: SseFrame[] = [];
  let buf = '';
  let resolveOpen: (status: number) => void = () => undefined;
  let resolveEnd: () => void = () => undefined;
  const opened = new Promise<number>((r) => { resolveOpen = r; });
  const ended = new Promise<void>((r) => { resolveEnd = r; });
  const req = http.get(url, { headers, agent: false }, (res) => {
    resolveOpen(res.statusCode ?? 0);
    res.on('close', () => resolveEnd());
    if (options.read === false) { res.pause(); return; }
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let id: string | undefined;
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (id === undefined && data.length === 0) continue; // a comment (keep-alive)
        frames.push({ ...(id === undefined ? {} : { id }), event, data: data.join('\n') });
      }
    });
  });
  req.on('error', () => resolveEnd());
  req.on('close', () => resolveEnd());
  return {
    frames, opened, ended, req,
    waitFor: (pred, timeoutMs = 10_000) => waitUntil(() => pred(frames), timeoutMs, () => `SSE frames: ${frames.length}, last ${JSON.stringify(frames.at(-1))}`),
    close: () => { req.destroy(); },
  };
}

/** Polls `cond` until it holds (rejects with `describe()` after `timeoutMs`). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms ${describe()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The changes carried by `upsert`/`delete` frames. */
export const changesOf = (frames: readonly SseFrame[]): ChangeEvent[] =>
  frames.filter((f) => f.event === 'upsert' || f.event === 'delete').map((f) => JSON.parse(f.data) as ChangeEvent);

/** Value of one Prometheus sample (`name{labels} value`), or undefined when absent. */
export function promValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}
