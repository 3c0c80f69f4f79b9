import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import { freePort, startEmbeddedCluster } from '../../src/embedded/embedded-cluster.js'
import { pino } from '../../src/logger.js'
import { PoolExhausted, TenantDatabaseUnavailable } from '../../src/errors.js'
import { TenantPoolCache, type TenantConnectionInfo, type TenantPoolCacheOptions } from '../../src/tenancy/tenant-pool-cache.js'
import type { TenantDatabase } from '../../src/tenancy/tenant-schema.js'

const TENANTS = 30
const POOL_SIZE = 3

const tmp = await mkdtemp(path.join(os.tmpdir(), 'tenantd-pool-cache-'))
// Run as root, the server runs as the `postgres` user, which must reach the data dir.
await chmod(tmp, 0o755)
const superuserPassword = randomBytes(18).toString('base64url')
const cluster = await startEmbeddedCluster({
  dataDir: path.join(tmp, 'pg'),
  port: await freePort(),
  superuserPassword,
  throwaway: true,
})
const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: cluster.superuser, password: superuserPassword, database: 'postgres' })
await admin.connect()
t.teardown(async () => {
  await admin.end()
  await cluster.stop()
  await rm(tmp, { recursive: true, force: true })
})

/** Log lines, so tests can check what was (not) logged. */
const logLines: string[] = []
const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) })

