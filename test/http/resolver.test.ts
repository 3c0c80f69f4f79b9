import type { LightMyRequestResponse } from 'fastify'
import http from 'node:http'
import t, { type Test } from 'tap'
import { startHarness } from '../helpers/harness.js'
import { startServerProcess } from '../helpers/server-process.js'

// Tenant resolution (Host subdomain, X-Tenant-ID slug or id, token claim), one tenant's
// database going away without taking the others down, and cache invalidation across
// replicas through LISTEN/NOTIFY.

const h = await startHarness(t)
const { app } = h

const users = {
  alpha: { email: 'ann@alpha.test', password: 'alpha-admin-pass' },
  beta: { email: 'bob@beta.test', password: 'beta-admin-pass' },
  gamma: { email: 'gil@gamma.test', password: 'gamma-admin-pass' },
  delta: { email: 'dee@delta.test', password: 'delta-admin-pass' },
}
const alpha = await h.provision({ name: 'Alpha Corp', slug: 'alpha', subdomain: 'alpha-web', adminEmail: users.alpha.email, adminPassword: users.alpha.password })
const beta = await h.provision({ name: 'Beta', slug: 'beta', adminEmail: users.beta.email, adminPassword: users.beta.password })
await h.provision({ name: 'Gamma', slug: 'gamma', adminEmail: users.gamma.email, adminPassword: users.gamma.password })
await h.provision({ name: 'Delta', slug: 'delta', adminEmail: users.delta.email, adminPassword: users.delta.password })

const current = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/api/tenants/current', headers })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const tokenOf = async (slug: keyof typeof users) => (await h.login(users[slug].email, users[slug].password, { 'x-tenant-id': slug })).accessToken

function expectTenant(t: Test, res: LightMyRequestResponse, slug: string, what: string): void {
  t.equal(res.statusCode, 200, `${what}: ${res.body}`)
  if (res.statusCode === 200) t.equal(res.json().slug, slug, `${what} resolves to ${slug}`)
}

t.test('GET /api/tenants/current resolves by Host, X-Tenant-ID and token', async (t) => {
  const byHost = await current({ host: 'alpha-web.localhost' })
  expectTenant(t, byHost, 'alpha', 'Host alpha-web.localhost')
  t.same(byHost.json(), { id: alpha.id, slug: 'alpha', subdomain: 'alpha-web', name: 'Alpha Corp', plan: 'free', status: 'active', logoUrl: null }, 'public fields only')
  t.notOk(/password|sealed|role_name/.test(byHost.body), 'no credentials in the reply')
  expectTenant(t, await current({ host: 'alpha-web.localhost:5000' }), 'alpha', 'Host with a port')
  expectTenant(t, await current({ host: 'ALPHA-WEB.LocalHost' }), 'alpha', 'Host in another case')
  expectTenant(t, await current({ 'x-tenant-id': 'alpha' }), 'alpha', 'X-Tenant-ID slug')
  expectTenant(t, await current({ 'x-tenant-id': alpha.id }), 'alpha', 'X-Tenant-ID id')
  expectTenant(t, await current({ 'x-tenant-id': alpha.id.toUpperCase() }), 'alpha', 'X-Tenant-ID id in upper case')
  expectTenant(t, await current({ 'x-tenant-id': ' beta ' }), 'beta', 'X-Tenant-ID with spaces around')
  expectTenant(t, await current({ host: 'beta.localhost', 'x-tenant-id': 'alpha' }), 'beta', 'the Host subdomain wins over X-Tenant-ID')

  const alphaToken = await tokenOf('alpha')
  expectTenant(t, await current(bearer(alphaToken)), 'alpha', "the token's tenant claim")
  expectTenant(t, await current({ ...bearer(alphaToken), host: '127.0.0.1:5000' }), 'alpha', 'the token claim on the control host')
  const crossed = await current({ ...bearer(alphaToken), 'x-tenant-id': 'beta' })
  t.equal(crossed.statusCode, 403, 'a token of alpha used for beta is refused')
  t.match(crossed.json(), { error: 'CrossTenantAccessBlocked', message: String })

  const nested = await current({ host: 'x.alpha-web.localhost' })
  t.equal(nested.statusCode, 404, 'a deeper subdomain names no tenant')
  t.equal(nested.json().error, 'NotFound')
  const otherDomain = await current({ host: 'alpha-web.example.com' })
  t.equal(otherDomain.statusCode, 404, 'a host outside the base domain names no tenant')
  const operatorToken = await h.adminToken()
  const operatorOnly = await current(bearer(operatorToken))
  t.equal(operatorOnly.statusCode, 404, 'a super-admin token alone names no tenant')
  t.match(operatorOnly.json().message, /X-Tenant-ID/, 'and the message says how to name one')
  expectTenant(t, await current({ ...bearer(operatorToken), 'x-tenant-id': 'beta' }), 'beta', 'a super-admin may look at any tenant')
})

