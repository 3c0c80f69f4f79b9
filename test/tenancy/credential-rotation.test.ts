import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { pino } from '../../src/logger.js'
import { loginRoleOf } from '../../src/tenancy/tenant-connection.js'
import { startTenantd } from '../../src/tenantd.js'
import { startHarness } from '../helpers/harness.js'
import { closeStepGate, installStepGate } from '../helpers/step-gate.js'
import { waitFor } from '../helpers/wait-for.js'
import { cliEnv, credentialsFixture, operationFixture, runTenantctl, startStub } from '../cli/cli-harness.js'

// Credential rotation (issue 9 item 4): two replicas on one catalog serve a tenant under
// continuous load while its database credential rotates, on request and on the plan's
// schedule; not one request may fail, and the old password must stop logging in.

const h = await startHarness(t, { env: { TENANTD_CREDENTIAL_CHECK_MINUTES: '0' } })
const admin = { email: 'ann@acme.test', password: 'acme-admin-pass' }
const acme = await h.provision({ name: 'Acme', slug: 'acme', adminEmail: admin.email, adminPassword: admin.password })

const replica = await startTenantd(loadConfig(h.env), pino({ level: 'silent' }))
const app2 = await buildApp(replica)
await app2.ready()
t.teardown(async () => {
  await app2.close()
  await replica.close()
})
const replicas: Array<[string, FastifyInstance]> = [['replica-1', h.app], ['replica-2', app2]]

/** The tenant's current credential as the catalog has it (the test reads it to try it out). */
async function credential(): Promise<{ user: string; password: string; roleName: string }> {
  const tenant = await h.tenantd.tenants.get(acme.id)
  return { user: loginRoleOf(tenant), password: h.tenantd.sealer.open(tenant.password_sealed), roleName: tenant.role_name }
}

/** Logs in to the tenant's database directly; the SQLSTATE of the refusal, or current_user. */
async function tryLogin(user: string, password: string): Promise<{ currentUser?: string; code?: string }> {
  const tenant = await h.tenantd.tenants.get(acme.id)
  const client = new pg.Client({ host: tenant.host_address, port: tenant.host_port, database: tenant.database_name, user, password })
  client.on('error', () => {})
  try {
    await client.connect()
    const { rows } = await client.query<{ current_user: string }>('select current_user')
    return { currentUser: rows[0]!.current_user }
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'none' }
  } finally {
    await client.end().catch(() => {})
  }
}

async function sessionsOf(role: string): Promise<number> {
  const { rows } = await h.cluster.query('select count(*)::int as n from pg_stat_activity where usename = $1', [role])
  return (rows[0] as { n: number }).n
}

