import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { startHarness } from '../helpers/harness.js'

// Every bad input answers a clear 4xx `{error, message}` (never a 500), and a refused
// provision leaves nothing behind: no database, no role, no tenant row, no operation.

const h = await startHarness(t)
const { app } = h

const owner = { email: 'owner@existing.test', password: 'existing-admin-pass' }
const existing = await h.provision({ name: 'Existing', slug: 'existing', subdomain: 'existing-sub', adminEmail: owner.email, adminPassword: owner.password })
const tenantUserToken = (await h.login(owner.email, owner.password, { 'x-tenant-id': 'existing' })).accessToken



/** The reply is the documented error shape with this status and code, and a useful message. */
function expectProblem(t: Test, res: LightMyRequestResponse, status: number, code: string, message?: RegExp, what = ''): void {
  t.equal(res.statusCode, status, `${what} answers ${status} (got ${res.statusCode}: ${res.body.slice(0, 300)})`)
  t.match(String(res.headers['content-type']), /^application\/json/, `${what} answers JSON`)
  let body: { error?: unknown; message?: unknown } = {}
  try {
    body = res.json()
  } catch {
    t.fail(`${what} body is not JSON: ${res.body.slice(0, 200)}`)
    return
  }
  t.equal(body.error, code, `${what} error code ${code}`)
  t.type(body.message, 'string', `${what} has a message`)
  t.ok(String(body.message).length >= 10, `${what} message is a sentence: ${String(body.message)}`)
  t.same(Object.keys(body).sort(), ['error', 'message'], `${what} exposes only {error, message}`)
  if (message) t.match(String(body.message), message, `${what} message says what to do`)
}

/** What a provision leaves on the cluster and in the catalog. */
async function footprint() {
  const databases = (await h.cluster.query<{ datname: string }>(`select datname from pg_database where datname like 'tenant\\_%' order by 1`)).rows.map((r) => r.datname)
  const roles = (await h.cluster.query<{ rolname: string }>(`select rolname from pg_roles where rolname like 'tenant\\_%' order by 1`)).rows.map((r) => r.rolname)
  const rows = (await h.tenantd.catalog.db.selectFrom('tenants').select('slug').orderBy('slug').execute()).map((r) => r.slug)
  const operations = (await h.tenantd.catalog.db.selectFrom('operations').select('id').execute()).length
  const listed = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?limit=500' })).json().items.map((x: { slug: string }) => x.slug).sort()
  return { databases, roles, rows, operations, listed }
}

const baseline = await footprint()
t.same(baseline.databases, ['tenant_existing'], 'baseline: one tenant database')
t.same(baseline.listed, ['existing'], 'baseline: one tenant listed')

const provision = (payload: unknown, headers: Record<string, string> = {}) =>
  h.asAdmin({ method: 'POST', url: '/api/admin/tenants/provision?wait=true', payload: payload as Record<string, unknown>, headers })

t.test('invalid or hostile slugs are refused with the rule to follow, and nothing is created', async (t) => {
  const slugs = [
    'a";drop',
    'A',
    'ab',
    '-abc',
    'abc-',
    'a--b',
    '1abc',
    'ab_c',
    'ab.c',
    'x'.repeat(41),
    "tenant'; DROP DATABASE x; --",
    'café',
    'ｔｅｎａｎｔ',
    'tenant\u0000x',
    'ten ant',
    '../../etc',
    '',
  ]
  for (const slug of slugs) {
    const res = await provision({ name: 'Hostile', slug })
    expectProblem(t, res, 400, 'ValidationError', /slug .*(3-40 lowercase letters|must NOT have)|slug/, `slug ${JSON.stringify(slug).slice(0, 50)}`)
  }
  const sample = await provision({ name: 'Hostile', slug: 'a";drop' })
  t.match(sample.json().message, /use 3-40 lowercase letters, digits and single hyphens, starting with a letter/, 'the message states the slug rule')
  const tooLong = await provision({ name: 'Hostile', slug: 'y'.repeat(101) })
  expectProblem(t, tooLong, 400, 'ValidationError', /slug/, '101-character slug')

  const reserved = await provision({ name: 'Admin', slug: 'admin' })
  expectProblem(t, reserved, 400, 'ValidationError', /reserved; choose another/, 'reserved slug admin')
  for (const name of ['api', 'www', 'postgres', 'template1']) {
    expectProblem(t, await provision({ name: 'Reserved', slug: name }), 400, 'ValidationError', /reserved/, `reserved slug ${name}`)
  }
  const derived = await provision({ name: 'Admin' })
  expectProblem(t, derived, 400, 'ValidationError', /reserved/, 'a name whose derived slug is reserved')

  t.same(await footprint(), baseline, 'no database, role, tenant row or operation was created')
})

