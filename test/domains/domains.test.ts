import type { AddressInfo } from 'node:net'
import t from 'tap'
import { pino } from '../../src/logger.js'
import { TenantDirectory } from '../../src/tenancy/tenant-directory.js'
import { TenantResolver } from '../../src/tenancy/tenant-resolver.js'
import { startHarness } from '../helpers/harness.js'
import { startEdgeStandIn } from './edge-stand-in.js'

// Custom domains end to end: add (pending), verify through a real HTTP path (an edge stand-in
// on a loopback port forwarding to tenantd, which TENANTD_DOMAIN_VERIFY_ADDRESS points at),
// resolve by Host, invalidation on another directory through NOTIFY, remove, hostile names,
// one tenant per domain, tenant admins limited to their tenant, audit, trusted proxies, and
// subdomain changes.

const edge = await startEdgeStandIn(t)

const h = await startHarness(t, { env: { TENANTD_DOMAIN_VERIFY_ADDRESS: edge.address } })
await h.app.listen({ host: '127.0.0.1', port: 0 })
edge.upstreamPort = (h.app.server.address() as AddressInfo).port
const { app } = h

const acme = await h.provision({ name: 'Acme', slug: 'acme', adminEmail: 'admin@acme.test', adminPassword: 'acme-admin-pass' })
const globex = await h.provision({ name: 'Globex', slug: 'globex', adminEmail: 'admin@globex.test', adminPassword: 'globex-admin-pass' })

const current = (host: string) => app.inject({ method: 'GET', url: '/api/tenants/current', headers: { host } })
const domainsOf = (tenant: string) => `/api/admin/tenants/${tenant}/domains`

async function waitFor<T>(what: string, probe: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

// A second directory on the same catalog, as another replica would have.
const replica = new TenantDirectory(h.tenantd.catalog.db, pino({ level: 'silent' }))
await replica.listen(h.env.DATABASE_URL!)
t.teardown(() => replica.close())
const replicaResolver = new TenantResolver(replica, h.tenantd.audit, 'localhost')

t.test('add, verify through the edge, resolve by Host, remove', async (t) => {
  const added = await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: 'Shop.Acme.TEST.' } })
  t.equal(added.statusCode, 201, added.body)
  const { domain, instructions } = added.json()
  t.match(domain, { domain: 'shop.acme.test', status: 'pending', verifiedAt: null }, 'upper case and trailing dot normalized; pending')
  t.match(domain.verification.path, /^\/\.well-known\/tenantd\/[A-Za-z0-9_-]{43}$/)
  t.equal(domain.verification.url, `http://shop.acme.test${domain.verification.path}`)
  t.match(instructions, /Point shop\.acme\.test at the edge/)
  t.match(instructions, /tenantctl domains verify acme shop\.acme\.test/)

  const listed = await h.asAdmin({ method: 'GET', url: domainsOf('acme') })
  t.same(listed.json().items.map((d: { domain: string; status: string }) => [d.domain, d.status]), [['shop.acme.test', 'pending']])

  const token = domain.verification.expectedBody
  const wellKnown = await app.inject({ method: 'GET', url: domain.verification.path, headers: { host: 'shop.acme.test' } })
  t.equal(wellKnown.statusCode, 200, 'tenantd serves the token on the pending domain')
  t.equal(wellKnown.body, token)
  t.match(String(wellKnown.headers['content-type']), /^text\/plain/)
  t.equal((await app.inject({ method: 'GET', url: domain.verification.path, headers: { host: 'other.example.com' } })).statusCode, 404, 'not on another host')
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/tenantd/not-the-token', headers: { host: 'shop.acme.test' } })).statusCode, 404, 'not for another token')

  const before = await current('shop.acme.test')
  t.equal(before.statusCode, 404, 'a pending domain routes nowhere')
  t.equal(replicaResolver.addressOf('shop.acme.test'), undefined, 'and the edge check refuses it')

  const verified = await h.asAdmin({ method: 'POST', url: `${domainsOf('acme')}/shop.acme.test/verify` })
  t.equal(verified.statusCode, 200, verified.body)
  t.match(verified.json(), { domain: 'shop.acme.test', status: 'verified', verifiedAt: String, lastError: null })

  const after = await current('shop.acme.test')
  t.equal(after.statusCode, 200, after.body)
  t.equal(after.json().slug, 'acme', 'Host shop.acme.test is tenant acme')
  t.equal((await current('SHOP.acme.test:443')).json().slug, 'acme', 'with a port and in another case')
  const replicaSees = await waitFor('the replica to route the domain', () => replicaResolver.addressOf('shop.acme.test'), (a) => a?.status === 'active')
  t.equal(replicaSees?.tenantId, acme.id, 'the other directory learned it through NOTIFY')
  t.equal((await replica.findByDomain('shop.acme.test'))?.id, acme.id, 'and resolves it')

  // A routing change of the tenant reaches the replica's cached record too.
  await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/suspend', payload: { reason: 'unpaid' } })
  t.equal((await current('shop.acme.test')).json().error, 'TenantSuspended', 'a suspended tenant is refused on its domain')
  await waitFor('the replica to see the suspension', () => replica.peekDomain('shop.acme.test'), (r) => r === undefined || r?.status === 'suspended')
  t.equal((await replica.findByDomain('shop.acme.test'))?.status, 'suspended')
  await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/reactivate' })

  const removed = await h.asAdmin({ method: 'DELETE', url: `${domainsOf('acme')}/shop.acme.test` })
  t.equal(removed.statusCode, 204)
  t.equal((await current('shop.acme.test')).statusCode, 404, 'a removed domain no longer resolves')
  t.equal((await app.inject({ method: 'GET', url: domain.verification.path, headers: { host: 'shop.acme.test' } })).statusCode, 404, 'nor serves its token')
  await waitFor('the replica to forget the domain', () => replica.peekDomain('shop.acme.test'), (r) => r === null)
  t.equal(await replica.findByDomain('shop.acme.test'), null, 'the other directory forgot it')
  t.equal((await h.asAdmin({ method: 'DELETE', url: `${domainsOf('acme')}/shop.acme.test` })).json().error, 'DomainNotFound', 'removing twice is a 404')

  const actions = (await h.tenantd.audit.list({ tenantId: acme.id })).items.filter((e) => e.action.startsWith('domain.')).map((e) => `${e.action} ${e.target}`)
  t.same(actions.reverse(), ['domain.add shop.acme.test', 'domain.verify shop.acme.test', 'domain.remove shop.acme.test'], 'add, verify and remove are audited')
})

