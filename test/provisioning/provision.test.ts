import pg from 'pg'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'

const h = await startHarness(t)
const rolePassword = async (slug: string) => {
  const tenant = await h.tenantd.tenants.get(slug)
  return { tenant, password: h.tenantd.sealer.open(tenant.password_sealed) }
}

t.test('provision end to end: role, database, schema, first admin', async (t) => {
  const res = await h.asAdmin({
    method: 'POST',
    url: '/api/admin/tenants/provision?wait=true',
    payload: { name: 'New Company', contactEmail: 'contact@newcompany.com', adminName: 'Admin User', adminEmail: 'admin@newcompany.com', adminPassword: 'secure_password', plan: 'pro' },
  })
  t.equal(res.statusCode, 201, res.body)
  const { tenant, operation } = res.json()
  t.match(tenant, { slug: 'new-company', subdomain: 'new-company', status: 'active', plan: 'pro', database: 'tenant_new_company' })
  t.equal(operation.status, 'succeeded')
  t.notOk('adminPassword' in tenant || JSON.stringify(res.json()).includes('secure_password'), 'no secret in the response')

  const db = await h.cluster.query<{ datname: string; datconnlimit: number }>("select datname from pg_database where datname = 'tenant_new_company'")
  t.equal(db.rowCount, 1, 'the database exists')
  const role = await h.cluster.query<{ rolconnlimit: number; rolsuper: boolean; rolcreatedb: boolean }>("select rolconnlimit, rolsuper, rolcreatedb from pg_roles where rolname = 'tenant_new_company_owner'")
  t.same(role.rows[0], { rolconnlimit: 20, rolsuper: false, rolcreatedb: false }, 'login role with the pro plan connection limit, no privileges')
  const owner = await h.cluster.query<{ owner: string }>("select pg_get_userbyid(datdba) as owner from pg_database where datname = 'tenant_new_company'")
  t.equal(owner.rows[0]?.owner, 'tenant_new_company_owner')

  const { password } = await rolePassword('new-company')
  t.equal(Buffer.from(password, 'base64url').length, 32, 'a random 32-byte password')
  const client = new pg.Client({ connectionString: h.cluster.url('tenant_new_company', 'tenant_new_company_owner', password) })
  await client.connect()
  const users = await client.query('select email, role, password_hash from users')
  const migrations = await client.query("select scope, name from tenant_migrations order by name")
  await client.end()
  t.equal(users.rowCount, 1)
  t.equal(users.rows[0].email, 'admin@newcompany.com')
  t.equal(users.rows[0].role, 'admin')
  t.match(users.rows[0].password_hash, /^\$argon2id\$/, 'admin password hashed with argon2id')
  t.same(migrations.rows, [{ scope: 'base', name: '0001_base.sql' }], 'base migrations recorded')

  const shown = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/new-company' })
  t.equal(shown.statusCode, 200)
  t.equal(shown.json().id, tenant.id, 'show by slug')
  const byId = await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${tenant.id}` })
  t.equal(byId.json().slug, 'new-company', 'show by id')
  const op = await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operation.id}` })
  t.match(op.json(), { kind: 'provision', status: 'succeeded', progress: 100, attempts: 1 })
})

t.test('isolation between two tenants', async (t) => {
  await h.provision({ name: 'Alpha', slug: 'alpha', adminEmail: 'admin@alpha.test', adminPassword: 'alpha-password' })
  await h.provision({ name: 'Beta', slug: 'beta', adminEmail: 'admin@beta.test', adminPassword: 'beta-password' })
  const alpha = await rolePassword('alpha')
  const beta = await rolePassword('beta')

  const crossed = new pg.Client({ connectionString: h.cluster.url('tenant_beta', 'tenant_alpha_owner', alpha.password) })
  await t.rejects(crossed.connect(), { code: '42501' }, "alpha's role cannot connect to beta's database")
  await crossed.end().catch(() => {})

  const alphaToken = (await h.login('admin@alpha.test', 'alpha-password', { host: 'alpha.localhost' })).accessToken
  const onBeta = await h.app.inject({ method: 'GET', url: '/api/users', headers: { host: 'beta.localhost', authorization: `Bearer ${alphaToken}` } })
  t.equal(onBeta.statusCode, 403)
  t.equal(onBeta.json().error, 'CrossTenantAccessBlocked')
  const audit = await h.asAdmin({ method: 'GET', url: `/api/audit-logs?tenantId=${beta.tenant.id}` })
  t.ok(audit.json().items.some((e: { action: string }) => e.action === 'cross_tenant_access_blocked'), 'the blocked attempt is audited')

  const alphaUsers = await h.app.inject({ method: 'GET', url: '/api/users', headers: { host: 'alpha.localhost', authorization: `Bearer ${alphaToken}` } })
  t.equal(alphaUsers.statusCode, 200, alphaUsers.body)
  const emails = JSON.stringify(alphaUsers.json())
  t.match(emails, /admin@alpha\.test/)
  t.notMatch(emails, /beta/, "beta's users never appear through alpha")
})