t.test('hostile subdomains are refused too', async (t) => {
  for (const subdomain of ['evil.com', 'a.b', 'x"; drop', 'Sub Domain', '-sub', 'sub-', 'ab', 'admin', 'ünïcode', 'a'.repeat(41)]) {
    const res = await provision({ name: 'Sub', slug: 'okslug', subdomain })
    expectProblem(t, res, 400, 'ValidationError', /subdomain/, `subdomain ${JSON.stringify(subdomain)}`)
  }
  t.same(await footprint(), baseline, 'nothing created')
})

t.test('duplicates answer 409 TenantExists and point to the existing tenant', async (t) => {
  const sameSlug = await provision({ name: 'Other', slug: 'existing' })
  expectProblem(t, sameSlug, 409, 'TenantExists', /slug "existing" already exists; choose another/, 'duplicate slug')
  const sameSlugUpper = await provision({ name: 'Other', slug: '  EXISTING ' })
  expectProblem(t, sameSlugUpper, 409, 'TenantExists', /existing/, 'duplicate slug in other case and padded')
  const sameSubdomain = await provision({ name: 'Other', slug: 'another', subdomain: 'existing-sub' })
  expectProblem(t, sameSubdomain, 409, 'TenantExists', /subdomain "existing-sub" already exists/, 'duplicate subdomain')
  t.match(sameSubdomain.json().message, /tenantctl show existing/, 'the message names the tenant that holds it')
  const slugIsOthersSubdomain = await provision({ name: 'Other', slug: 'existing-sub' })
  expectProblem(t, slugIsOthersSubdomain, 409, 'TenantExists', /existing-sub/, "a slug equal to another tenant's subdomain")
  const subdomainIsOthersSlug = await provision({ name: 'Other', slug: 'another', subdomain: 'existing' })
  expectProblem(t, subdomainIsOthersSlug, 409, 'TenantExists', /existing/, "a subdomain equal to another tenant's slug")
  t.same(await footprint(), baseline, 'nothing created')
})

t.test('concurrent provisions of one slug: exactly one wins, the others get 409, never 500', async (t) => {
  const results = await Promise.all(
    Array.from({ length: 4 }, () => h.asAdmin({ method: 'POST', url: '/api/admin/tenants/provision', payload: { name: 'Racer', slug: 'racer' } }))
  )
  const statuses = results.map((r) => r.statusCode).sort()
  t.same(statuses, [202, 409, 409, 409], `one accepted, three refused (${results.map((r) => r.body.slice(0, 120)).join(' | ')})`)
  for (const res of results.filter((r) => r.statusCode === 409)) expectProblem(t, res, 409, 'TenantExists', /racer/, 'the losing provision')
  const won = results.find((r) => r.statusCode === 202)!
  const operationId = won.json().operationId as string
  let status = ''
  for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(status); i++) {
    await new Promise((r) => setTimeout(r, 100))
    status = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json().status
  }
  t.equal(status, 'succeeded')
  const after = await footprint()
  t.same(after.databases, ['tenant_existing', 'tenant_racer'], 'one database for the slug')
  t.same(after.roles, ['tenant_existing_owner', 'tenant_racer_owner'], 'one role for the slug')
  t.same(after.listed, ['existing', 'racer'])
  const del = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/racer/delete?wait=true', payload: { hardDelete: true, force: true } })
  t.equal(del.statusCode, 200, del.body)
  const cleaned = await footprint()
  t.same({ ...cleaned, operations: 0, rows: [] }, { ...baseline, operations: 0, rows: [] }, 'racer removed again')
})

