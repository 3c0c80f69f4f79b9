import t from 'tap'
import { cliEnv, credentialsFixture, operationFixture, runTenantctl, startStub, tenantFixture } from './cli-harness.js'

const provisioning = tenantFixture({ status: 'provisioning', hostName: null, database: null })
const steps = [
  operationFixture({ status: 'pending', step: null, progress: 0 }),
  operationFixture({ step: 'createRole', progress: 20 }),
  operationFixture({ step: 'createDatabase', progress: 50 }),
  operationFixture({ step: 'migrateDatabase', progress: 80 }),
  operationFixture({ status: 'succeeded', step: 'writeCaddyfile', progress: 100, finishedAt: '2024-05-01T12:30:05Z' }),
]

t.test('create starts provisioning and follows the operation to success with progress', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/provision': { status: 202, body: { tenant: provisioning, operationId: 'op-1' } },
    'GET /api/admin/operations/op-1': (_req, hit) => ({ body: steps[Math.min(hit, steps.length) - 1] }),
    [`GET /api/admin/tenants/${provisioning.id}`]: { body: tenantFixture() },
  })
  const { env } = cliEnv(t, stub, {
    credentials: credentialsFixture(stub.url),
    env: { TENANTCTL_ADMIN_PASSWORD: 'tenant-admin-secret' },
  })

  const result = await runTenantctl(
    ['create', '--name', 'Acme Corp', '--slug', 'acme', '--subdomain', 'acme', '--plan', 'pro', '--admin-email', 'boss@acme.test'],
    { env },
  )

  t.equal(result.code, 0, result.stderr)
  t.same(stub.calls('POST /api/admin/tenants/provision')[0]?.body, {
    name: 'Acme Corp',
    slug: 'acme',
    subdomain: 'acme',
    plan: 'pro',
    adminEmail: 'boss@acme.test',
    adminPassword: 'tenant-admin-secret',
  })
  t.equal(stub.calls('GET /api/admin/operations/op-1').length, steps.length)
  // stderr is not a terminal here, so the bar prints one plain line per step.
  t.match(result.stderr, /\[ 20%\] createRole\n\[ 50%\] createDatabase\n\[ 80%\] migrateDatabase\n/)
  t.equal(result.stdout, '✓ Tenant acme created (active, host pg-main, database tenant_acme)\n')
  t.notOk(result.stdout.includes('tenant-admin-secret') || result.stderr.includes('tenant-admin-secret'))
})

t.test('a failed provisioning exits 1 with the step, the error and the retry hint', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/provision': { status: 202, body: { tenant: provisioning, operationId: 'op-1' } },
    'GET /api/admin/operations/op-1': (_req, hit) => ({
      body:
        hit === 1
          ? operationFixture({ step: 'createDatabase', progress: 40 })
          : operationFixture({ status: 'rolled_back', step: 'createDatabase', progress: 40, error: 'host pg-main is full' }),
    }),
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['create', '--name', 'Acme Corp'], { env })

  t.equal(result.code, 1)
  t.equal(result.stdout, '')
  t.match(
    result.stderr,
    'error: operation op-1 (provision) failed and was rolled back at step createDatabase: host pg-main is full\n' +
      'hint: tenantctl ops retry op-1\n',
  )
})

t.test('a failed provisioning that is still putting things back says so before it fails', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/provision': { status: 202, body: { tenant: provisioning, operationId: 'op-1' } },
    'GET /api/admin/operations/op-1': (_req, hit) => ({
      body: [
        operationFixture({ step: 'createDatabase', progress: 40 }),
        // Failed, still claimed while its handler undoes the partial work: running, with the error.
        operationFixture({ step: 'createDatabase', progress: 40, error: 'host pg-main is full' }),
        operationFixture({ status: 'failed', step: 'createDatabase', progress: 40, error: 'host pg-main is full' }),
      ][Math.min(hit, 3) - 1],
    }),
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['create', '--name', 'Acme Corp'], { env })
  t.equal(result.code, 1)
  t.match(result.stderr, /\[ 40%\] createDatabase\n\[ 40%\] failed at createDatabase; putting things back\n/)
  t.match(result.stderr, 'error: operation op-1 (provision) failed at step createDatabase: host pg-main is full\n')
})

t.test('ops list and ops show name a failing operation', async (t) => {
  const failing = operationFixture({ step: 'copyData', progress: 60, kind: 'move_tenant', error: 'target host down' })
  const stub = await startStub(t, {
    'GET /api/admin/operations': { body: { items: [failing], total: 1 } },
    'GET /api/admin/operations/op-1': { body: failing },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const list = await runTenantctl(['ops', 'list'], { env })
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /op-1\s+move_tenant\s+\S+\s+failing\s+copyData/)
  const show = await runTenantctl(['ops', 'show', 'op-1'], { env })
  t.match(show.stdout, /Status:\s+failing\n/)
  t.match(show.stdout, /Error:\s+target host down\n/)
})

t.test('create --no-wait prints the operation id without polling', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/provision': { status: 202, body: { tenant: provisioning, operationId: 'op-1' } },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['create', '--name', 'Acme Corp', '--no-wait'], { env })

  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /✓ Provisioning of tenant acme started: operation op-1\n/)
  t.equal(stub.requests.length, 1)
})

t.test('create --json waits quietly and prints the tenant and the operation', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/tenants/provision': { status: 202, body: { tenant: provisioning, operationId: 'op-1' } },
    'GET /api/admin/operations/op-1': { body: steps[steps.length - 1] },
    [`GET /api/admin/tenants/${provisioning.id}`]: { body: tenantFixture() },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['create', '--name', 'Acme Corp', '--json'], { env })

  t.equal(result.code, 0, result.stderr)
  t.equal(result.stderr, '')
  t.same(JSON.parse(result.stdout), { tenant: tenantFixture(), operation: steps[steps.length - 1] })
})

t.test('create rejects an unknown plan before calling the API', async (t) => {
  const stub = await startStub(t, {})
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })

  const result = await runTenantctl(['create', '--name', 'Acme Corp', '--plan', 'gold'], { env })

  t.equal(result.code, 2)
  t.match(result.stderr, 'error: --plan must be one of free, pro, enterprise, got "gold"')
  t.equal(stub.requests.length, 0)
})