t.test('a failed verification says what was seen and what to do; the domain stays pending', async (t) => {
  t.teardown(() => {
    edge.mode = 'forward'
  })
  await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: 'www.acme.test' } })
  const cases = [
    { mode: 'redirect' as const, seen: /answered 301, a redirect to https:\/\/www\.acme\.test/ },
    { mode: 'wrong-body' as const, seen: /answered 200 but the body is not the token/ },
    { mode: 'not-found' as const, seen: /answered 404 instead of 200/ },
  ]
  for (const c of cases) {
    edge.mode = c.mode
    const res = await h.asAdmin({ method: 'POST', url: `${domainsOf('acme')}/www.acme.test/verify` })
    t.equal(res.statusCode, 422, `${c.mode}: ${res.body}`)
    t.equal(res.json().error, 'DomainNotVerified')
    t.match(res.json().message, c.seen, `${c.mode}: what was seen`)
    t.match(res.json().message, /Point www\.acme\.test at this edge .*tenantctl domains verify acme www\.acme\.test/, `${c.mode}: what to do`)
  }
  t.notMatch((await h.asAdmin({ method: 'POST', url: `${domainsOf('acme')}/www.acme.test/verify` })).body, /parked domain/, 'the body seen is never echoed')
  const listed = (await h.asAdmin({ method: 'GET', url: domainsOf('acme') })).json().items
  t.match(listed, [{ domain: 'www.acme.test', status: 'pending', lastCheckedAt: String, lastError: /answered 404/ }])
  t.equal((await current('www.acme.test')).statusCode, 404, 'still routes nowhere')
  const failed = (await h.tenantd.audit.list({ tenantId: acme.id, action: 'domain.verify' })).items[0]
  t.match(failed, { target: 'www.acme.test', details: { verified: false } }, 'a failed verification is audited too')
  edge.mode = 'forward'
  t.equal((await h.asAdmin({ method: 'POST', url: `${domainsOf('acme')}/www.acme.test/verify` })).statusCode, 200, 'verifies once the edge forwards')
})