t.test('plan, admin and body rules', async (t) => {
  const before = await footprint()
  const plan = await provision({ name: 'Planless', slug: 'planless', plan: 'platinum' })
  expectProblem(t, plan, 400, 'ValidationError', /unknown plan "platinum"; choose one of free, pro, enterprise/, 'unknown plan')

  const onlyEmail = await provision({ name: 'Half', slug: 'half-admin', adminEmail: 'a@half.test' })
  expectProblem(t, onlyEmail, 400, 'ValidationError', /adminEmail and adminPassword go together/, 'adminEmail without adminPassword')
  const onlyPassword = await provision({ name: 'Half', slug: 'half-admin', adminPassword: 'long-enough-pass' })
  expectProblem(t, onlyPassword, 400, 'ValidationError', /adminEmail and adminPassword go together/, 'adminPassword without adminEmail')

  const short = await provision({ name: 'Short', slug: 'short-pass', adminEmail: 'a@short.test', adminPassword: 'short' })
  expectProblem(t, short, 400, 'ValidationError', /adminPassword.*(8 characters|fewer than 8)/, 'short adminPassword')
  t.notMatch(short.body, /"short"|: short\b/, 'the password is not echoed back')

  const badEmail = await provision({ name: 'Mail', slug: 'bad-mail', adminEmail: 'not-an-email', adminPassword: 'long-enough-pass' })
  expectProblem(t, badEmail, 400, 'ValidationError', /adminEmail/, 'malformed adminEmail')
  const badContact = await provision({ name: 'Mail', slug: 'bad-mail', contactEmail: 'nope' })
  expectProblem(t, badContact, 400, 'ValidationError', /contactEmail/, 'malformed contactEmail')

  const unknownField = await provision({ name: 'Extra', slug: 'extra', database: 'postgres' })
  expectProblem(t, unknownField, 400, 'ValidationError', /additional properties \(database\)/, 'unknown field')

  const noName = await provision({ slug: 'noname' })
  expectProblem(t, noName, 400, 'ValidationError', /name/, 'missing name')
  const blankName = await provision({ name: '   ', slug: 'blank-name' })
  expectProblem(t, blankName, 400, 'ValidationError', /name is required/, 'blank name')
  const hugeName = await provision({ name: 'n'.repeat(201), slug: 'huge-name' })
  expectProblem(t, hugeName, 400, 'ValidationError', /name/, '201-character name')
  const wrongType = await provision({ name: { first: 'Wrong' }, slug: 'wrong-type' })
  expectProblem(t, wrongType, 400, 'ValidationError', /name/, 'name of the wrong type')
  const retention = await provision({ name: 'Retain', slug: 'retain', retentionDays: -1 })
  expectProblem(t, retention, 400, 'ValidationError', /retentionDays/, 'negative retentionDays')
  const host = await provision({ name: 'Host', slug: 'on-no-host', hostId: 'no-such-host' })
  t.ok(host.statusCode >= 400 && host.statusCode < 500, `unknown hostId is a 4xx (${host.statusCode} ${host.body})`)
  t.match(host.json(), { error: String, message: /no-such-host/ })
  const hostUuid = await provision({ name: 'Host', slug: 'on-no-host', hostId: '00000000-0000-0000-0000-000000000000' })
  t.ok(hostUuid.statusCode >= 400 && hostUuid.statusCode < 500, `unknown hostId uuid is a 4xx (${hostUuid.statusCode} ${hostUuid.body})`)

  t.same(await footprint(), before, 'nothing created by any refused request')
})

t.test('text a database cannot store (NUL characters) is a 400, not a 500', async (t) => {
  const before = await footprint()
  const res = await provision({ name: 'Nul\u0000Corp', slug: 'nul-corp' })
  expectProblem(t, res, 400, 'ValidationError', /name/, 'a name with a NUL character')
  const adminName = await provision({ name: 'Nul Corp', slug: 'nul-corp', adminName: 'Ann\u0000', adminEmail: 'ann@nul.test', adminPassword: 'long-enough-pass' })
  t.ok(adminName.statusCode === 400 || adminName.statusCode === 201, `adminName with NUL is refused up front or stored safely (${adminName.statusCode} ${adminName.body.slice(0, 200)})`)
  if (adminName.statusCode === 201) {
    await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/nul-corp/delete?wait=true', payload: { hardDelete: true, force: true } })
  }
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'root\u0000@tenantd.test', password: 'whatever-pass' } })
  t.ok([400, 401].includes(login.statusCode), `operator login with a NUL in the email is 400 or 401 (got ${login.statusCode} ${login.body})`)
  const search = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?search=%00' })
  t.ok([200, 400].includes(search.statusCode), `?search=%00 is 200 or 400 (got ${search.statusCode} ${search.body})`)
  const audit = await h.asAdmin({ method: 'GET', url: '/api/audit-logs?tenantId=%00' })
  t.ok([400, 404].includes(audit.statusCode), `?tenantId=%00 on audit logs is 400 or 404 (got ${audit.statusCode} ${audit.body})`)
  t.same({ ...(await footprint()), operations: 0 }, { ...before, operations: 0 }, 'no tenant left behind')
})

