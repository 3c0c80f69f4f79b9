import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import pg from 'pg'
import t from 'tap'
import { freePort } from '../../src/embedded/embedded-cluster.js'
import { startHarness } from '../helpers/harness.js'

// A provision whose process is SIGKILLed after each step, then either resumed (retry, or a
// restart) or rolled back, must end complete or leave no orphan database or role.

// This in-process replica does not sweep: the test decides when the killed work resumes.
const h = await startHarness(t, { operations: { sweepMs: 3_600_000 } })
const steps = ['createRole', 'createDatabase', 'migrateDatabase', 'createAdminUser']
const replicas: ChildProcess[] = []
t.teardown(() => {
  for (const child of replicas) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** A real tenantd process (src/server.ts) over the same catalog, as a second replica. */
async function startReplica(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, ...h.env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  replicas.push(child)
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`replica exited: ${stderr}`)
    const ok = await fetch(`${url}/api/health`).then((r) => r.ok, () => false)
    if (ok) return { child, url }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`replica did not start: ${stderr}`)
}

/** Provisions through the replica and SIGKILLs it the moment `afterStep` has completed. */
async function provisionAndKill(slug: string, afterStep: string): Promise<{ operationId: string; tenantId: string }> {
  const listener = new pg.Client({ connectionString: h.env.DATABASE_URL })
  await listener.connect()
  await listener.query('listen tenantd_operation_changed')
  const { child, url } = await startReplica()
  const next = steps[steps.indexOf(afterStep) + 1] ?? 'activateTenant'
  // Only this provision runs now, so the first notification of the next step is ours
  // (it may arrive before the HTTP reply does).
  const killed = new Promise<void>((resolve) => {
    listener.on('notification', (message) => {
      const payload = JSON.parse(message.payload ?? '{}') as { status: string; step: string }
      if (payload.status === 'running' && payload.step === next) {
        child.kill('SIGKILL')
        resolve()
      }
    })
  })
  const token = await h.adminToken()
  const res = await fetch(`${url}/api/admin/tenants/provision`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: slug, slug, adminEmail: `admin@${slug}.test`, adminPassword: 'crash-test-pass' }),
  })
  const body = (await res.json()) as { operationId: string; tenant: { id: string } }
  const operationId = body.operationId
  await Promise.race([killed, once(child, 'exit')])
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  await listener.end()
  return { operationId, tenantId: body.tenant.id }
}

async function orphans(slug: string): Promise<{ databases: number; roles: number }> {
  const db = await h.cluster.query(`select 1 from pg_database where datname = $1`, [`tenant_${slug.replace(/-/g, '_')}`])
  const role = await h.cluster.query(`select 1 from pg_roles where rolname = $1`, [`tenant_${slug.replace(/-/g, '_')}_owner`])
  return { databases: db.rowCount ?? 0, roles: role.rowCount ?? 0 }
}

async function waitForStale(): Promise<void> {
  await new Promise((r) => setTimeout(r, Number(h.env.TENANTD_OPERATION_STALE_MS) + 300))
}

async function waitForOperation(id: string, done: (status: string) => boolean): Promise<{ status: string; step: string; error: string | null; attempts: number }> {
  for (let i = 0; i < 300; i++) {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` })).json()
    if (done(op.status)) return op
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`operation ${id} did not finish`)
}

for (const [index, step] of steps.entries()) {
  t.test(`killed after ${step}, then retried: completes`, async (t) => {
    const slug = `crash-retry-${index}`
    const { operationId } = await provisionAndKill(slug, step)
    const killedOp = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
    t.equal(killedOp.status, 'running', 'the killed operation is left running, with a heartbeat going stale')
    const early = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
    t.equal(early.statusCode, 409, 'retry is refused while the heartbeat is fresh')
    await waitForStale()
    const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
    t.equal(retry.statusCode, 202, retry.body)
    const op = await waitForOperation(operationId, (s) => s !== 'running' && s !== 'pending')
    t.equal(op.status, 'succeeded', op.error ?? '')
    t.equal(op.attempts, 2, 'one attempt killed, one that finished')
    const tenant = (await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}` })).json()
    t.equal(tenant.status, 'active')
    t.same(await orphans(slug), { databases: 1, roles: 1 })
    const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-tenant-id': slug }, payload: { email: `admin@${slug}.test`, password: 'crash-test-pass' } })
    t.equal(login.statusCode, 200, 'the tenant admin exists exactly once and can log in')
  })

  t.test(`killed after ${step}, then rolled back: no orphan`, async (t) => {
    const slug = `crash-undo-${index}`
    const { operationId } = await provisionAndKill(slug, step)
    await waitForStale()
    const rollback = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/rollback` })
    t.equal(rollback.statusCode, 200, rollback.body)
    t.equal(rollback.json().status, 'rolled_back')
    t.same(await orphans(slug), { databases: 0, roles: 0 }, 'no database or role left behind')
    t.equal((await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}` })).statusCode, 404)
    await h.provision({ name: slug, slug })
    t.pass('the slug can be provisioned again')
  })
}

t.test('killed mid-provision, then a restarted replica finishes it on its own', async (t) => {
  const slug = 'crash-restart'
  const { operationId } = await provisionAndKill(slug, 'createDatabase')
  const { child } = await startReplica()
  t.teardown(() => {
    child.kill('SIGTERM')
  })
  const op = await waitForOperation(operationId, (s) => s === 'succeeded' || s === 'failed')
  t.equal(op.status, 'succeeded', op.error ?? '')
  t.same(await orphans(slug), { databases: 1, roles: 1 })
  child.kill('SIGTERM')
  await once(child, 'exit')
})