// Continuous load: on each replica, three loops of tenant requests that reach the tenant's
// database (the user list, and every fifth request a tenant login), counting every non-2xx
// reply and every thrown error.
const failures: string[] = []
const served = new Map<string, number>(replicas.map(([name]) => [name, 0]))
let stop = false
const token = (await h.login(admin.email, admin.password, { 'x-tenant-id': 'acme' })).accessToken
async function loop(name: string, app: FastifyInstance): Promise<void> {
  for (let i = 0; !stop; i++) {
    try {
      const res =
        i % 5 === 4
          ? await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-tenant-id': 'acme' }, payload: admin })
          : await app.inject({ method: 'GET', url: '/api/users', headers: { 'x-tenant-id': 'acme', authorization: `Bearer ${token}` } })
      if (res.statusCode < 200 || res.statusCode > 299) failures.push(`${name}: ${res.statusCode} ${res.body}`)
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`)
    }
    served.set(name, served.get(name)! + 1)
  }
}
const loops = replicas.flatMap(([name, app]) => [loop(name, app), loop(name, app), loop(name, app)])
t.teardown(async () => {
  stop = true
  await Promise.all(loops)
})
/** Resolves once every replica served `n` more requests than now. */
async function moreRequests(n: number): Promise<void> {
  const from = new Map(served)
  await waitFor(`${n} more requests on each replica`, async () => ([...served].every(([name, count]) => count - from.get(name)! >= n) ? true : undefined), 30_000)
}

t.test('rotation under continuous load on two replicas: no failed request, the old password stops working', async (t) => {
  await moreRequests(20)
  const before = await credential()
  t.equal(before.user, before.roleName, 'a tenant never rotated logs in as its owner role')
  t.ok((await sessionsOf(before.user)) > 0, 'both replicas hold pooled connections with the old credential')

  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/rotate-credentials?wait=true' })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json().operation, { kind: 'rotate_credentials', status: 'succeeded', progress: 100 })
  t.notOk(/password|sealed/i.test(res.body), 'no credential in the reply')
  await moreRequests(20)

  const after = await credential()
  t.equal(after.user, `${before.roleName}_a`, 'the first rotation moves the tenant to its login role _a')
  t.not(after.password, before.password, 'a new password')
  t.same(await tryLogin(after.user, after.password), { currentUser: before.roleName }, 'the new credential logs in, and its session runs as the owner role')
  t.match((await tryLogin(before.user, before.password)).code, /^28(P01|000)$/, 'the old password no longer logs in')
  t.equal(await sessionsOf(before.user), 0, 'no session of the old login role is left')
  t.ok((await sessionsOf(after.user)) > 0, 'the replicas serve with the new credential')
  t.same(failures, [], 'zero failed requests on both replicas')

  const audit = await h.tenantd.catalog.db.selectFrom('audit_logs').selectAll().where('tenant_id', '=', acme.id).where('action', '=', 'tenant.credentials_rotated').execute()
  t.equal(audit.length, 1, 'the rotation is audited')
  t.match(audit[0], { actor_type: 'operator', actor_email: h.superAdmin.email, target: 'acme' })
  t.notOk(JSON.stringify(audit).includes(after.password), 'the audit entry does not hold the password')
  t.notOk(h.logLines.some((line) => line.includes(after.password) || line.includes(before.password)), 'no password in the logs')
})

t.test('a second rotation, started on the other replica, switches back to _b the same way', async (t) => {
  const before = await credential()
  const res = await app2.inject({ method: 'POST', url: '/api/admin/tenants/acme/rotate-credentials', headers: { authorization: `Bearer ${await h.adminToken()}` } })
  t.equal(res.statusCode, 202, res.body)
  const { operationId } = res.json()
  const done = await waitFor('the rotation to finish', async () => {
    const op = await h.tenantd.operations.get(operationId)
    return op.status === 'pending' || op.status === 'running' ? undefined : op
  }, 45_000)
  t.equal(done.status, 'succeeded', done.error ?? '')
  await moreRequests(20)
  const after = await credential()
  t.equal(after.user, `${before.roleName}_b`)
  t.match((await tryLogin(before.user, before.password)).code, /^28(P01|000)$/, 'the previous credential no longer logs in')
  t.same(await tryLogin(after.user, after.password), { currentUser: before.roleName }, 'the new one does')
  t.same(failures, [], 'zero failed requests on both replicas')
})

t.test('the plan schedule rotates an overdue tenant exactly once with two replicas checking at once', async (t) => {
  const plan = await h.asAdmin({ method: 'PATCH', url: `/api/admin/plans/${acme.plan}`, payload: { credentialRotationDays: 7 } })
  t.equal(plan.statusCode, 200, plan.body)
  t.equal(plan.json().credentialRotationDays, 7)
  t.same(await h.tenantd.credentialRotation.rotateDue(), [], 'a tenant rotated today is not due')

  const before = await credential()
  await h.tenantd.catalog.db.updateTable('tenants').set({ credentials_rotated_at: new Date(Date.now() - 10 * 86_400_000) }).where('id', '=', acme.id).execute()
  const [here, there] = await Promise.all([h.tenantd.credentialRotation.rotateDue(), replica.credentialRotation.rotateDue()])
  t.equal(here.length + there.length, 1, 'exactly one replica enqueued the rotation')
  const operationId = [...here, ...there][0]!
  const done = await waitFor('the scheduled rotation to finish', async () => {
    const op = await h.tenantd.operations.get(operationId)
    return op.status === 'pending' || op.status === 'running' ? undefined : op
  }, 45_000)
  t.equal(done.status, 'succeeded', done.error ?? '')
  const after = await credential()
  t.equal(after.user, `${before.roleName}_a`, 'rotated from _b back to _a')
  t.match((await tryLogin(before.user, before.password)).code, /^28(P01|000)$/, 'the old password no longer logs in')
  const rotations = await h.tenantd.catalog.db.selectFrom('operations').select('id').where('tenant_id', '=', acme.id).where('kind', '=', 'rotate_credentials').execute()
  t.equal(rotations.length, 3, 'two on request, one scheduled')
  const audit = await h.tenantd.catalog.db.selectFrom('audit_logs').select(['actor_type', 'details']).where('tenant_id', '=', acme.id).where('action', '=', 'tenant.credentials_rotated').execute()
  t.equal(audit.filter((a) => (a.details as { reason?: string }).reason === 'scheduled').length, 1, 'the scheduled rotation is audited once, as the system')
  t.same(await Promise.all([h.tenantd.credentialRotation.rotateDue(), replica.credentialRotation.rotateDue()]), [[], []], 'and is not due any more')

  await moreRequests(20)
  stop = true
  await Promise.all(loops)
  t.same(failures, [], 'zero failed requests on both replicas across three rotations')
  t.ok([...served.values()].every((n) => n > 60), `both replicas served throughout (${[...served.values()].join(', ')} requests)`)
})

t.test('waiting for an operation that the other replica runs waits for its end (what ?wait=true replies do)', async (t) => {
  // On a loaded machine a replica's heartbeat can come late and another replica take the
  // operation over; the first one's execute() then answers 'running', which is not an end.
  const { catalogUrl } = h
  await installStepGate(catalogUrl)
  const gate = await closeStepGate(catalogUrl, 'acme', 'drainOldSessions')
  t.teardown(() => gate.end())
  const { operation } = await h.tenantd.credentialRotation.request('acme', null)
  // Either replica may claim it (replica-1's sweeper runs too); the other one is asked to wait.
  const started = replica.operations.execute(operation.id)
  await gate.waitUntilHeld()
  const runners = [h.tenantd.operations, replica.operations]
  const holder = (await h.tenantd.operations.get(operation.id)).claimed_by
  const other = runners.find((runner) => runner.replicaId !== holder)!
  const answer = await other.execute(operation.id)
  t.equal(answer.status, 'running', 'execute() on the replica without the claim answers at once')
  let ended = false
  const waiting = other.ended(Promise.resolve(answer)).then((op) => ((ended = true), op))
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(ended, 'ended() is still waiting while the operation is held on the other replica')
  await gate.open()
  const done = await waiting
  t.equal(done.status, 'succeeded', done.error ?? '')
  t.equal(done.progress, 100)
  await started
})

t.test('backups and restores keep working with the rotated credential', async (t) => {
  const backup = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/backups?wait=true' })
  t.equal(backup.statusCode, 201, backup.body)
  const restore = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/restore?wait=true', payload: { backupId: backup.json().backup.id } })
  t.equal(restore.statusCode, 200, restore.body)
  const users = await h.app.inject({ method: 'GET', url: '/api/users', headers: { 'x-tenant-id': 'acme', authorization: `Bearer ${token}` } })
  t.equal(users.statusCode, 200, users.body)
  const { rows } = await h.cluster.query(`select tableowner from pg_tables where schemaname = 'public' and tablename = 'users'`, [], acme.database)
  t.same(rows, [{ tableowner: (await credential()).roleName }], 'tables stay owned by the owner role')
})

t.test('tenantctl rotate-credentials follows the operation with a progress bar; plans update sets the schedule', async (t) => {
  const steps = [
    operationFixture({ kind: 'rotate_credentials', step: 'createLoginRole', progress: 30 }),
    operationFixture({ kind: 'rotate_credentials', step: 'drainOldSessions', progress: 50 }),
    operationFixture({ kind: 'rotate_credentials', status: 'succeeded', step: 'recordRotation', progress: 100 }),
  ]
  const stub = await startStub(t, {
    'POST /api/admin/tenants/acme/rotate-credentials': { status: 202, body: { operationId: 'op-1' } },
    'GET /api/admin/operations/op-1': (_req, hit) => ({ body: steps[Math.min(hit, steps.length) - 1] }),
    'PATCH /api/admin/plans/pro': (req) => ({ body: { id: 'pro', name: 'Pro', maxConnections: 20, poolSize: 5, maxUsers: null, storageMb: null, apiCallsPerMonth: null, tenantCount: 1, credentialRotationDays: (req.body as { credentialRotationDays: number | null }).credentialRotationDays, backup: { schedule: null, retentionDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 } } }),
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const rotated = await runTenantctl(['rotate-credentials', 'acme'], { env })
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stderr, /\[ 30%\] createLoginRole\n\[ 50%\] drainOldSessions\n/)
  t.match(rotated.stdout, /acme now uses a new database credential/)
  t.equal(stub.calls('POST /api/admin/tenants/acme/rotate-credentials').length, 1)

  t.equal((await runTenantctl(['plans', 'update', 'pro', '--rotate-every-days', '30'], { env })).code, 0)
  t.equal((await runTenantctl(['plans', 'update', 'pro', '--rotate-every-days', 'never'], { env })).code, 0)
  t.same(stub.calls('PATCH /api/admin/plans/pro').map((r) => r.body), [{ credentialRotationDays: 30 }, { credentialRotationDays: null }])
})