t.test('malformed requests: JSON, content type, size', async (t) => {
  const before = await footprint()
  const bearer = { authorization: `Bearer ${await h.adminToken()}` }
  const malformed = await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', headers: { ...bearer, 'content-type': 'application/json' }, payload: '{"name": "Broken",' })
  expectProblem(t, malformed, 400, 'ValidationError', /JSON/i, 'malformed JSON')
  const empty = await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', headers: { ...bearer, 'content-type': 'application/json' }, payload: '' })
  expectProblem(t, empty, 400, 'ValidationError', undefined, 'empty JSON body')
  const array = await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', headers: { ...bearer, 'content-type': 'application/json' }, payload: '[]' })
  expectProblem(t, array, 400, 'ValidationError', /body/, 'a JSON array body')
  const nullBody = await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', headers: { ...bearer, 'content-type': 'application/json' }, payload: 'null' })
  expectProblem(t, nullBody, 400, 'ValidationError', /body/, 'a JSON null body')
  const text = await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', headers: { ...bearer, 'content-type': 'text/plain' }, payload: 'name=Acme' })
  expectProblem(t, text, 415, 'UnsupportedMediaType', /text\/plain/, 'text/plain body')
  const form = await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=Acme' })
  expectProblem(t, form, 415, 'UnsupportedMediaType', undefined, 'form-encoded body')
  const huge = await app.inject({
    method: 'POST',
    url: '/api/admin/tenants/provision',
    headers: { ...bearer, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'Huge', slug: 'huge', adminName: 'x'.repeat(1_100_000) }),
  })
  expectProblem(t, huge, 413, 'PayloadTooLarge', undefined, 'a body over 1 MiB')
  const suspendText = await app.inject({ method: 'POST', url: `/api/admin/tenants/existing/suspend`, headers: { ...bearer, 'content-type': 'text/plain' }, payload: 'now' })
  expectProblem(t, suspendText, 415, 'UnsupportedMediaType', undefined, 'suspend with a text body')
  const suspendExtra = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/existing/suspend', payload: { reason: 'x', until: 'tomorrow' } })
  expectProblem(t, suspendExtra, 400, 'ValidationError', /until/, 'suspend with an unknown field')
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/existing' })).json().status, 'active', 'the refused suspend changed nothing')
  const badLogin = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' })
  expectProblem(t, badLogin, 400, 'ValidationError', undefined, 'malformed login JSON')
  t.same(await footprint(), before, 'nothing created')
})

t.test('unknown tenants answer 404 TenantNotFound on every tenant route', async (t) => {
  const keys = ['nope', '00000000-0000-0000-0000-000000000000', "x' or '1'='1", '------------------------------------', '%E2%98%83']
  for (const key of keys) {
    const id = encodeURIComponent(key).replace(/%25/g, '%')
    expectProblem(t, await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${id}` }), 404, 'TenantNotFound', /tenantctl list/, `show ${key}`)
    expectProblem(t, await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${id}/suspend` }), 404, 'TenantNotFound', /tenantctl list/, `suspend ${key}`)
    expectProblem(t, await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${id}/test-connection` }), 404, 'TenantNotFound', /tenantctl list/, `test-connection ${key}`)
  }
  expectProblem(t, await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/nope/reactivate' }), 404, 'TenantNotFound', undefined, 'reactivate nope')
  expectProblem(t, await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/nope/cancel' }), 404, 'TenantNotFound', undefined, 'cancel nope')
  expectProblem(t, await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/nope/delete', payload: { hardDelete: true, force: true } }), 404, 'TenantNotFound', undefined, 'hard delete nope')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/operations?tenantId=nope' }), 404, 'TenantNotFound', undefined, 'operations of nope')
  // Longer than the router's parameter limit, and a path that is not valid percent-encoding:
  // both are answered by fastify before routing, and must still keep the error contract.
  for (const url of [`/api/admin/tenants/${'z'.repeat(101)}`, `/api/admin/tenants/${'z'.repeat(300)}/suspend`, '/api/admin/tenants/%E0%A4%A', '/api/admin/operations/%zz']) {
    const res = await h.asAdmin({ method: url.endsWith('suspend') ? 'POST' : 'GET', url })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url.slice(0, 60)} is a 4xx (${res.statusCode})`)
    t.same(Object.keys(res.json()).sort(), ['error', 'message'], `${url.slice(0, 60)} answers {error, message}: ${res.body.slice(0, 200)}`)
    t.match(res.json().error, /^[A-Z][A-Za-z]+$/, 'the error is a code word, not an HTTP reason phrase')
  }
})

