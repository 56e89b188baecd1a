/**
 * Bearer-token access. Tokens come from config with a scope: `read` (the /v1 API, /metrics)
 * or `admin` (also what changes state). With no tokens configured, access is open. A token is
 * read from `Authorization: Bearer …` or, for browsers' EventSource, `?access_token=…`.
 */
import type { FastifyRequest } from 'fastify';
import { ServeError } from './serve-errors.js';

export type Scope = 'read' | 'admin';

export interface TokenConfig { readonly token: string; readonly scope: Scope }

export function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  // The scheme is case-insensitive (RFC 9110 §11.1): Bearer, bearer, BEARER.
  const m = h === undefined ? null : /^bearer +(\S+)\s*$/i.exec(h);
  if (m) return m[1];
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  return typeof q === 'string' ? q : undefined;
}

/** Throws 401/403 unless the request carries a token with `scope` (admin implies read). */
export function requireScope(tokens: readonly TokenConfig[], req: FastifyRequest, scope: Scope): void {
  if (tokens.length === 0) return;
  const token = tokenOf(req);
  if (!token) throw new ServeError('PW_SERVE_UNAUTHORIZED', 'a bearer token is required: send Authorization: Bearer <token>');
  const found = tokens.find((t) => t.token === token);
  if (!found) throw new ServeError('PW_SERVE_UNAUTHORIZED', 'unknown token');
  if (scope === 'admin' && found.scope !== 'admin') throw new ServeError('PW_SERVE_FORBIDDEN', 'this needs a token with the admin scope');
}
