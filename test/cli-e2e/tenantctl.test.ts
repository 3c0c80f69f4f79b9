import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'

// The real tenantctl (bin/tenantctl.js, child processes) against a real tenantd over HTTP:
// runbook 000's `tenantctl create`, then the lifecycle an operator walks through.

const h = await startHarness(t)
// The real binary (`node bin/tenantctl.js`), as a user runs it; other tests run tenantctl in-process.
const cli = await tenantctlAgainst(h, t, { spawn: true })
const url = cli.url
const configDir = cli.configDir
const tenantctl = cli.run
const show = showRun
const databaseExists = async (name: string) => ((await h.cluster.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0
const tenantStatus = async (slug: string) => (await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}` })).json().status as string

t.test('login stores a session; the password never reaches argv or the output', async (t) => {
  const wrong = await tenantctl(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: 'wrong-password-123' })
  t.not(wrong.code, 0, 'a wrong password fails')
  t.match(wrong.stderr, /Wrong email or password/, "the server's message is shown")

  const login = await tenantctl(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, show(login))
  t.match(login.stdout + login.stderr, new RegExp(`Logged in to .* as ${h.superAdmin.email.replace('.', '\\.')}`))
  t.notOk((login.stdout + login.stderr).includes(h.superAdmin.password), 'the password is not echoed')
  const file = path.join(configDir, 'credentials.json')
  t.equal(((await stat(file)).mode & 0o777).toString(8), '600', 'credentials.json is owner-only')
  const stored = JSON.parse(await readFile(file, 'utf8'))
  t.equal(stored.url, url, 'the session is bound to this server')
  t.notOk(JSON.stringify(stored).includes(h.superAdmin.password), 'the password is not stored, only tokens')
})

t.test('create (runbook 000) provisions a real database', async (t) => {
  const create = await tenantctl(['create', '--name', 'Santa Rita', '--slug', 'santarita', '--subdomain', 'santarita'])
  t.equal(create.code, 0, show(create))
  t.match(create.stdout + create.stderr, /santarita/, 'the output names the tenant')
  t.match(create.stdout + create.stderr, /created/i)
  t.ok(await databaseExists('tenant_santarita'), 'database tenant_santarita exists on the cluster')
  t.equal(await tenantStatus('santarita'), 'active')
  const current = await h.app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': 'santarita' } })
  t.match(current.json(), { slug: 'santarita', subdomain: 'santarita', name: 'Santa Rita', status: 'active' }, 'runbook 000 check: X-Tenant-ID resolves it')

  const again = await tenantctl(['create', '--name', 'Santa Rita', '--slug', 'santarita', '--subdomain', 'santarita'])
  t.not(again.code, 0, 'creating it twice fails')
  t.match(again.stderr, /already exists/, "with the server's message")
  t.match(again.stderr, /TenantExists/)
})

t.test('list, show --json', async (t) => {
  // Read-only commands, run side by side.
  const [list, json, shown, human] = await Promise.all([tenantctl(['list']), tenantctl(['list', '--json']), tenantctl(['show', 'santarita', '--json']), tenantctl(['show', 'santarita'])])
  t.equal(list.code, 0, show(list))
  const rows = list.stdout.split('\n')
  t.ok(rows.some((row) => /\bsantarita\b/.test(row) && /\bactive\b/.test(row)), 'a table row with santarita, active')
  t.match(rows[0], /SLUG/i, 'the table has a header')
  t.match(list.stdout, /1 of 1 tenants/)

  t.equal(json.code, 0, show(json))
  t.same(JSON.parse(json.stdout).items.map((x: { slug: string }) => x.slug), ['santarita'])

  t.equal(shown.code, 0, show(shown))
  let tenant: Record<string, unknown> = {}
  t.doesNotThrow(() => (tenant = JSON.parse(shown.stdout)), 'show --json prints parseable JSON and nothing else on stdout')
  t.match(tenant, { slug: 'santarita', subdomain: 'santarita', name: 'Santa Rita', status: 'active', database: 'tenant_santarita' })
  t.equal(human.code, 0, show(human))
  t.match(human.stdout, /Santa Rita/)
  t.match(human.stdout, /tenant_santarita/)
})

t.test('suspend, reactivate, test-connection', async (t) => {
  const suspend = await tenantctl(['suspend', 'santarita', '--reason', 'unpaid invoice'])
  t.equal(suspend.code, 0, show(suspend))
  t.match(suspend.stdout + suspend.stderr, /santarita suspended/)
  t.equal(await tenantStatus('santarita'), 'suspended', 'the server has it suspended')
  const refused = await h.app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': 'santarita' } })
  t.match(refused.json(), { error: 'TenantSuspended', message: /unpaid invoice/ }, 'its traffic is refused with the reason')

  const twice = await tenantctl(['suspend', 'santarita'])
  t.not(twice.code, 0, 'suspending twice fails')
  t.match(twice.stderr, /only active tenants can be suspended/)

  const reactivate = await tenantctl(['reactivate', 'santarita'])
  t.equal(reactivate.code, 0, show(reactivate))
  t.match(reactivate.stdout + reactivate.stderr, /santarita reactivated/)
  t.equal(await tenantStatus('santarita'), 'active')

  const [probe, probeJson] = await Promise.all([tenantctl(['test-connection', 'santarita']), tenantctl(['test-connection', 'santarita', '--json'])])
  t.equal(probe.code, 0, show(probe))
  t.match(probe.stdout + probe.stderr, /reachable \([\d.]+ ms\)/)
  t.equal(probeJson.code, 0, show(probeJson))
  t.match(JSON.parse(probeJson.stdout), { ok: true, database: 'tenant_santarita' })
})

t.test('ops lists the provision operation', async (t) => {
  const [ops, json] = await Promise.all([tenantctl(['ops']), tenantctl(['ops', 'list', '--json'])])
  t.equal(ops.code, 0, show(ops))
  t.ok(ops.stdout.split('\n').some((row) => /\bprovision\b/.test(row) && /\bsucceeded\b/.test(row)), 'a provision row that succeeded')
  t.equal(json.code, 0, show(json))
  const tenant = (await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/santarita' })).json()
  const provision = JSON.parse(json.stdout).items.find((op: { kind: string; tenantId: string }) => op.kind === 'provision' && op.tenantId === tenant.id)
  t.match(provision, { status: 'succeeded', progress: 100 }, 'the provision of santarita')
  const one = await tenantctl(['ops', 'show', provision.id])
  t.equal(one.code, 0, show(one))
  t.match(one.stdout, /provision/)
  t.match(one.stdout, /succeeded/)
})

t.test('delete --hard --force --yes drops the database', async (t) => {
  const noConfirm = await tenantctl(['delete', 'santarita', '--hard', '--force'])
  t.not(noConfirm.code, 0, 'a hard delete without --yes and without a terminal is refused')
  t.match(noConfirm.stderr, /--yes/)
  t.ok(await databaseExists('tenant_santarita'), 'and nothing was dropped')

  const del = await tenantctl(['delete', 'santarita', '--hard', '--force', '--yes'])
  t.equal(del.code, 0, show(del))
  t.match(del.stdout + del.stderr, /deleted; database and role dropped/)
  t.notOk(await databaseExists('tenant_santarita'), 'the database is gone')
  t.equal((await h.cluster.query(`select 1 from pg_roles where rolname = 'tenant_santarita_owner'`)).rowCount, 0, 'the role is gone')
  const list = await tenantctl(['list', '--json'])
  t.same(JSON.parse(list.stdout).items, [], 'it is no longer listed')
})

t.test("failures exit non-zero with the server's message on stderr", async (t) => {
  const anonDir = await mkdtemp(path.join(tmpdir(), 'tenantctl-anon-'))
  t.teardown(() => rm(anonDir, { recursive: true, force: true }))
  // Independent of each other: run side by side.
  const [missing, missingJson, suspendMissing, badSlug, anonymous, down] = await Promise.all([
    tenantctl(['show', 'nope']),
    tenantctl(['show', 'nope', '--json']),
    tenantctl(['suspend', 'nope']),
    tenantctl(['create', '--name', 'Bad', '--slug', 'Bad Slug!']),
    tenantctl(['list'], { TENANTCTL_CONFIG_DIR: anonDir }),
    tenantctl(['list'], { TENANTD_URL: 'http://127.0.0.1:1' }),
  ])
  t.not(missing.code, 0, show(missing))
  t.match(missing.stderr, /No tenant "nope"/, "the server's message")
  t.match(missing.stderr, /TenantNotFound/)
  t.equal(missing.stdout, '', 'nothing on stdout')
  t.not(missingJson.code, 0)
  t.match(missingJson.stderr + missingJson.stdout, /No tenant "nope"/)

  t.not(suspendMissing.code, 0)
  t.match(suspendMissing.stderr, /No tenant "nope"/)

  t.not(badSlug.code, 0)
  t.match(badSlug.stderr, /3-40 lowercase letters/, "the server's slug rule reaches the operator")

  t.not(anonymous.code, 0, 'without a session, list fails')
  t.match(anonymous.stderr, /log in|login/i, 'and says to log in')

  t.not(down.code, 0, 'an unreachable server fails')
  t.match(down.stderr, /cannot reach tenantd/)
})