t.test('unknown operations answer 404 OperationNotFound', async (t) => {
  for (const id of ['00000000-0000-0000-0000-000000000000', 'not-an-id', '12345', '------------------------------------', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', 'abcdef01-2345-6789-abcd-ef0123456789-', 'abcdef0-12345-6789-abcd-ef0123456789']) {
    expectProblem(t, await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` }), 404, 'OperationNotFound', /tenantctl ops/, `GET operation ${id}`)
    expectProblem(t, await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${id}/retry` }), 404, 'OperationNotFound', undefined, `retry operation ${id}`)
    expectProblem(t, await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${id}/rollback` }), 404, 'OperationNotFound', undefined, `rollback operation ${id}`)
  }
})

t.test('bad query strings answer 400 naming the parameter', async (t) => {
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?limit=0' }), 400, 'ValidationError', /limit/, 'limit=0')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?limit=abc' }), 400, 'ValidationError', /limit/, 'limit=abc')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?limit=501' }), 400, 'ValidationError', /limit/, 'limit=501')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?offset=-1' }), 400, 'ValidationError', /offset/, 'offset=-1')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?colour=red' }), 400, 'ValidationError', /colour/, 'unknown parameter')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/operations?limit=abc' }), 400, 'ValidationError', /limit/, 'operations limit=abc')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/provision?wait=maybe' }), 404, 'TenantNotFound', undefined, 'GET on the provision path is a tenant lookup')
  expectProblem(t, await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/provision?wait=maybe', payload: { name: 'Maybe', slug: 'maybe' } }), 400, 'ValidationError', /wait/, 'wait=maybe')
  const status = await h.asAdmin({ method: 'GET', url: '/api/admin/tenants?status=zzz' })
  expectProblem(t, status, 400, 'ValidationError', /status/, 'status=zzz')
  t.match(status.json().message, /active/, 'the message lists the statuses that exist (e.g. active)')
  t.ok(status.json().message.length < 400, `the message is one readable sentence, not one line per allowed value: ${status.json().message}`)
  const opStatus = await h.asAdmin({ method: 'GET', url: '/api/admin/operations?status=zzz' })
  expectProblem(t, opStatus, 400, 'ValidationError', /status/, 'operations status=zzz')
  t.match(opStatus.json().message, /succeeded/, 'the message lists the operation statuses that exist')
})

t.test('authentication and authorization', async (t) => {
  expectProblem(t, await app.inject({ method: 'GET', url: '/api/admin/tenants' }), 401, 'Unauthorized', /log in|POST \/api\/auth\/login/i, 'no token on list')
  expectProblem(t, await app.inject({ method: 'POST', url: '/api/admin/tenants/provision', payload: { name: 'Anon' } }), 401, 'Unauthorized', undefined, 'no token on provision')
  expectProblem(t, await app.inject({ method: 'GET', url: '/api/admin/operations' }), 401, 'Unauthorized', undefined, 'no token on operations')
  expectProblem(t, await app.inject({ method: 'GET', url: '/api/admin/tenants', headers: { authorization: 'Bearer not.a.jwt' } }), 401, 'Unauthorized', /refresh|log in/i, 'garbage token')
  expectProblem(t, await app.inject({ method: 'GET', url: '/api/admin/tenants', headers: { authorization: 'Basic cm9vdDpyb290' } }), 401, 'Unauthorized', /Bearer/, 'basic auth')
  const forged = tenantUserToken.split('.').slice(0, 2).join('.') + '.' + 'A'.repeat(43)
  expectProblem(t, await app.inject({ method: 'GET', url: '/api/admin/tenants', headers: { authorization: `Bearer ${forged}` } }), 401, 'Unauthorized', undefined, 'token with a forged signature')

  const asTenantUser = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${tenantUserToken}` }, ...(payload ? { payload } : {}) })
  expectProblem(t, await asTenantUser('GET', '/api/admin/tenants'), 403, 'Forbidden', /super-admin/, 'tenant user lists tenants')
  expectProblem(t, await asTenantUser('POST', '/api/admin/tenants/provision', { name: 'Sneaky', slug: 'sneaky' }), 403, 'Forbidden', undefined, 'tenant user provisions')
  expectProblem(t, await asTenantUser('GET', `/api/admin/tenants/${existing.id}`), 403, 'Forbidden', /operator/, 'tenant user shows own tenant via admin route')
  expectProblem(t, await asTenantUser('POST', '/api/admin/tenants/existing/suspend'), 403, 'Forbidden', undefined, 'tenant user suspends')
  expectProblem(t, await asTenantUser('POST', '/api/admin/tenants/existing/test-connection'), 403, 'Forbidden', undefined, 'tenant user tests the connection')
  expectProblem(t, await asTenantUser('GET', '/api/admin/operations'), 403, 'Forbidden', undefined, 'tenant user lists operations')
  expectProblem(t, await asTenantUser('GET', '/api/admin/hosts'), 403, 'Forbidden', undefined, 'tenant user lists hosts')
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/sneaky' })).statusCode, 404, 'the forbidden provision created nothing')
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/existing' })).json().status, 'active', 'the forbidden suspend changed nothing')
})

