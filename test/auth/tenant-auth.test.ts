import t from 'tap'
import { hashPassword } from '../../src/auth/password-hasher.js'
import { startHarness } from '../helpers/harness.js'

const h = await startHarness(t)
const { app } = h

const acmeAdmin = { email: 'ann@acme.test', password: 'acme-admin-password' }
const globexAdmin = { email: 'gus@globex.test', password: 'globex-admin-password' }
const acme = await h.provision({ name: 'Acme', slug: 'acme', adminName: 'Ann', adminEmail: acmeAdmin.email, adminPassword: acmeAdmin.password })
const globex = await h.provision({ name: 'Globex', slug: 'globex', adminEmail: globexAdmin.email, adminPassword: globexAdmin.password })

const acmeHost = { host: 'acme.localhost' }
const globexHost = { host: 'globex.localhost' }
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))

t.test("a tenant user logs in on the tenant's host and the token carries the tenant", async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', headers: acmeHost, payload: acmeAdmin })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.match(body.user, { email: acmeAdmin.email, name: 'Ann', role: 'admin', tenantId: acme.id })
  t.match(claimsOf(body.accessToken), { typ: 'tenant_user', role: 'admin', tid: acme.id, perms: [] })

  const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: { ...acmeHost, ...bearer(body.accessToken) } })
  t.equal(me.statusCode, 200, me.body)
  t.match(me.json(), { kind: 'tenant_user', tenantId: acme.id, role: 'admin' })

  // X-Tenant-ID names the tenant as well as the Host does (runbook 000).
  const byHeader = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-tenant-id': 'acme' }, payload: acmeAdmin })
  t.equal(byHeader.statusCode, 200, byHeader.body)

  // Refresh keeps the tenant binding.
  const next = await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: body.refreshToken } })
  t.equal(next.statusCode, 200, next.body)
  t.equal(claimsOf(next.json().accessToken).tid, acme.id)
})

t.test("tenant users are not operators, nor users of another tenant", async (t) => {
  const onControlHost = await app.inject({ method: 'POST', url: '/api/auth/login', payload: acmeAdmin })
  t.equal(onControlHost.statusCode, 401)
  t.equal(onControlHost.json().error, 'InvalidCredentials')
  const onOtherTenant = await app.inject({ method: 'POST', url: '/api/auth/login', headers: globexHost, payload: acmeAdmin })
  t.equal(onOtherTenant.statusCode, 401)
  const unknownTenant = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { host: 'nope.localhost' }, payload: acmeAdmin })
  t.equal(unknownTenant.statusCode, 404)
  t.equal(unknownTenant.json().error, 'TenantNotFound')
})

t.test("a tenant's token on another tenant's host is 403 CrossTenantAccessBlocked and audited", async (t) => {
  const { accessToken } = await h.login(acmeAdmin.email, acmeAdmin.password, acmeHost)
  const res = await app.inject({ method: 'GET', url: '/api/users', headers: { ...globexHost, ...bearer(accessToken) } })
  t.equal(res.statusCode, 403)
  t.equal(res.json().error, 'CrossTenantAccessBlocked')
  const byHeader = await app.inject({ method: 'GET', url: '/api/users', headers: { 'x-tenant-id': 'globex', ...bearer(accessToken) } })
  t.equal(byHeader.statusCode, 403)

  const entries = (await h.tenantd.audit.list({ action: 'cross_tenant_access_blocked', tenantId: globex.id })).items
  t.ok(entries.length >= 2, 'one audit row per blocked attempt')
  t.match(entries[0], { actorType: 'tenant_user', actorEmail: acmeAdmin.email, tenantId: globex.id, details: { tokenTenantId: acme.id } })
})

