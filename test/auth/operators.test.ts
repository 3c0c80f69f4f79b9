import t from 'tap'
import { startHarness } from '../helpers/harness.js'

// Control-plane accounts: a tenant_admin operator administers its one tenant and nothing
// else; a compromised account's sessions can be revoked at once (runbook 004).

const h = await startHarness(t)
const acme = await h.provision({ name: 'Acme', slug: 'acme' })
await h.provision({ name: 'Globex', slug: 'globex' })

t.test('a super-admin creates a tenant_admin bound to one tenant', async (t) => {
  const created = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'Ops@Acme.test', name: 'Acme Ops', password: 'acme-ops-password', role: 'tenant_admin', tenant: 'acme' } })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json(), { email: 'ops@acme.test', role: 'tenant_admin', tenantId: acme.id, tenantSlug: 'acme' })
  t.notOk(created.body.includes('acme-ops-password'), 'no password in the reply')

  const duplicate = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'ops@acme.test', password: 'another-password', role: 'super_admin' } })
  t.equal(duplicate.statusCode, 409)
  const unbound = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'x@acme.test', password: 'another-password', role: 'tenant_admin' } })
  t.equal(unbound.statusCode, 400)
  t.match(unbound.json().message, /bound to one tenant/)
  const unknownTenant = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'y@acme.test', password: 'another-password', role: 'tenant_admin', tenant: 'nope' } })
  t.equal(unknownTenant.statusCode, 404)

  const listed = await h.asAdmin({ method: 'GET', url: '/api/admin/operators' })
  t.same(listed.json().items.map((o: { email: string }) => o.email).sort(), ['ops@acme.test', h.superAdmin.email].sort())
})

t.test('the tenant_admin sees its tenant only', async (t) => {
  const { accessToken } = await h.login('ops@acme.test', 'acme-ops-password')
  const as = (method: 'GET' | 'POST', url: string) => h.app.inject({ method, url, headers: { authorization: `Bearer ${accessToken}` } })
  t.equal((await as('GET', '/api/admin/tenants/acme')).statusCode, 200)
  t.equal((await as('POST', '/api/admin/tenants/acme/test-connection')).json().ok, true)
  t.equal((await as('GET', '/api/admin/tenants/acme/stats')).statusCode, 200)
  t.equal((await as('GET', '/api/admin/tenants/globex')).statusCode, 403, 'another tenant is refused')
  t.equal((await as('GET', '/api/admin/tenants')).statusCode, 403, 'the tenant list is for super-admins')
  t.equal((await as('POST', '/api/admin/tenants/acme/suspend')).statusCode, 403, 'lifecycle is for super-admins')
  t.equal((await as('GET', '/api/admin/operators')).statusCode, 403)
})

t.test('revoking sessions ends every refresh token of the account', async (t) => {
  const first = await h.login('ops@acme.test', 'acme-ops-password')
  const second = await h.login('ops@acme.test', 'acme-ops-password')
  const operator = (await h.asAdmin({ method: 'GET', url: '/api/admin/operators' })).json().items.find((o: { email: string }) => o.email === 'ops@acme.test')
  const revoked = await h.asAdmin({ method: 'POST', url: `/api/admin/operators/${operator.id}/revoke-sessions` })
  t.equal(revoked.statusCode, 200)
  t.ok(revoked.json().revoked >= 2)
  for (const session of [first, second]) {
    const refresh = await h.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: session.refreshToken } })
    t.equal(refresh.statusCode, 401, 'the refresh token no longer works')
  }
  const audit = await h.asAdmin({ method: 'GET', url: `/api/audit-logs?tenantId=${acme.id}&action=operator.revoke_sessions` })
  t.equal(audit.json().total, 1, 'audited')
})

t.test('removing operators; the last super-admin stays', async (t) => {
  const operators = (await h.asAdmin({ method: 'GET', url: '/api/admin/operators' })).json().items as Array<{ id: string; email: string }>
  const root = operators.find((o) => o.email === h.superAdmin.email)!
  const last = await h.asAdmin({ method: 'DELETE', url: `/api/admin/operators/${root.id}` })
  t.equal(last.statusCode, 409)
  t.match(last.json().message, /last super-admin/)
  const ops = operators.find((o) => o.email === 'ops@acme.test')!
  t.equal((await h.asAdmin({ method: 'DELETE', url: `/api/admin/operators/${ops.id}` })).statusCode, 200)
  const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ops@acme.test', password: 'acme-ops-password' } })
  t.equal(login.statusCode, 401, 'a removed operator cannot log in')
  t.equal((await h.asAdmin({ method: 'DELETE', url: '/api/admin/operators/not-a-uuid' })).statusCode, 404)
})