t.test('unknown routes and tenant resolution misses answer 404 JSON', async (t) => {
  expectProblem(t, await app.inject({ method: 'GET', url: '/api/nope' }), 404, 'NotFound', /\/docs/, 'unknown route')
  expectProblem(t, await app.inject({ method: 'DELETE', url: '/api/admin/tenants/existing' }), 404, 'NotFound', /DELETE \/api\/admin\/tenants\/existing/, 'unknown method on a known path')
  expectProblem(t, await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/existing/nothing-here' }), 404, 'NotFound', undefined, 'unknown tenant sub-route')

  const unknownTenant = await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': 'no-such-tenant' } })
  expectProblem(t, unknownTenant, 404, 'TenantNotFound', /no-such-tenant/, 'X-Tenant-ID of no tenant')
  const hostile = await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': "x'; DROP TABLE tenants; --" } })
  expectProblem(t, hostile, 404, 'TenantNotFound', undefined, 'hostile X-Tenant-ID')
  const longHeader = await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': 'q'.repeat(5000) } })
  t.ok(longHeader.statusCode === 404 || longHeader.statusCode === 400, `a 5000-character X-Tenant-ID is 404 or 400 (${longHeader.statusCode})`)
  t.ok(longHeader.body.length < 1000, 'and the reply does not echo the whole header back')
  const unknownHost = await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { host: 'ghost.localhost' } })
  expectProblem(t, unknownHost, 404, 'TenantNotFound', /ghost/, 'Host of no tenant')
  const noTenant = await app.inject({ method: 'GET', url: '/api/tenants/current' })
  expectProblem(t, noTenant, 404, 'NotFound', /X-Tenant-ID/, 'no tenant named at all')
  t.equal((await app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': 'existing' } })).statusCode, 200, 'and the real tenant still resolves')
})

t.test('no request in this file caused an unhandled error', async (t) => {
  const unhandled = h.logLines.filter((line) => line.includes('"unhandled error"'))
  t.same(unhandled.map((line) => JSON.parse(line).err?.message), [], 'no 500 was logged')
  const final = await footprint()
  t.same(final.databases, baseline.databases, 'only the baseline database remains')
  t.same(final.roles, baseline.roles, 'only the baseline role remains')
  t.same(final.listed, baseline.listed, 'only the baseline tenant is listed')
})
