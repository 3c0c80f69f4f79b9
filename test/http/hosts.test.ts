import pg from 'pg'
import t from 'tap'
import { startTestCluster } from '../helpers/cluster.js'
import { startHarness } from '../helpers/harness.js'

// Db hosts: registering checks the admin role, placement honours hostId and draining, and a
// host that goes down shows in /api/ready and fails provisioning with a message that names it.

const h = await startHarness(t)
const second = await startTestCluster(t)
const admin = await second.createAdminRole('tenantd_db2')

t.test('registering a host checks its admin role', async (t) => {
  const wrong = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2', host: '127.0.0.1', port: second.port, adminUser: admin.user, adminPassword: 'not-the-password' } })
  t.equal(wrong.statusCode, 400)
  t.match(wrong.json().message, /cannot log in/)
  await second.query('CREATE ROLE weak LOGIN PASSWORD \'weak-password\'')
  const weak = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2', host: '127.0.0.1', port: second.port, adminUser: 'weak', adminPassword: 'weak-password' } })
  t.equal(weak.statusCode, 400)
  t.match(weak.json().message, /needs CREATEDB and CREATEROLE/)
  const ok = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts', payload: { name: 'db2', host: '127.0.0.1', port: second.port, adminUser: admin.user, adminPassword: admin.password } })
  t.equal(ok.statusCode, 201, ok.body)
  t.notOk(ok.body.includes(admin.password), 'the admin password is never returned')
  const listed = await h.asAdmin({ method: 'GET', url: '/api/admin/hosts' })
  t.same(listed.json().items.map((x: { name: string }) => x.name).sort(), ['db2', 'test-host'])
})

t.test('hostId places a tenant on that host; a draining host takes no new tenants', async (t) => {
  const tenant = await h.provision({ name: 'On Two', slug: 'on-two', hostId: 'db2' })
  t.equal(tenant.hostName, 'db2')
  t.equal((await second.query("select 1 from pg_database where datname = 'tenant_on_two'")).rowCount, 1, 'the database is on the second cluster')
  t.equal((await h.cluster.query("select 1 from pg_database where datname = 'tenant_on_two'")).rowCount, 0, 'and not on the first')
  const drained = await h.asAdmin({ method: 'POST', url: '/api/admin/hosts/db2/drain' })
  t.equal(drained.json().status, 'draining')
  const refused = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/provision', payload: { name: 'Late', slug: 'late', hostId: 'db2' } })
  t.equal(refused.statusCode, 409)
  t.match(refused.json().message, /draining/)
  const elsewhere = await h.provision({ name: 'Elsewhere', slug: 'elsewhere' })
  t.equal(elsewhere.hostName, 'test-host', 'placement skips the draining host')
})

t.test("hosts usage: each host's client connections against what it allows, and its tenants' data", async (t) => {
  const held = new pg.Client({ connectionString: second.url('postgres', admin.user, admin.password) })
  await held.connect()
  t.teardown(() => held.end())
  const usage = await h.asAdmin({ method: 'GET', url: '/api/admin/hosts/usage' })
  t.equal(usage.statusCode, 200, usage.body)
  const db2 = usage.json().items.find((u: { name: string }) => u.name === 'db2')
  const max = Number((await second.query<{ max: string }>("select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int as max")).rows[0]!.max)
  const onTwo = Number((await second.query<{ bytes: string }>("select pg_database_size('tenant_on_two') as bytes")).rows[0]!.bytes)
  t.match(db2, { ok: true, tenantDatabases: 1, connections: { max } })
  t.ok(db2.connections.used >= 2, `the connection this test holds and tenantd's own are counted (${db2.connections.used})`)
  t.ok(Math.abs(db2.tenantBytes - onTwo) < 1_000_000, `its one tenant database's size (${db2.tenantBytes} ≈ ${onTwo})`)
  t.match(usage.json().items.find((u: { name: string }) => u.name === 'test-host'), { ok: true, tenantDatabases: 1 })
})

t.test('a host that goes down: /api/ready says which, its tenants answer 503, others keep working', async (t) => {
  t.equal((await h.app.inject({ method: 'GET', url: '/api/ready' })).statusCode, 200)
  await second.stop()
  const usage = (await h.asAdmin({ method: 'GET', url: '/api/admin/hosts/usage' })).json().items.find((u: { name: string }) => u.name === 'db2')
  t.match(usage, { ok: false, error: String, connections: null, tenantBytes: null, tenantDatabases: 1 }, 'usage says the host does not answer')
  const ready = await h.app.inject({ method: 'GET', url: '/api/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { error: 'NotReady', message: /db host db2/ })
  t.ok(ready.headers['retry-after'])
  const check = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/on-two/test-connection' })
  t.equal(check.json().ok, false)
  t.match(check.json().message, /cannot connect/)
  const other = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/elsewhere/test-connection' })
  t.equal(other.json().ok, true, 'tenants on the other host are unaffected')
})
