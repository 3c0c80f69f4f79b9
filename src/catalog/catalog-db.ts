import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Logger } from '../logger.js'
import { endPool } from '../pool-shutdown.js'
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
  const db = new Kysely<CatalogDatabase>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    pool,
    connectionString,
    async destroy() {
      closing = true
      // Kysely's destroy() alone ends the pool without waiting for its sockets (see endPool).
      await endPool(pool, () => db.destroy())
    },
  }
}