t.test('hostile and malformed names are refused with a 400 that says what is allowed', async (t) => {
  const names: Array<[string, RegExp]> = [
    ['192.168.1.10', /IP address/],
    ['[::1]', /IP address/],
    ['localhost', /at least two labels/],
    ['*.acme.test', /wildcards/],
    ['my_shop.acme.test', /underscores/],
    ['bücher.example', /punycode form "xn--bcher-kva\.example"/],
    [`${'a'.repeat(64)}.example.com`, /longer than 63/],
    [`${'abcdefghi.'.repeat(26)}com`, /longer than 253/],
    ['acme..test', /empty label/],
    ['-acme.test', /letters, digits and inner hyphens/],
    ['acme.localhost', /tenant subdomains/],
    ['shop.10', /all digits/],
    ['a b.example.com', /letters, digits/],
    ['   ', /empty/],
  ]
  for (const [name, why] of names) {
    const res = await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: name } })
    t.equal(res.statusCode, 400, `${JSON.stringify(name.slice(0, 30))}: ${res.body.slice(0, 300)}`)
    t.equal(res.json().error, 'ValidationError')
    t.match(res.json().message, why, `${JSON.stringify(name.slice(0, 30))} says why`)
    t.match(res.json().message, /send a domain name such as shop\.example\.com/, 'and what is allowed')
  }
  const nul = await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: 'a\u0000.example.com' } })
  t.equal(nul.statusCode, 400, 'NUL is refused')
  const traversal = await h.asAdmin({ method: 'POST', url: `${domainsOf('acme')}/..%2f..%2fetc/verify` })
  t.equal(traversal.statusCode, 400, `a traversal in the path: ${traversal.body}`)
  const huge = await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: 'x'.repeat(5000) } })
  t.equal(huge.statusCode, 400, 'a 5000-character name')
  t.ok(huge.body.length < 600, 'is not echoed back whole')
})

t.test('a domain belongs to one tenant: 409 DomainTaken, revealing nothing about the owner', async (t) => {
  t.equal((await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: 'shared.example.org' } })).statusCode, 201)
  const taken = await h.asAdmin({ method: 'POST', url: domainsOf('globex'), payload: { domain: 'SHARED.example.org' } })
  t.equal(taken.statusCode, 409, taken.body)
  t.equal(taken.json().error, 'DomainTaken')
  t.notMatch(taken.body, /acme/i, 'the owner is not named')
  const again = await h.asAdmin({ method: 'POST', url: domainsOf('acme'), payload: { domain: 'shared.example.org' } })
  t.equal(again.statusCode, 409)
  t.match(again.json().message, /already added to tenant "acme"/, 'its own tenant is told it already has it')
})