const credentials = new Map<string, TenantConnectionInfo>()
for (let i = 0; i < TENANTS; i++) {
  const tenantId = `t${i}`
  const role = `tenant_role_${i}`
  const database = `tenant_${i}`
  const password = randomBytes(24).toString('base64url')
  await admin.query(`CREATE ROLE ${admin.escapeIdentifier(role)} LOGIN PASSWORD ${admin.escapeLiteral(password)}`)
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)} OWNER ${admin.escapeIdentifier(role)}`)
  await admin.query(`REVOKE ALL ON DATABASE ${admin.escapeIdentifier(database)} FROM PUBLIC`)
  credentials.set(tenantId, { tenantId, host: '127.0.0.1', port: cluster.port, database, user: role, password, poolSize: POOL_SIZE })
}

function connectionInfo(tenantId: string): Promise<TenantConnectionInfo> {
  const info = credentials.get(tenantId)
  return info ? Promise.resolve({ ...info }) : Promise.reject(new Error(`no tenant ${tenantId}`))
}

/** A cache destroyed when the test ends, so no pool outlives its test. */
function newCache(t: Test, options: Partial<TenantPoolCacheOptions> = {}): TenantPoolCache {
  const cache = new TenantPoolCache({ maxTenants: 8, connectionBudget: 12, idleMs: 10_000, log, connectionInfo, ...options })
  t.teardown(() => cache.destroy())
  return cache
}

/** Server connections to tenant databases, as PostgreSQL counts them. */
async function serverConnections(database?: string): Promise<number> {
  const result = database
    ? await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [database])
    : await admin.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where datname like 'tenant_%'")
  return result.rows[0]?.n ?? -1
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return condition()
}

const select1 = (db: Kysely<TenantDatabase>) =>
  sql<{ one: number }>`select 1 as one`.execute(db).then((r) => r.rows[0]?.one)

t.test('a burst of first requests for one tenant opens one pool', async (t) => {
  let created = 0
  const counting = newCache(t, {
    connectionInfo: (tenantId) => {
      created++
      return connectionInfo(tenantId)
    },
  })
  const results = await Promise.all(Array.from({ length: 100 }, () => counting.run('t0', select1)))
  t.same(new Set(results), new Set([1]), 'all 100 queries answered')
  t.equal(created, 1, 'credentials resolved once: one pool')
  const stats = counting.stats()
  t.equal(stats.pools, 1)
  t.equal(stats.tenants[0]?.tenantId, 't0')
  t.ok((stats.tenants[0]?.total ?? 99) <= POOL_SIZE, 'pool holds at most poolSize connections')
  t.ok((await serverConnections('tenant_0')) <= POOL_SIZE, 'server sees at most poolSize connections')
  t.ok(counting.has('t0'))
  t.notOk(counting.has('t1'))
})

t.test('more tenants than maxTenants: every query succeeds and the budget is never exceeded', async (t) => {
  const budget = 12
  const cache = newCache(t, { maxTenants: 8, connectionBudget: budget, acquireTimeoutMs: 20_000 })
  let maxSeen = 0
  let samples = 0
  let sampling = true
  // The sampler uses its own superuser connection to the postgres database, so it never
  // counts itself (datname like 'tenant_%').
  const sampler = (async () => {
    while (sampling) {
      maxSeen = Math.max(maxSeen, await serverConnections())
      samples++
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  const work: Promise<number>[] = []
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < TENANTS; i++) {
      work.push(cache.run(`t${i}`, async (db) => {
        await sql`select pg_sleep(0.05)`.execute(db)
        return i
      }))
    }
  }
  const results = await Promise.allSettled(work)
  sampling = false
  await sampler
  const failed = results.filter((r) => r.status === 'rejected')
  t.equal(failed.length, 0, 'no query failed', { failures: failed.slice(0, 3).map((r) => String((r as PromiseRejectedResult).reason)) })
  t.ok(samples > 10, `sampled pg_stat_activity ${samples} times`)
  t.comment(`max tenant connections seen: ${maxSeen} over ${samples} samples`)
  t.ok(maxSeen <= budget, `at most ${budget} server connections seen (max ${maxSeen})`)
  t.ok(maxSeen > 1, 'queries did run in parallel')
  const stats = cache.stats()
  t.ok(stats.connections <= budget)
  // Pools pushed out of the LRU while busy end once their last lease is back.
  t.ok(await until(async () => cache.stats().pools <= 8), `at most maxTenants pools once the burst is over (${cache.stats().pools})`)
  t.equal(stats.budget, budget)
  t.equal(stats.maxTenants, 8)
})

t.test('eviction while a lease is out does not break the query', async (t) => {
  const cache = newCache(t)
  const lease = await cache.acquire('t1')
  const slow = sql<{ one: number }>`select 1 as one from pg_sleep(0.3)`.execute(lease.db)
  await new Promise((resolve) => setTimeout(resolve, 50))
  let evicted = false
  const eviction = cache.evict('t1').then(() => (evicted = true))
  t.notOk(cache.has('t1'), 'evicted pool leaves the cache at once')
  t.equal((await slow).rows[0]?.one, 1, 'the in-flight query finishes')
  t.equal((await sql<{ two: number }>`select 2 as two`.execute(lease.db)).rows[0]?.two, 2, 'the lease still works until released')
  t.notOk(evicted, 'the old pool waits for its lease')
  lease.release()
  lease.release() // a second release is a no-op
  await eviction
  t.ok(await until(async () => (await serverConnections('tenant_1')) === 0), 'old pool closed its connections')
  t.equal(await cache.run('t1', select1), 1, 'a fresh pool answers afterwards')
  t.ok(cache.has('t1'))
})

t.test('an idle pool is closed after idleMs and its connections end', async (t) => {
  const cache = newCache(t, { idleMs: 300 })
  await Promise.all([cache.run('t2', select1), cache.run('t2', select1)])
  t.ok((await serverConnections('tenant_2')) >= 1, 'connections open while in use')
  t.ok(cache.has('t2'))
  t.ok(await until(async () => (await serverConnections('tenant_2')) === 0, 3000), 'server connections closed after idleMs')
  t.ok(await until(async () => !cache.has('t2'), 3000), 'pool left the cache')
  // A permit comes back on the client's 'end', just after the server has let go.
  t.ok(await until(async () => cache.stats().connections === 0), 'every budget permit came back')
})

t.test('an unreachable tenant database answers TenantDatabaseUnavailable; others keep working', async (t) => {
  const cache = newCache(t)
  const gone: TenantConnectionInfo = { ...credentials.get('t3')!, tenantId: 'gone', database: 'tenant_does_not_exist' }
  const wrongPassword: TenantConnectionInfo = { ...credentials.get('t3')!, tenantId: 'badpw', password: 'not-the-password' }
  const down: TenantConnectionInfo = { ...credentials.get('t3')!, tenantId: 'down', port: await freePort() }
  const broken = newCache(t, {
    connectionInfo: (tenantId) => {
      if (tenantId === 'gone') return Promise.resolve(gone)
      if (tenantId === 'badpw') return Promise.resolve(wrongPassword)
      if (tenantId === 'down') return Promise.resolve(down)
      return connectionInfo(tenantId)
    },
  })
  for (const tenantId of ['gone', 'badpw', 'down']) {
    const error = await broken.run(tenantId, select1).then(() => undefined, (e: unknown) => e)
    t.ok(error instanceof TenantDatabaseUnavailable, `${tenantId}: TenantDatabaseUnavailable`)
    t.match(error, { statusCode: 503, message: new RegExp(`tenant "${tenantId}" is not reachable`) })
    t.ok((error as Error).cause, `${tenantId}: keeps the driver error as cause`)
    t.notOk(broken.has(tenantId), `${tenantId}: failed pool is evicted`)
  }
  t.equal(await broken.run('t3', select1), 1, 'another tenant of the same cache keeps working')
  t.equal(await cache.run('t3', select1), 1)
  t.equal(broken.stats().connections, 1, 'failed connects gave their permits back')
  t.ok(logLines.some((line) => line.includes('"tenantId":"badpw"')), 'failures are logged by tenant')

  // A query error is not a connection failure: it passes through, the pool stays.
  const queryError = await broken.run('t3', (db) => sql`select * from no_such_table`.execute(db)).then(() => undefined, (e: unknown) => e)
  t.match(queryError, { code: '42P01' })
  t.ok(broken.has('t3'))
})

t.test('a terminated server connection is survived', async (t) => {
  const cache = newCache(t)
  t.equal(await cache.run('t4', select1), 1)
  await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = 'tenant_4'")
  // The idle client's error is logged, not thrown; the pool drops the dead client.
  t.ok(await until(async () => cache.stats().tenants.find((x) => x.tenantId === 't4')?.total === 0))
  t.equal(await cache.run('t4', select1), 1, 'next query opens a new connection')
  t.ok(logLines.some((line) => line.includes('idle tenant connection failed') && line.includes('"tenantId":"t4"')), 'the failure is logged')
})

/** Passwords replaced by changePassword, still checked for in the logs. */
const replacedPasswords: string[] = []

/** Gives tenant `tenantId`'s role a new password, on the server and in what connectionInfo returns. */
async function changePassword(tenantId: string): Promise<void> {
  const info = credentials.get(tenantId)!
  replacedPasswords.push(info.password)
  const password = randomBytes(24).toString('base64url')
  await admin.query(`ALTER ROLE ${admin.escapeIdentifier(info.user)} PASSWORD ${admin.escapeLiteral(password)}`)
  credentials.set(tenantId, { ...info, password })
}

/** Ends the server sessions of one tenant database and waits until its pool has dropped them. */
async function dropConnections(cache: TenantPoolCache, tenantId: string, database: string): Promise<boolean> {
  await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database])
  return until(async () => (cache.stats().tenants.filter((x) => x.tenantId === tenantId).every((x) => x.total === 0)))
}

t.test('a credential changed under a pool: the refused connection is opened with the current one, no query fails', async (t) => {
  const cache = newCache(t)
  t.equal(await cache.run('t20', select1), 1)
  t.ok(await dropConnections(cache, 't20', 'tenant_20'), 'the pool holds no connection')
  // The change's notification has not reached this cache: the pool still has the old password.
  await changePassword('t20')
  t.equal(await cache.run('t20', select1), 1, 'the query runs on a connection opened with the new password')
  t.ok(logLines.some((line) => line.includes('settings changed under a pool') && line.includes('"tenantId":"t20"')), 'the switch is logged')
  t.equal(await cache.run('t20', select1), 1, 'and the next one on the replacement pool')
  t.ok(await until(async () => cache.stats().pools === 1), 'the stale pool closed')
})

t.test("a credential changed under a pool on a replica whose cache has not heard of it yet: read again past the cache, no query fails", async (t) => {
  // Like tenantd's tenant directory before the change's notification arrives: the cached
  // settings are the pool's; only a fresh read sees the catalog's.
  let cached = { ...credentials.get('t24')! }
  const fresh: string[] = []
  const cache = newCache(t, {
    connectionInfo: async (tenantId, options) => {
      if (tenantId !== 't24') return connectionInfo(tenantId)
      if (options?.fresh) {
        fresh.push(tenantId)
        cached = { ...credentials.get('t24')! }
      }
      return { ...cached }
    },
  })
  t.equal(await cache.run('t24', select1), 1)
  t.ok(await dropConnections(cache, 't24', 'tenant_24'), 'the pool holds no connection')
  await changePassword('t24')
  t.equal(await cache.run('t24', select1), 1, 'the query runs on a connection opened with the catalog\'s password')
  t.same(fresh, ['t24'], 'one fresh read, on the refusal')
  t.equal(await cache.run('t24', select1), 1, 'the next one on the replacement pool')
  t.same(fresh, ['t24'], 'and no fresh read after that')
})

t.test('a retired pool finishing a request after its credential changed: the request does not fail', async (t) => {
  const cache = newCache(t)
  const lease = await cache.acquire('t21')
  t.equal(await select1(lease.db), 1)
  t.ok(await dropConnections(cache, 't21', 'tenant_21'))
  await changePassword('t21')
  // The notification arrived: the pool is retired, but this lease is still out and needs a connection.
  const eviction = cache.evict('t21')
  t.equal(await select1(lease.db), 1, 'the lease gets a connection with the current password')
  t.equal(
    await lease.db.transaction().execute(async (trx) => (await sql<{ two: number }>`select 2 as two`.execute(trx)).rows[0]?.two),
    2,
    'a transaction too'
  )
  lease.release()
  await eviction
  t.ok(await until(async () => cache.stats().connections === cache.stats().tenants.reduce((n, x) => n + x.total, 0)), 'every permit is accounted for')
  t.equal(await cache.run('t21', select1), 1)
})

t.test('a pool creation overtaken by evict() never adds its pool, even when a later creation is in flight', async (t) => {
  // The first two settings reads are answered by the test, in the order it chooses.
  const reads: Array<(info: TenantConnectionInfo) => void> = []
  const cache = newCache(t, {
    connectionInfo: (tenantId) => (tenantId === 't23' && reads.length < 2 ? new Promise((resolve) => reads.push(resolve)) : connectionInfo(tenantId)),
  })
  const first = cache.run('t23', select1)
  await until(async () => reads.length === 1)
  void cache.evict('t23') // the tenant changed while its settings were being read
  const second = cache.run('t23', select1)
  await until(async () => reads.length === 2)
  // The first read answers last-but-one with what it read before the change.
  reads[0]!({ ...credentials.get('t23')!, password: 'a-rotated-out-password' })
  await new Promise((resolve) => setImmediate(resolve))
  reads[1]!({ ...credentials.get('t23')! })
  t.same(await Promise.all([first, second]), [1, 1], 'both queries run')
  t.equal(cache.stats().pools, 1, 'one pool')
  t.notOk(logLines.some((line) => line.includes('"tenantId":"t23"') && line.includes('settings changed under a pool')), 'no pool was made with the stale settings')
})

t.test('a refused connection with unchanged settings still fails: the database really refuses', async (t) => {
  const stale: TenantConnectionInfo = { ...credentials.get('t22')!, password: 'an-old-password' }
  const cache = newCache(t, { connectionInfo: (tenantId) => (tenantId === 't22' ? Promise.resolve(stale) : connectionInfo(tenantId)) })
  const error = await cache.run('t22', select1).then(() => undefined, (e: unknown) => e)
  t.ok(error instanceof TenantDatabaseUnavailable)
  t.match((error as Error).cause, { code: '28P01' })
  t.notOk(logLines.some((line) => line.includes('settings changed under a pool') && line.includes('"tenantId":"t22"')))
})

t.test('PoolExhausted when no connection frees up in time', async (t) => {
  const cache = newCache(t, { connectionBudget: 1, acquireTimeoutMs: 200 })
  const busy = cache.run('t5', (db) => sql`select pg_sleep(0.6)`.execute(db))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const error = await cache.run('t6', select1).then(() => undefined, (e: unknown) => e)
  t.ok(error instanceof PoolExhausted, 'PoolExhausted')
  t.match(error, { statusCode: 503 })
  await busy
  t.equal(await cache.run('t6', select1), 1, 'works once the budget frees up (idle client of t5 reclaimed)')
  t.equal(cache.stats().connections, 1)
})

t.test('acquire after destroy rejects', async (t) => {
  const cache = new TenantPoolCache({ maxTenants: 2, connectionBudget: 4, idleMs: 10_000, log, connectionInfo })
  t.equal(await cache.run('t7', select1), 1)
  await cache.destroy()
  t.equal(await serverConnections('tenant_7'), 0, 'destroy closed the connections')
  t.equal(cache.stats().pools, 0)
  await t.rejects(cache.acquire('t7'), /shut down/)
  await t.rejects(cache.run('t8', select1), /shut down/)
})

t.test('no log line carries a password', async (t) => {
  t.ok(logLines.length > 0)
  const secrets = ['not-the-password', 'an-old-password', 'a-rotated-out-password', superuserPassword, ...replacedPasswords, ...[...credentials.values()].map((c) => c.password)]
  t.same(logLines.filter((line) => secrets.some((secret) => line.includes(secret))), [])
})
