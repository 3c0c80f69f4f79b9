import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Logger } from '../logger.js'
import type { CatalogDatabase } from './catalog-schema.js'

// int8 (count(*), bigint ids) as JS numbers: every count tenantd reads fits easily.
pg.types.setTypeParser(20, (value) => Number(value))

export type CatalogDb = Kysely<CatalogDatabase>

export interface Catalog {
  db: CatalogDb
  pool: pg.Pool
  connectionString: string
  destroy(): Promise<void>
}

/**
 * Opens the catalog database: one pg.Pool wrapped in Kysely.
 *
 * @example
 *   const catalog = openCatalog('postgres://tenantd:pw@127.0.0.1:5432/tenantd', log)
 *   await catalog.db.selectFrom('tenants').selectAll().execute()
 */
export function openCatalog(connectionString: string, log: Logger, max = 10): Catalog {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 })
  let closing = false
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', (error) => {
    const err = { message: error.message, code: (error as { code?: string }).code }
    if (closing) log.debug({ err }, 'catalog connection ended during shutdown')
    else log.warn({ err }, 'catalog connection lost')
  })
  const sockets = openSockets(pool)
  const db = new Kysely<CatalogDatabase>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    pool,
    connectionString,
    async destroy() {
      closing = true
      await db.destroy()
      // pool.end() resolves once it has asked its clients to end, before their sockets close:
      // a server stopped right after (the embedded one) would otherwise cut them mid-goodbye.
      await sockets.closed(5_000)
    },
  }
}

/**
 * Counts a pool's connected clients (pg-pool emits 'connect' for each, and 'remove' once a
 * removed client's socket has closed), so shutdown can wait for the last socket.
 */
function openSockets(pool: pg.Pool): { closed(timeoutMs: number): Promise<void> } {
  let open = 0
  const waiters = new Set<() => void>()
  pool.on('connect', () => {
    open++
  })
  pool.on('remove', () => {
    open--
    if (open <= 0) for (const wake of waiters) wake()
  })
  return {
    closed(timeoutMs) {
      if (open <= 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, timeoutMs)
        timer.unref()
        waiters.add(done)
      })
    },
  }
}
