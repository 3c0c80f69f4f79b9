import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'

// A tenant's branding (display name, logo) and its database size over time (issue 10).

const h = await startHarness(t)
const { app } = h
const acmeAdmin = { email: 'ann@acme.test', password: 'acme-admin-password' }
const acme = await h.provision({ name: 'Acme', slug: 'acme', adminEmail: acmeAdmin.email, adminPassword: acmeAdmin.password })
const globex = await h.provision({ name: 'Globex', slug: 'globex', adminEmail: 'gus@globex.test', adminPassword: 'globex-admin-password' })

/** A real 1×1 PNG. */
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')
/** The start of a JPEG (SOI, APP0 JFIF). */
const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(64)])
const acmeHost = { host: 'acme.localhost' }
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const putLogo = (url: string, contentType: string, payload: Buffer, headers: Record<string, string> = {}) => app.inject({ method: 'PUT', url, headers: { 'content-type': contentType, ...headers }, payload })
const adminPut = async (slug: string, contentType: string, payload: Buffer) => putLogo(`/api/admin/tenants/${slug}/logo`, contentType, payload, bearer((await h.login(h.superAdmin.email, h.superAdmin.password)).accessToken))

t.test('an operator uploads a logo; it is served back as stored, public on the tenant address', async (t) => {
  const put = await adminPut('acme', 'image/png', png)
  t.equal(put.statusCode, 200, put.body)
  t.match(put.json(), { contentType: 'image/png', sizeBytes: png.length, sha256: /^[0-9a-f]{64}$/ })

  const admin = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/acme/logo' })
  t.equal(admin.statusCode, 200)
  t.same(admin.rawPayload, png, 'the same bytes')
  t.equal(admin.headers['content-type'], 'image/png')
  t.equal(admin.headers['x-content-type-options'], 'nosniff')
  t.match(String(admin.headers['content-security-policy']), /default-src 'none'/)

  const current = await app.inject({ method: 'GET', url: '/api/tenants/current', headers: acmeHost })
  t.match(current.json(), { slug: 'acme', logoUrl: /^\/api\/tenants\/current\/logo\?v=[0-9a-f]{12}$/ })
  const publicLogo = await app.inject({ method: 'GET', url: current.json().logoUrl, headers: acmeHost })
  t.equal(publicLogo.statusCode, 200, 'no sign-in needed: the sign-in page shows it')
  t.same(publicLogo.rawPayload, png)
  const again = await app.inject({ method: 'GET', url: current.json().logoUrl, headers: { ...acmeHost, 'if-none-match': String(publicLogo.headers.etag) } })
  t.equal(again.statusCode, 304, 'unchanged: not sent again')

  const other = await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { host: 'globex.localhost' } })
  t.equal(other.json().logoUrl, null, "another tenant's address has no logo")
  t.equal((await app.inject({ method: 'GET', url: '/api/tenants/current/logo', headers: { host: 'globex.localhost' } })).statusCode, 404)

  const branding = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/acme/branding' })
  t.match(branding.json(), { name: 'Acme', logo: { contentType: 'image/png', sizeBytes: png.length } })
  const audit = await h.asAdmin({ method: 'GET', url: `/api/audit-logs?tenantId=${acme.id}&action=tenant.logo.set` })
  t.ok(audit.json().items.some((e: { action: string }) => e.action === 'tenant.logo.set'), 'audited')
})