t.test('tenant admins manage only their own tenant\'s domains', async (t) => {
  const created = await h.asAdmin({ method: 'POST', url: '/api/admin/operators', payload: { email: 'ops@globex.test', password: 'globex-ops-pass', role: 'tenant_admin', tenant: 'globex' } })
  t.equal(created.statusCode, 201, created.body)
  const { accessToken } = await h.login('ops@globex.test', 'globex-ops-pass')
  const as = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => app.inject({ method, url, payload, headers: { authorization: `Bearer ${accessToken}` } })
  const own = await as('POST', domainsOf('globex'), { domain: 'globex.example.net' })
  t.equal(own.statusCode, 201, `own tenant: ${own.body}`)
  t.equal((await as('GET', domainsOf('globex'))).statusCode, 200)
  t.equal((await as('POST', `${domainsOf('globex')}/globex.example.net/verify`)).statusCode, 200, 'verifies its own domain')
  t.equal((await current('globex.example.net')).json().slug, 'globex')
  for (const [method, url] of [['GET', domainsOf('acme')], ['POST', domainsOf('acme')], ['POST', `${domainsOf('acme')}/shared.example.org/verify`], ['DELETE', `${domainsOf('acme')}/shared.example.org`]] as const) {
    const res = await as(method, url, method === 'POST' && !url.endsWith('verify') ? { domain: 'evil.example.net' } : undefined)
    t.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`)
  }
  t.equal((await h.asAdmin({ method: 'GET', url: domainsOf('acme') })).json().items.length, 2, "acme's domains are untouched")
  t.equal((await as('DELETE', `${domainsOf('globex')}/globex.example.net`)).statusCode, 204, 'removes its own domain')
  t.equal((await app.inject({ method: 'GET', url: domainsOf('acme') })).statusCode, 401, 'no token: 401')
})

t.test('X-Forwarded-For counts only from TENANTD_TRUSTED_PROXIES', async (t) => {
  const token = await h.adminToken()
  const add = (domain: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: domainsOf('globex'), remoteAddress, payload: { domain }, headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' } })
  t.equal((await add('direct.example.net', '10.9.8.7')).statusCode, 201)
  t.equal((await add('proxied.example.net', '127.0.0.1')).statusCode, 201)
  const entries = (await h.tenantd.audit.list({ tenantId: globex.id, action: 'domain.add' })).items
  t.equal(entries.find((e) => e.target === 'direct.example.net')?.ip, '10.9.8.7', 'from a non-proxy peer the header is ignored')
  t.equal(entries.find((e) => e.target === 'proxied.example.net')?.ip, '203.0.113.9', 'from the proxy it is the client address')
})

t.test('PATCH /api/admin/tenants/:id changes the subdomain: the new Host resolves, the old one is 404', async (t) => {
  t.equal((await current('globex.localhost')).json().slug, 'globex')
  const warmReplica = await replica.findBySubdomain('globex')
  t.equal(warmReplica?.id, globex.id, 'the replica has globex cached by its subdomain')
  const res = await h.asAdmin({ method: 'PATCH', url: '/api/admin/tenants/globex', payload: { subdomain: 'Globex-Corp', name: 'Globex Corporation' } })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { slug: 'globex', subdomain: 'globex-corp', name: 'Globex Corporation' })
  t.equal((await current('globex-corp.localhost')).json().slug, 'globex', 'the new address resolves at once')
  const old = await current('globex.localhost')
  t.equal(old.statusCode, 404, 'the old address is gone')
  t.equal(old.json().error, 'TenantNotFound')
  await waitFor('the replica to drop the old subdomain', () => replica.peekSubdomain('globex'), (r) => r === null)
  t.equal((await replica.findBySubdomain('globex-corp'))?.id, globex.id, 'the replica routes the new one')

  const taken = await h.asAdmin({ method: 'PATCH', url: '/api/admin/tenants/globex', payload: { subdomain: 'acme' } })
  t.equal(taken.statusCode, 409, 'another tenant\'s subdomain is refused')
  t.equal(taken.json().error, 'TenantExists')
  const bad = await h.asAdmin({ method: 'PATCH', url: '/api/admin/tenants/globex', payload: { subdomain: 'no_way!' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /3-40 lowercase letters/)
  t.equal((await h.asAdmin({ method: 'PATCH', url: '/api/admin/tenants/globex', payload: {} })).statusCode, 400, 'an empty change is a 400')
  t.equal((await h.asAdmin({ method: 'PATCH', url: '/api/admin/tenants/nobody', payload: { name: 'x' } })).statusCode, 404)
  const audit = (await h.tenantd.audit.list({ tenantId: globex.id, action: 'tenant.update' })).items
  t.match(audit[0]?.details, { subdomain: { from: 'globex', to: 'globex-corp' }, name: { from: 'Globex', to: 'Globex Corporation' } }, 'audited with before and after')
})

t.test('verified domains are checked again; one that stops pointing here goes back to pending after repeated failures', async (t) => {
  const added = await h.asAdmin({ method: 'POST', url: domainsOf('globex'), payload: { domain: 'www.globex.test' } })
  t.equal(added.statusCode, 201, added.body)
  const verified = await h.asAdmin({ method: 'POST', url: `${domainsOf('globex')}/www.globex.test/verify` })
  t.equal(verified.statusCode, 200, verified.body)
  t.equal((await current('www.globex.test')).statusCode, 200)
  const { domainRecheck } = h.tenantd
  const day = (n: number) => new Date(Date.now() + n * 86_400_000)
  const row = () => h.tenantd.catalog.db.selectFrom('tenant_domains').selectAll().where('domain', '=', 'www.globex.test').executeTakeFirstOrThrow()

  t.match(await domainRecheck.runOnce(new Date()), { checked: 0 }, 'checked a moment ago: not due')
  const passing = await domainRecheck.runOnce(day(1))
  t.ok(passing.checked >= 1 && passing.unverified.length === 0, 'due a day later; still points here')

  // The domain is parked elsewhere now: the edge answers with someone else's page.
  edge.mode = 'wrong-body'
  t.teardown(() => (edge.mode = 'forward'))
  const first = await domainRecheck.runOnce(day(2))
  t.notOk(first.unverified.includes('www.globex.test'), 'one failure is not enough')
  t.match(await row(), { status: 'verified', failed_checks: 1 })
  t.match((await row()).last_error, /answered 200 but the body is not the token/)
  t.equal((await current('www.globex.test')).statusCode, 200, 'and it still routes meanwhile')
  await domainRecheck.runOnce(day(3))
  const third = await domainRecheck.runOnce(day(4))
  t.ok(third.unverified.includes('www.globex.test'), 'the third failure in a row unverifies it (TENANTD_DOMAIN_RECHECK_FAILURES=3)')
  t.match(await row(), { status: 'pending', failed_checks: 3 })
  t.equal((await current('www.globex.test')).statusCode, 404, 'no longer routed')
  await waitFor('the other replica to see it', () => replicaResolver.addressOf('www.globex.test'), (v) => v === undefined)
  const audit = await h.tenantd.catalog.db.selectFrom('audit_logs').selectAll().where('action', '=', 'domain.unverified').where('target', '=', 'www.globex.test').execute()
  t.equal(audit.length, 1, 'audited once')

  // Pointed back and verified again by hand: routed again, the count cleared.
  edge.mode = 'forward'
  const again = await h.asAdmin({ method: 'POST', url: `${domainsOf('globex')}/www.globex.test/verify` })
  t.equal(again.statusCode, 200, again.body)
  t.equal((await current('www.globex.test')).statusCode, 200)
  await domainRecheck.runOnce(day(6))
  t.match(await row(), { status: 'verified', failed_checks: 0, last_error: null })
})
