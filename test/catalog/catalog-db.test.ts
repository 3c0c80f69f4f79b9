import t from 'tap'
import pg from 'pg'
import { sql } from 'kysely'
import { openCatalog } from '../../src/catalog/catalog-db.js'
import { pino } from '../../src/logger.js'
import { endPool } from '../../src/pool-shutdown.js'
import { startTestCluster } from '../helpers/cluster.js'
import { waitFor } from '../helpers/wait-for.js'

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

t.test('endPool() on a plain pool waits for a client still checked out, then for its socket', async (t) => {
  const pool = new pg.Pool({ connectionString: cluster.url(), max: 3 })
  const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()])
  const ended = new Set<pg.PoolClient>()
  for (const client of clients) client.on('end', () => ended.add(client))
  clients[0]!.release()
  clients[1]!.release()
  let done = false
  const ending = endPool(pool).then(() => {
    done = true
  })
  await waitFor('the idle sockets to close', async () => (ended.size === 2 ? true : undefined))
  t.notOk(done, 'not done while a client is still checked out')
  clients[2]!.release()
  await ending
  t.equal(ended.size, 3, 'every socket had closed when endPool() returned')
})
