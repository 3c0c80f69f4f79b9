import net from 'node:net'
import { StartupError } from './startup-error.js'

/**
 * Fails fast, before the embedded PostgreSQL or the catalog are touched, when the API's
 * address cannot be listened on: one line naming the address and what to do.
 *
 * @example
 *   await assertCanListen('127.0.0.1', 5000)   // StartupError if the port is taken
 */
export async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return
  const server = net.createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port, exclusive: true }, resolve)
    })
  } catch (error) {
    throw listenFailure(error, host, port)
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** The one line for an error from listen() on host:port. */
export function listenFailure(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`port ${port} on ${host} is already in use by another program; set PORT to a free port, or stop that program`, { cause: error })
    case 'EACCES':
      return new StartupError(`not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); set PORT to 1024 or above and put Caddy in front`, { cause: error })
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(`HOST ${host} is not an address of this machine; set HOST to one of its addresses (127.0.0.1 by default, 0.0.0.0 for all)`, { cause: error })
    default:
      return error instanceof Error ? error : new Error(String(error))
  }
}
