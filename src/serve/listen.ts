/**
 * Starts serving on `host:port`, turning the listen failures a user causes into coded errors
 * with their fix (not PW_INTERNAL): the port is taken (PW_PORT_IN_USE), needs privileges
 * (PW_PORT_DENIED), or the host is not an address of this machine (PW_BAD_OPTION).
 */
import type { FastifyInstance } from 'fastify';
import { ExecutionError } from '../errors.js';

/**
 * Resolves with the address served (`http://host:port`); on failure closes `app` and rejects.
 *
 * @throws ExecutionError PW_PORT_IN_USE | PW_PORT_DENIED | PW_BAD_OPTION; anything else as it came.
 */
export async function listenOn(app: FastifyInstance, port: number, host: string): Promise<string> {
  try {
    return await app.listen({ port, host });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new ExecutionError('PW_PORT_IN_USE', `port ${port} on ${host} is already in use by another program: pass --port N with a free port (--port 0 picks one), or stop what holds ${port}`, { cause: err });
    }
    if (code === 'EACCES') {
      throw new ExecutionError('PW_PORT_DENIED', `not allowed to listen on port ${port} (ports below 1024 need privileges): pass --port N with N ≥ 1024`, { cause: err });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new ExecutionError('PW_BAD_OPTION', `--host ${host} is not an address of this machine: pass --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`, { cause: err });
    }
    throw err;
  }
}
