import t from 'tap'
import type pg from 'pg'
import { sql } from 'kysely'
import { openCatalog } from '../../src/catalog/catalog-db.js'
import { pino } from '../../src/logger.js'
import { startTestCluster } from '../helpers/cluster.js'

// Shutting the catalog down: destroy() returns only once every connection's socket has
// closed. pg-pool's end() resolves as soon as it has asked its clients to end, so a server
// stopped right after it (the embedded one, on SIGINT) used to cut connections still saying
// goodbye, and tenantd logged "catalog connection lost" while stopping cleanly.

const cluster = await startTestCluster(t)
const log = pino({ level: 'silent' })

t.test('destroy() waits until the last socket has closed', async (t) => {
  const catalog = openCatalog(cluster.url(), log, 6)
  const clients: pg.PoolClient[] = []
  const ended = new Set<pg.PoolClient>()
  catalog.pool.on('connect', (client) => {
    clients.push(client)
    client.on('end', () => ended.add(client))
  })
  // Six at once: six connections, idle in the pool afterwards.
  await Promise.all(Array.from({ length: 6 }, () => sql`select pg_sleep(0.05)`.execute(catalog.db)))
  t.equal(clients.length, 6, 'six connections were open')
  await catalog.destroy()
  t.equal(ended.size, clients.length, 'every socket had closed when destroy() returned')
})
