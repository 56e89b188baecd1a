/**
 * A room-info service on 127.0.0.1 for enrichment tests (node:http): answers
 * `/rooms/<id>` with `{ roomId, name, capacity }`, 404 for ids starting with `none`, and can be
 * told to slow down (per key or all), fail (HTTP 500), answer garbage, or hang (never answer).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode = 'ok' | 'fail' | 'hang' | 'garbage';

export class LookupServer {
  mode: Mode = 'ok';
  /** Delay (ms) per key, and for every key. */
  readonly slowKeys = new Map<string, number>();
  delayMs = 0;
  /** Keys answered with HTTP 500 whatever the mode. */
  readonly failKeys = new Set<string>();
  /** Keys in the order requests arrived. */
  readonly requests: string[] = [];
  /** Keys in the order answers were sent. */
  readonly answered: string[] = [];
  readonly #server: Server;
  readonly #hanging = new Set<ServerResponse>();
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const r of this.#hanging) r.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const key = decodeURIComponent((req.url ?? '').replace(/^\/rooms\//, ''));
    this.requests.push(key);
    if (this.mode === 'hang') { this.#hanging.add(res); res.on('close', () => this.#hanging.delete(res)); return; }
    const answer = (): void => {
      this.answered.push(key);
      if (this.mode === 'fail' || this.failKeys.has(key)) { res.writeHead(500).end('down'); return; }
      if (this.mode === 'garbage') { res.writeHead(200, { 'content-type': 'application/json' }).end('{"capacity":"lots"}'); return; }
      if (key.startsWith('none')) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ roomId: key, name: `Hall ${key}`, capacity: key.length * 10 }));
    };
    const delay = this.slowKeys.get(key) ?? this.delayMs;
    if (delay > 0) setTimeout(answer, delay); else answer();
  }
}