t.test('anything but a PNG, JPEG, WebP or GIF that really is one is refused with what to do', async (t) => {
  const svg = await adminPut('acme', 'image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))
  t.equal(svg.statusCode, 415)
  t.match(svg.json(), { error: 'UnsupportedMediaType', message: /SVG logos are not accepted.*PNG/ })

  const text = await adminPut('acme', 'text/plain', Buffer.from('hello'))
  t.equal(text.statusCode, 415)
  t.match(text.json().message, /Content-Type image\/png/)

  const disguised = await adminPut('acme', 'image/png', Buffer.from('<html><script>alert(1)</script></html>'))
  t.equal(disguised.statusCode, 415)
  t.match(disguised.json().message, /is not a PNG image/)

  const mislabeled = await adminPut('acme', 'image/png', jpeg)
  t.equal(mislabeled.statusCode, 415)
  t.match(mislabeled.json().message, /is a JPEG image but was sent as image\/png/)

  const big = await adminPut('acme', 'image/png', Buffer.concat([png, Buffer.alloc(600 * 1024)]))
  t.equal(big.statusCode, 413)
  t.match(big.json(), { error: 'PayloadTooLarge', message: /limit is 512 KiB. Resize it/ })

  const huge = await adminPut('acme', 'image/png', Buffer.concat([png, Buffer.alloc(3 * 1024 * 1024)]))
  t.equal(huge.statusCode, 413, 'far too large: refused before it is read whole')

  const empty = await adminPut('acme', 'image/png', Buffer.alloc(0))
  t.equal(empty.statusCode, 400)

  const still = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/acme/logo' })
  t.same(still.rawPayload, png, 'the logo uploaded before is untouched')
})

t.test("a tenant's own admin brands it on its address; members and other tenants cannot", async (t) => {
  const { accessToken } = await h.login(acmeAdmin.email, acmeAdmin.password, acmeHost)
  const headers = { ...acmeHost, ...bearer(accessToken) }
  const renamed = await app.inject({ method: 'PATCH', url: '/api/tenants/current', headers, payload: { name: 'Acme Prefeitura' } })
  t.equal(renamed.statusCode, 200, renamed.body)
  t.equal(renamed.json().name, 'Acme Prefeitura')
  t.equal((await app.inject({ method: 'GET', url: '/api/tenants/current', headers: acmeHost })).json().name, 'Acme Prefeitura')

  const put = await putLogo('/api/tenants/current/logo', 'image/jpeg', jpeg, headers)
  t.equal(put.statusCode, 200, put.body)
  t.equal((await app.inject({ method: 'GET', url: '/api/tenants/current/branding', headers })).json().logo.contentType, 'image/jpeg')

  const member = await app.inject({ method: 'POST', url: '/api/users', headers, payload: { email: 'max@acme.test', password: 'member-password' } })
  t.equal(member.statusCode, 201, member.body)
  const memberToken = (await h.login('max@acme.test', 'member-password', acmeHost)).accessToken
  const byMember = await putLogo('/api/tenants/current/logo', 'image/png', png, { ...acmeHost, ...bearer(memberToken) })
  t.equal(byMember.statusCode, 403, 'a member is not an administrator')
  t.equal((await app.inject({ method: 'PATCH', url: '/api/tenants/current', headers: { ...acmeHost, ...bearer(memberToken) }, payload: { name: 'x' } })).statusCode, 403)

  const elsewhere = await putLogo('/api/tenants/current/logo', 'image/png', png, { host: 'globex.localhost', ...bearer(accessToken) })
  t.equal(elsewhere.statusCode, 403)
  t.equal(elsewhere.json().error, 'CrossTenantAccessBlocked')
  const adminRoute = await putLogo('/api/admin/tenants/globex/logo', 'image/png', png, bearer(accessToken))
  t.equal(adminRoute.statusCode, 403, "a tenant user never reaches the operators' routes")
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/globex/branding' })).json().logo, null, "globex's branding is untouched")

  const removed = await app.inject({ method: 'DELETE', url: '/api/tenants/current/logo', headers })
  t.equal(removed.statusCode, 204)
  const gone = await app.inject({ method: 'GET', url: '/api/tenants/current/logo', headers: acmeHost })
  t.equal(gone.statusCode, 404)
  t.match(gone.json().message, /has no logo. Upload one/)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/tenants/current/logo', headers })).statusCode, 404, 'nothing left to remove')
})

t.test('database sizes are sampled, listed, sorted and kept as a history', async (t) => {
  const before = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?sort=slug' })).json()
  t.same(before.items.map((i: { sizeBytes: number | null }) => i.sizeBytes), [null, null], 'no size before the first sample')

  // globex grows, so the two differ.
  await h.cluster.query('create table big as select g as id, repeat(md5(g::text), 8) as filler from generate_series(1, 20000) g', [], globex.database)
  const sampled = await h.asAdmin({ method: 'POST', url: '/api/admin/size-samples' })
  t.equal(sampled.statusCode, 200, sampled.body)
  t.equal(sampled.json().sampled, 2)
  t.equal(await h.tenantd.sizeHistory.sampleDue(), 0, 'a round within the interval samples nobody again')

  const list = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?sort=size' })).json()
  t.same(list.items.map((i: { slug: string }) => i.slug), ['globex', 'acme'], 'largest first')
  t.ok(list.items.every((i: { sizeBytes: number }) => i.sizeBytes > 1_000_000), 'real database sizes')

  const history = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/globex/size-history?days=7' })
  t.equal(history.statusCode, 200, history.body)
  t.match(history.json(), { tenantId: globex.id, days: 7, resolution: 'hour', sampleMinutes: 0 })
  t.equal(history.json().items.length, 1)
  t.equal(history.json().items[0].bytes, list.items[0].sizeBytes)
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/globex/size-history' })).json().resolution, 'day')
  const bad = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/globex/size-history?days=0' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /days/)
})

t.test('tenantctl branding and the SIZE column', async (t) => {
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const file = path.join(tmpdir(), `tenantd-logo-${process.pid}.png`)
  await writeFile(file, png)
  const set = await cli.run(['branding', 'globex', '--name', 'Globex Corp', '--logo', file])
  t.equal(set.code, 0, showRun(set))
  t.match(set.stdout, /Name:\s+Globex Corp/)
  t.match(set.stdout, /Logo:\s+image\/png, 70 B/)
  const svg = path.join(tmpdir(), `tenantd-logo-${process.pid}.svg`)
  await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg"/>')
  const refused = await cli.run(['branding', 'globex', '--logo', svg])
  t.equal(refused.code, 1, showRun(refused))
  t.match(refused.stderr, /SVG logos are not accepted/)
  const list = await cli.run(['list', '--sort', 'size'])
  t.equal(list.code, 0, showRun(list))
  t.match(list.stdout, /SIZE/)
  t.match(list.stdout, /globex .*\d+(\.\d+)? MiB/)
})