t.test('lifecycle: suspend, reactivate, cancel, delete and their refusals', async (t) => {
  await h.provision({ name: 'Gamma', slug: 'gamma', adminEmail: 'admin@gamma.test', adminPassword: 'gamma-password' })
  const current = () => h.app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': 'gamma' } })
  t.equal((await current()).statusCode, 200)

  const suspended = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/suspend', payload: { reason: 'payment failure' } })
  t.equal(suspended.json().status, 'suspended')
  const refused = await current()
  t.equal(refused.statusCode, 403)
  t.match(refused.json(), { error: 'TenantSuspended', message: /payment failure/ })
  const again = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/suspend' })
  t.equal(again.statusCode, 409, 'suspending a suspended tenant is refused')
  t.match(again.json().message, /only active tenants/)

  t.equal((await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/reactivate' })).json().status, 'active')
  t.equal((await current()).statusCode, 200, 'reactivated tenant serves again')

  const hardTooEarly = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/delete', payload: { hardDelete: true } })
  t.equal(hardTooEarly.statusCode, 409, 'hard delete of an active tenant without force is refused')
  t.match(hardTooEarly.json().message, /canceled first/)

  const canceled = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/cancel' })
  t.match(canceled.json(), { status: 'canceled', retentionDays: 30 })
  t.equal((await current()).json().error, 'TenantCanceled')
  const inRetention = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/delete', payload: { hardDelete: true } })
  t.equal(inRetention.statusCode, 409)
  t.match(inRetention.json().message, /retention period/)

  const soft = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/delete', payload: { hardDelete: false } })
  t.equal(soft.json().status, 'deleted')
  t.equal((await h.cluster.query("select 1 from pg_database where datname = 'tenant_gamma'")).rowCount, 1, 'soft delete keeps the database')

  const hard = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/delete?wait=true', payload: { hardDelete: true, force: true } })
  t.equal(hard.statusCode, 200, hard.body)
  t.equal((await h.cluster.query("select 1 from pg_database where datname = 'tenant_gamma'")).rowCount, 0, 'hard delete drops the database')
  t.equal((await h.cluster.query("select 1 from pg_roles where rolname = 'tenant_gamma_owner'")).rowCount, 0, 'and the role')
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/gamma' })).statusCode, 404)
  t.equal((await current()).statusCode, 404)
  await h.provision({ name: 'Gamma again', slug: 'gamma' })
  t.pass('the slug is free again after a hard delete')
})

t.test('a canceled tenant whose retention has passed can be hard deleted without force', async (t) => {
  await h.provision({ name: 'Delta', slug: 'delta' })
  const canceled = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/delta/cancel', payload: { retentionDays: 0 } })
  t.equal(canceled.json().retentionDays, 0)
  const hard = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/delta/delete?wait=true', payload: { hardDelete: true } })
  t.equal(hard.statusCode, 200, hard.body)
})

t.test('list with filters and pagination', async (t) => {
  const all = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?limit=2' })
  t.equal(all.statusCode, 200)
  t.equal(all.json().items.length, 2)
  t.ok(all.json().total >= 4)
  const active = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?status=active&search=alp' })
  t.same(active.json().items.map((x: { slug: string }) => x.slug), ['alpha'])
  const bad = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?status=sleeping' })
  t.equal(bad.statusCode, 400)
})

t.test('list sorted by any column, with modules and the last backup of each tenant', async (t) => {
  const slugs = async (query: string) => (await h.asAdmin({ method: 'GET', url: `/api/admin/tenants?${query}` })).json().items.map((x: { slug: string }) => x.slug)
  const ascending = await slugs('sort=slug')
  t.same(ascending, [...ascending].sort(), 'by slug, ascending by default')
  t.same(await slugs('sort=slug&order=desc'), [...ascending].reverse(), 'and descending')
  const names = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?sort=name' })).json().items.map((x: { name: string }) => x.name.toLowerCase())
  t.same(names, [...names].sort(), 'by name, case-insensitive')
  const before = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?search=alpha' })).json().items[0]
  t.same(before.modules, [], 'modules are listed')
  t.equal(before.lastBackup, null, 'no backup yet')
  const backup = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/alpha/backups?wait=true' })
  t.equal(backup.statusCode, 201, backup.body)
  const listed = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?sort=lastBackup' })).json().items
  t.equal(listed[0].slug, 'alpha', 'the tenant backed up last comes first')
  t.match(listed[0].lastBackup, { id: String, state: /^(completed|verified)$/, at: String })
  t.ok(listed.slice(1).every((x: { lastBackup: unknown }) => x.lastBackup === null), 'the others have none')
  const refused = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?sort=color' })
  t.equal(refused.statusCode, 400, 'an unknown sort is refused')
  t.match(refused.json().message, /sort/)
})

t.test('test-connection reports ok and latency', async (t) => {
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/alpha/test-connection' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().ok, true)
  t.type(res.json().latencyMs, 'number')
})

t.test('no secret reached the logs', async (t) => {
  const all = h.logLines.join('\n')
  for (const secret of ['secure_password', 'alpha-password', 'beta-password', 'gamma-password', h.superAdmin.password]) {
    t.notOk(all.includes(secret), `"${secret.slice(0, 3)}..." not logged`)
  }
  const { password } = await rolePassword('alpha')
  t.notOk(all.includes(password), 'no tenant role password logged')
  t.ok(h.logLines.length > 10, 'logs were captured')
})
