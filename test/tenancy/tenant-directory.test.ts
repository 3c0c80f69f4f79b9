import t from 'tap'
import { pino } from '../../src/logger.js'
import { TenantDirectory } from '../../src/tenancy/tenant-directory.js'
import { startHarness } from '../helpers/harness.js'

// The tenant directory's index and record cache: bounded records, changes made behind
// tenantd's back (plain SQL) picked up through NOTIFY, and a lost LISTEN connection
// followed by a full reload that catches up with what was missed meanwhile.

const h = await startHarness(t)
const { catalogDb } = h
const tenants = [
  await h.provision({ name: 'One', slug: 'one' }),
  await h.provision({ name: 'Two', slug: 'two' }),
  await h.provision({ name: 'Three', slug: 'three' }),
]

const directory = new TenantDirectory(h.tenantd.catalog.db, pino({ level: 'silent' }), { maxRecords: 2 })
await directory.listen(h.env.DATABASE_URL!)
t.teardown(() => directory.close())

async function waitFor<T>(what: string, probe: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

t.test('records are bounded; an evicted tenant is read again', async (t) => {
  t.match(directory.stats(), { tenants: 3, domains: 0, records: 0, authoritative: true }, 'every live tenant indexed at listen()')
  for (const slug of ['one', 'two', 'three']) t.equal((await directory.find(slug))?.slug, slug)
  t.equal(directory.stats().records, 2, 'at most maxRecords records kept')
  t.equal(directory.peek('one'), undefined, 'the least recently used one was dropped')
  t.equal((await directory.find('one'))?.slug, 'one', 'and is found again')
  t.equal(directory.peek('nobody'), null, 'an unknown key is known absent without a lookup')
  t.equal(directory.peekSubdomain('one')?.slug, 'one', 'a cached tenant by its subdomain')
  t.equal(directory.peek(tenants[0]!.id.toUpperCase())?.slug, 'one', 'by id in any case')
})

t.test('a change made with plain SQL reaches the directory through NOTIFY', async (t) => {
  t.equal((await directory.find('two'))?.name, 'Two')
  await h.catalogQuery(`update tenants set name = 'Two Renamed', subdomain = 'two-b' where slug = 'two'`)
  await waitFor('the new subdomain', () => directory.peekSubdomain('two-b'), (r) => r !== null)
  t.equal((await directory.findBySubdomain('two-b'))?.name, 'Two Renamed', 'the record is read again')
  t.equal(await directory.findBySubdomain('two'), null, 'the old subdomain names nobody')
  t.equal((await directory.find('two'))?.subdomain, 'two-b', 'the slug still finds it')
})

t.test('a lost LISTEN connection: changes missed meanwhile are caught up by the full reload', async (t) => {
  const listeners = await h.cluster.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = $1 and query = 'listen tenantd_tenant_changed'`,
    [catalogDb]
  )
  t.ok(listeners.rowCount! >= 1, 'listener sessions found')
  t.equal((await directory.find('three'))?.status, 'active')
  await h.cluster.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and query = 'listen tenantd_tenant_changed'`, [catalogDb])
  await waitFor('the directory to notice', () => directory.stats().authoritative, (a) => !a)
  // Missed by every listener: made while none is connected.
  await h.catalogQuery(`update tenants set status = 'suspended', subdomain = 'three-b' where slug = 'three'`)
  await h.catalogQuery(
    `insert into tenant_domains (tenant_id, domain, status, verification_token, verified_at) values ($1, 'three.example.com', 'verified', 'tok', now())`,
    [tenants[2]!.id]
  )
  t.equal((await directory.findBySubdomain('three-b'))?.status, 'suspended', 'while not authoritative, a miss asks the catalog')
  await waitFor('the reconnect and full reload', () => directory.stats().authoritative, (a) => a)
  t.equal(directory.keysBySubdomain('three'), undefined, 'the old subdomain left the index')
  t.equal(directory.keysBySubdomain('three-b')?.status, 'suspended', 'the new one is there, with its status')
  t.match(directory.domainEntry('three.example.com'), { verified: true, tenant: { slug: 'three' } }, 'and the domain added meanwhile')
  t.equal(directory.peekSubdomain('three'), null, 'misses are answered from the index again')
  // tenantd's own directory lost its listener too and reconnects on its own schedule.
  await waitFor("tenantd's directory to reload", () => h.tenantd.tenants.stats().authoritative, (a) => a)
  const after = await h.asAdmin({ method: 'GET', url: '/api/tenants/current', headers: { host: 'three.example.com' } })
  t.equal(after.json().error, 'TenantSuspended', "tenantd's own directory caught up as well")
})