t.test('a tenant admin lists and creates only its own tenant\'s users', async (t) => {
  const { accessToken } = await h.login(acmeAdmin.email, acmeAdmin.password, acmeHost)
  const headers = { ...acmeHost, ...bearer(accessToken) }

  const created = await app.inject({
    method: 'POST',
    url: '/api/users',
    headers,
    payload: { email: 'Max@Acme.test', name: 'Max', password: 'member-password', permissions: ['crm'] },
  })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { email: 'max@acme.test', name: 'Max', role: 'member', permissions: ['crm'], active: true })
  t.notOk('passwordHash' in created.json() || 'password_hash' in created.json() || 'password' in created.json())

  const duplicate = await app.inject({ method: 'POST', url: '/api/users', headers, payload: { email: 'max@acme.test', password: 'member-password' } })
  t.equal(duplicate.statusCode, 409)
  t.equal(duplicate.json().error, 'Conflict')

  const weak = await app.inject({ method: 'POST', url: '/api/users', headers, payload: { email: 'weak@acme.test', password: 'short' } })
  t.equal(weak.statusCode, 400)
  t.equal(weak.json().error, 'ValidationError')

  const list = await app.inject({ method: 'GET', url: '/api/users', headers })
  t.equal(list.statusCode, 200, list.body)
  const emails = list.json().items.map((u: { email: string }) => u.email).sort()
  t.same(emails, ['ann@acme.test', 'max@acme.test'], "only acme's users")
  t.notOk(list.body.includes('argon2'), 'no password hash in the answer')

  // The token's own tenant is used when the request names none.
  const byToken = await app.inject({ method: 'GET', url: '/api/users', headers: bearer(accessToken) })
  t.equal(byToken.statusCode, 200)
  t.same(byToken.json().items.length, 2)

  const globexList = await h.asAdmin({ method: 'GET', url: '/api/users', headers: globexHost })
  t.equal(globexList.statusCode, 200, 'a super-admin administers any tenant')
  t.same(globexList.json().items.map((u: { email: string }) => u.email), [globexAdmin.email])

  t.ok((await h.tenantd.audit.list({ action: 'user.create', tenantId: acme.id })).items.some((e) => e.target === 'max@acme.test'))
})

t.test('a member user gets 403 on POST /api/users, and may log in with its permissions', async (t) => {
  await app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { ...acmeHost, ...bearer((await h.login(acmeAdmin.email, acmeAdmin.password, acmeHost)).accessToken) },
    payload: { email: 'mia@acme.test', password: 'member-password', role: 'member', permissions: ['crm', 'billing'] },
  })
  const { accessToken } = await h.login('mia@acme.test', 'member-password', acmeHost)
  t.match(claimsOf(accessToken), { role: 'member', tid: acme.id, perms: ['crm', 'billing'] })
  const res = await app.inject({ method: 'POST', url: '/api/users', headers: { ...acmeHost, ...bearer(accessToken) }, payload: { email: 'evil@acme.test', password: 'member-password', role: 'admin' } })
  t.equal(res.statusCode, 403)
  t.equal(res.json().error, 'Forbidden')
  const list = await app.inject({ method: 'GET', url: '/api/users', headers: { ...acmeHost, ...bearer(accessToken) } })
  t.equal(list.statusCode, 403)
  const audit = await app.inject({ method: 'GET', url: '/api/audit-logs', headers: bearer(accessToken) })
  t.equal(audit.statusCode, 403)
  const anonymous = await app.inject({ method: 'GET', url: '/api/users', headers: acmeHost })
  t.equal(anonymous.statusCode, 401)
})

t.test('a tenant_admin operator administers its own tenant only', async (t) => {
  await h.tenantd.catalog.db
    .insertInto('operators')
    .values({ email: 'ops@acme.test', name: 'Acme Ops', password_hash: await hashPassword('acme-ops-password'), role: 'tenant_admin', tenant_id: acme.id })
    .execute()
  const { accessToken } = await h.login('ops@acme.test', 'acme-ops-password')
  t.equal(claimsOf(accessToken).tid, acme.id)
  const own = await app.inject({ method: 'GET', url: '/api/users', headers: { ...acmeHost, ...bearer(accessToken) } })
  t.equal(own.statusCode, 200, own.body)
  const other = await app.inject({ method: 'GET', url: '/api/users', headers: { ...globexHost, ...bearer(accessToken) } })
  t.equal(other.statusCode, 403)
  t.equal(other.json().error, 'CrossTenantAccessBlocked')

  const audit = await app.inject({ method: 'GET', url: '/api/audit-logs?limit=500', headers: bearer(accessToken) })
  t.equal(audit.statusCode, 200, audit.body)
  t.ok(audit.json().items.length > 0)
  t.ok(audit.json().items.every((e: { tenantId: string }) => e.tenantId === acme.id), "only acme's entries")
  const foreign = await app.inject({ method: 'GET', url: `/api/audit-logs?tenantId=${globex.id}`, headers: bearer(accessToken) })
  t.equal(foreign.statusCode, 403)
})

