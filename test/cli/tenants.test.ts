import { createServer } from 'node:net'
import t from 'tap'
import { cliEnv, credentialsFixture, runTenantctl, startStub, tenantFixture } from './cli-harness.js'

const page = {
  items: [
    { ...tenantFixture(), modules: ['crm', 'price-basket'], sizeBytes: 8_028_323, lastBackup: { id: 'b-1', state: 'verified', at: '2024-05-02T02:00:07.000Z', sizeBytes: 15360 } },
    { ...tenantFixture({ id: 't-2', slug: 'globex', name: 'Globex', status: 'suspended', plan: 'free', hostName: null, hostId: null, database: null }), modules: [], sizeBytes: null, lastBackup: null },
  ],
  total: 7,
  limit: 2,
  offset: 0,
}

t.test('list renders an aligned table with a footer and passes the filters', async (t) => {
  const stub = await startStub(t, { 'GET /api/admin/tenants': { body: page } })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['list', '--status', 'active', '--search', 'ac', '--limit', '2', '--sort', 'lastBackup'], { env })

  t.equal(result.code, 0, result.stderr)
  t.equal(
    result.stdout,
    [
      'SLUG    NAME       STATUS     PLAN  HOST     MODULES            SIZE     LAST BACKUP                CREATED',
      'acme    Acme Corp  active     pro   pg-main  crm, price-basket  7.7 MiB  2024-05-02 02:00 verified  2024-05-01',
      'globex  Globex     suspended  free  -        -                  -        never                      2024-05-01',
      '2 of 7 tenants',
      '',
    ].join('\n'),
  )
  const query = stub.requests[0]?.query
  t.same(Object.fromEntries(query ?? []), { status: 'active', search: 'ac', sort: 'lastBackup', limit: '2' })
  t.equal(stub.requests[0]?.headers.authorization, 'Bearer access-1')
})

t.test('list --json prints the raw answer', async (t) => {
  const stub = await startStub(t, { 'GET /api/admin/tenants': { body: page } })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['list', '--json'], { env })

  t.equal(result.code, 0, result.stderr)
  t.same(JSON.parse(result.stdout), page)
})

t.test('a server error prints its message and code on stderr and exits 1', async (t) => {
  const stub = await startStub(t, {
    'GET /api/admin/tenants/nope': {
      status: 404,
      body: { error: 'TenantNotFound', message: 'No tenant "nope". Check the slug, subdomain or id with `tenantctl list`.' },
    },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['show', 'nope'], { env })

  t.equal(result.code, 1)
  t.equal(result.stdout, '')
  t.equal(result.stderr, 'error: No tenant "nope". Check the slug, subdomain or id with `tenantctl list`. (TenantNotFound)\n')
})

t.test('an unreachable server is named with how to start it', async (t) => {
  const port = await freePort()
  const env = { TENANTD_URL: `http://127.0.0.1:${port}`, TENANTCTL_CONFIG_DIR: t.testdir({}) }

  const result = await runTenantctl(['list'], { env })

  t.equal(result.code, 1)
  t.match(result.stderr, `error: cannot reach tenantd at http://127.0.0.1:${port}: is it running? (npm start)\n`)
})

t.test('suspend sends the reason and confirms in one line', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/acme/suspend': { body: tenantFixture({ status: 'suspended', statusReason: 'unpaid' }) },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['suspend', 'acme', '--reason', 'unpaid'], { env })

  t.equal(result.code, 0, result.stderr)
  t.equal(result.stdout, '✓ Tenant acme suspended\n')
  t.same(stub.requests[0]?.body, { reason: 'unpaid' })
})

t.test('show lays one tenant out as key/value lines', async (t) => {
  const stub = await startStub(t, { 'GET /api/admin/tenants/acme': { body: tenantFixture() } })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['show', 'acme'], { env })

  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /^Slug:\s+acme$/m)
  t.match(result.stdout, /^Host:\s+pg-main \(h-1\)$/m)
  t.match(result.stdout, /^Retention:\s+30 days$/m)
})

t.test('hard delete without --yes and without a terminal refuses before calling the API', async (t) => {
  const stub = await startStub(t, {})
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['delete', 'acme', '--hard'], { env })

  t.equal(result.code, 2)
  t.match(result.stderr, /error: a hard delete drops the database.*\nhint: .*tenantctl delete acme --hard --yes/)
  t.equal(stub.requests.length, 0)
})

t.test('hard delete with --yes sends hardDelete and force', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/acme/delete': { body: tenantFixture({ status: 'deleted', deletedAt: '2024-06-01T00:00:00Z' }) },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['delete', 'acme', '--hard', '--force', '--yes'], { env })

  t.equal(result.code, 0, result.stderr)
  t.same(stub.requests[0]?.body, { hardDelete: true, force: true })
  t.equal(result.stdout, '✓ Tenant acme deleted; database and role dropped\n')
})

t.test('test-connection exits 1 when the database does not answer', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/acme/test-connection': {
      body: { ok: false, latencyMs: 5000, error: 'HostUnavailable', message: 'connect ECONNREFUSED 10.0.0.5:5432' },
    },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['test-connection', 'acme'], { env })

  t.equal(result.code, 1)
  t.match(result.stderr, 'error: database of acme not reachable: connect ECONNREFUSED 10.0.0.5:5432 (HostUnavailable)')
})

t.test('usage errors exit 2 and point at the help', async (t) => {
  const env = { TENANTD_URL: 'http://127.0.0.1:9', TENANTCTL_CONFIG_DIR: t.testdir({}) }

  const missing = await runTenantctl(['suspend'], { env })
  t.equal(missing.code, 2)
  t.equal(missing.stderr, 'error: missing <id>\nhint: tenantctl help suspend\n')

  const unknown = await runTenantctl(['list', '--colour'], { env })
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /Unknown option '--colour'/)

  const help = await runTenantctl(['help', 'delete'], { env })
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: tenantctl delete <id> \[options\]/)
})

/** A port nobody listens on: bind one, then release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