t.test('a tenant whose role password no longer works answers 503 with Retry-After; the others keep serving', async (t) => {
  const gammaToken = await tokenOf('gamma')
  const betaToken = await tokenOf('beta')
  const listUsers = (token: string) => app.inject({ method: 'GET', url: '/api/users', headers: bearer(token) })
  t.equal((await listUsers(gammaToken)).statusCode, 200, 'gamma serves before the break (its pool is warm)')

  // Someone changes the role password behind tenantd's back and kicks its sessions.
  await h.cluster.query(`ALTER ROLE tenant_gamma_owner PASSWORD 'changed-behind-our-back'`)
  await h.cluster.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = 'tenant_gamma' and pid <> pg_backend_pid()`)

  let res = await listUsers(gammaToken)
  // The first request after the kick may land on a connection that just died; it must
  // already be a 503, never a 500.
  for (let i = 0; i < 3 && res.statusCode === 200; i++) res = await listUsers(gammaToken)
  t.equal(res.statusCode, 503, `GET /api/users of gamma: ${res.body}`)
  t.match(res.json(), { error: 'TenantDatabaseUnavailable', message: /retry shortly/ })
  t.match(String(res.headers['retry-after']), /^\d+$/, 'Retry-After says when to come back')
  t.notMatch(res.body, /changed-behind-our-back|password authentication failed/, 'no driver detail or secret in the reply')

  const again = await listUsers(gammaToken)
  t.equal(again.statusCode, 503, 'a second request is a 503 too (no 500 on a fresh pool)')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-tenant-id': 'gamma' }, payload: users.gamma })
  t.equal(login.statusCode, 503, `tenant login on gamma: ${login.body}`)
  t.equal(login.json().error, 'TenantDatabaseUnavailable')
  t.ok(login.headers['retry-after'], 'login 503 has Retry-After')

  const betaUsers = await listUsers(betaToken)
  t.equal(betaUsers.statusCode, 200, 'beta keeps answering')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-tenant-id': 'beta' }, payload: users.beta })).statusCode, 200, 'beta users can still log in')
  expectTenant(t, await current({ 'x-tenant-id': 'gamma' }), 'gamma', '/api/tenants/current needs only the catalog')

  const probe = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/gamma/test-connection' })
  t.equal(probe.statusCode, 200)
  t.match(probe.json(), { ok: false, error: '28P01', database: 'tenant_gamma' }, 'test-connection says authentication fails')

  // Put the password back: gamma recovers without a restart.
  const record = await h.tenantd.tenants.get('gamma')
  const sealed = h.tenantd.sealer.open(record.password_sealed)
  const { escapeLiteral } = await import('pg')
  await h.cluster.query(`ALTER ROLE tenant_gamma_owner PASSWORD ${escapeLiteral(sealed)}`)
  t.equal((await listUsers(gammaToken)).statusCode, 200, 'gamma serves again once its password works')
})

t.test('a tenant whose database was dropped answers 503, and another tenant keeps answering 200', async (t) => {
  const deltaToken = await tokenOf('delta')
  const alphaToken = await tokenOf('alpha')
  const listUsers = (token: string) => app.inject({ method: 'GET', url: '/api/users', headers: bearer(token) })
  t.equal((await listUsers(deltaToken)).statusCode, 200, 'delta serves before the drop')
  await h.cluster.query('DROP DATABASE tenant_delta WITH (FORCE)')

  let res = await listUsers(deltaToken)
  for (let i = 0; i < 3 && res.statusCode === 200; i++) res = await listUsers(deltaToken)
  t.equal(res.statusCode, 503, `GET /api/users of delta: ${res.body}`)
  t.match(res.json(), { error: 'TenantDatabaseUnavailable', message: /tenantctl test-connection/ })
  t.match(String(res.headers['retry-after']), /^\d+$/)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { host: 'delta.localhost' }, payload: users.delta })
  t.equal(login.statusCode, 503, `tenant login on delta: ${login.body}`)
  t.equal(login.json().error, 'TenantDatabaseUnavailable')

  const alphaUsers = await listUsers(alphaToken)
  t.equal(alphaUsers.statusCode, 200, 'alpha keeps answering')
  t.match(JSON.stringify(alphaUsers.json()), /ann@alpha\.test/)
  const probe = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/delta/test-connection' })
  t.match(probe.json(), { ok: false, error: '3D000' }, 'test-connection says the database does not exist')
  const unhandled = h.logLines.filter((line) => line.includes('"unhandled error"'))
  t.same(unhandled, [], 'no unhandled error was logged')
})

t.test('cache invalidation across replicas (LISTEN/NOTIFY)', async (t) => {
  const replica = await startServerProcess(t, { env: { ...h.env, LOG_LEVEL: 'warn' } })
  // node:http rather than fetch: fetch does not let a request choose its Host header.
  const viaReplica = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: { error?: string; slug?: string; message?: string } }>((resolve, reject) => {
      const req = http.get(`${replica.url}/api/tenants/current`, { headers }, (res) => {
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
      })
      req.on('error', reject)
    })
  const keys: Array<Record<string, string>> = [{ 'x-tenant-id': 'beta' }, { 'x-tenant-id': beta.id }, { host: 'beta.localhost' }]
  for (const headers of keys) t.equal((await viaReplica(headers)).status, 200, `replica warm for ${JSON.stringify(headers)}`)

  /** How long until every key answers `status` on the replica (ms), or -1 after 3 s. */
  const until = async (status: number): Promise<number> => {
    const started = Date.now()
    while (Date.now() - started < 3_000) {
      const answers = await Promise.all(keys.map((headers) => viaReplica(headers)))
      if (answers.every((a) => a.status === status)) return Date.now() - started
      await new Promise((r) => setTimeout(r, 25))
    }
    return -1
  }

  const suspended = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/beta/suspend', payload: { reason: 'invoice overdue' } })
  t.equal(suspended.statusCode, 200)
  const toSuspended = await until(403)
  t.ok(toSuspended >= 0 && toSuspended < 1_000, `the other replica refuses beta within 1 s (took ${toSuspended} ms)`)
  const refused = await viaReplica({ 'x-tenant-id': 'beta' })
  t.match(refused.body, { error: 'TenantSuspended', message: /invoice overdue/ })

  t.equal((await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/beta/reactivate' })).statusCode, 200)
  const toActive = await until(200)
  t.ok(toActive >= 0 && toActive < 1_000, `and serves it again within 1 s of reactivation (took ${toActive} ms)`)

  // A miss is cached too; a tenant created elsewhere must not stay "not found".
  const miss = await viaReplica({ 'x-tenant-id': 'epsilon' })
  t.equal(miss.status, 404, 'epsilon does not exist yet')
  await h.provision({ name: 'Epsilon', slug: 'epsilon' })
  const started = Date.now()
  let found = miss
  while (Date.now() - started < 3_000 && found.status !== 200) {
    await new Promise((r) => setTimeout(r, 25))
    found = await viaReplica({ 'x-tenant-id': 'epsilon' })
  }
  t.equal(found.status, 200, 'the replica finds the new tenant')
  t.ok(Date.now() - started < 1_000, `within 1 s (took ${Date.now() - started} ms)`)

  const stopped = await replica.stop('SIGTERM')
  t.equal(stopped.code, 0, `the replica shuts down cleanly: ${replica.stderr().slice(-500)}`)
})