t.test('audit logs: a tenant admin user sees its tenant, a super-admin everything', async (t) => {
  const { accessToken } = await h.login(globexAdmin.email, globexAdmin.password, globexHost)
  const own = await app.inject({ method: 'GET', url: '/api/audit-logs', headers: bearer(accessToken) })
  t.equal(own.statusCode, 200, own.body)
  t.ok(own.json().items.every((e: { tenantId: string }) => e.tenantId === globex.id))
  t.ok(own.json().items.some((e: { action: string }) => e.action === 'cross_tenant_access_blocked'), 'it sees attempts against it')

  const all = await h.asAdmin({ method: 'GET', url: '/api/audit-logs?limit=500' })
  t.equal(all.statusCode, 200)
  t.ok(all.json().total >= all.json().items.length)
  const tenantsSeen = new Set(all.json().items.map((e: { tenantId: string | null }) => e.tenantId))
  t.ok(tenantsSeen.has(acme.id) && tenantsSeen.has(globex.id) && tenantsSeen.has(null))

  const bySlug = await h.asAdmin({ method: 'GET', url: '/api/audit-logs?tenantId=acme&action=user.create' })
  t.equal(bySlug.statusCode, 200, bySlug.body)
  t.ok(bySlug.json().items.length >= 1)
  t.ok(bySlug.json().items.every((e: { tenantId: string; action: string }) => e.tenantId === acme.id && e.action === 'user.create'))
})

t.test("lockout of a tenant user is per tenant", async (t) => {
  for (let i = 0; i < h.config.lockoutThreshold; i++) {
    t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', headers: globexHost, payload: { email: globexAdmin.email, password: 'wrong-password' } })).statusCode, 401)
  }
  const locked = await app.inject({ method: 'POST', url: '/api/auth/login', headers: globexHost, payload: globexAdmin })
  t.equal(locked.statusCode, 423)
  t.equal(locked.json().error, 'AccountLocked')
  const row = await h.tenantd.catalog.db.selectFrom('login_attempts').selectAll().where('identifier', '=', globexAdmin.email).orderBy('id', 'desc').executeTakeFirstOrThrow()
  t.equal(row.tenant_id, globex.id)
})

t.test("a suspended tenant's users cannot log in or refresh", async (t) => {
  const session = await h.login('max@acme.test', 'member-password', acmeHost)
  await h.tenantd.lifecycle.suspend(acme.id, 'unpaid invoice')
  h.tenantd.tenants.invalidate(acme.id)
  t.teardown(async () => {
    await h.tenantd.lifecycle.reactivate(acme.id)
    h.tenantd.tenants.invalidate(acme.id)
  })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', headers: acmeHost, payload: { email: 'max@acme.test', password: 'member-password' } })
  t.equal(login.statusCode, 403)
  t.equal(login.json().error, 'TenantSuspended')
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(refresh.statusCode, 403)
  t.equal(refresh.json().error, 'TenantSuspended')
})

t.test('a deactivated tenant user can no longer refresh', async (t) => {
  const session = await h.login('mia@acme.test', 'member-password', acmeHost)
  await h.tenantd.pools.run(acme.id, (db) => db.updateTable('users').set({ active: false }).where('email', '=', 'mia@acme.test').execute())
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(refresh.statusCode, 401)
  t.equal(refresh.json().error, 'InvalidRefreshToken')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', headers: acmeHost, payload: { email: 'mia@acme.test', password: 'member-password' } })
  t.equal(login.statusCode, 401)
  t.equal(login.json().error, 'InvalidCredentials')
})

t.test('no password or refresh token reaches the logs', async (t) => {
  const { refreshToken } = await h.login(acmeAdmin.email, acmeAdmin.password, acmeHost)
  await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refreshToken } })
  const text = h.logLines.join('\n')
  for (const secret of [acmeAdmin.password, globexAdmin.password, 'member-password', 'acme-ops-password', refreshToken]) {
    t.notOk(text.includes(secret), 'no secret in the log')
  }
})
