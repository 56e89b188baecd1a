/**
 * Addresses of a running Redpanda Connect: the `host:port` its HTTP server listens on, the
 * readiness probe, and the ingest path of each catalog stream.
 */
import { ExecutionError } from '../errors.js';

/** A listen address split into host and port. */
export interface HttpAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (IPv6 hosts in brackets: `[::1]:4195`); throws PW_BAD_OPTION otherwise. */
export function parseHttpAddress(address: string): HttpAddress {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port <= 65_535)) {
    throw new ExecutionError('PW_BAD_OPTION', `HTTP address '${address}' is not host:port (e.g. 127.0.0.1:4195)`);
  }
  return { host: m[1] as string, port };
}

/** The base URL a local client reaches the server at: a wildcard listen address means loopback. */
export function connectBaseUrl(address: string): string {
  const { host, port } = parseHttpAddress(address);
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reach}:${port}`;
}

/** The path a stream's events are POSTed to: one JSON event or an NDJSON batch per request. */
export function ingestPath(stream: string): string {
  return `/ingest/${stream}`;
}

/** Connect's readiness probe: 200 once every input and output is connected, 503 before. */
export function readyUrl(address: string): string {
  return `${connectBaseUrl(address)}/ready`;
}

/** The full ingest URL of a stream on a server listening at `address`. */
export function ingestUrl(address: string, stream: string): string {
  return `${connectBaseUrl(address)}${ingestPath(stream)}`;
}
