import { once } from 'node:events'
import t from 'tap'
import { provisionHandler, type ProvisionDeps } from '../../src/provisioning/provision-tenant.js'
import { startHarness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'
import { killReplica, replicaStarter } from '../helpers/crash-replica.js'
import { closeStepGate, installStepGate } from '../helpers/step-gate.js'

// A provision whose process is SIGKILLed after each step, then either resumed (retry, or a
// restart) or rolled back, must end complete or leave no orphan database or role.
//
// The kill must not race the process: "after step X" means the replica finished X and has not
// started the next step. A test-only trigger in this test's own catalog holds the replica
// there: recording the next step (`update operations set step = ...`) waits on an advisory
// lock the test holds. Once a backend waits on it, the replica is killed, every server
// connection it left behind is terminated (the waiting statement rolls back, so the row still
// says X; a heartbeat queued behind it cannot land later and make the claim look fresh
// again) and the lock is let go. Production code is not involved; on a busy machine the
// replica is simply held longer, and nothing here depends on how long anything takes.

// Nine tenantd processes start one after another; on a busy machine (two CPU burners beside
// a c8 run) that takes minutes. Each wait below has its own deadline; this only keeps the
// runner's per-file limit (.taprc: 240 s) from cutting a slow but healthy run short.
t.setTimeout(600_000)

// This in-process replica does not sweep: the test decides when the killed work resumes.
const h = await startHarness(t, { operations: { sweepMs: 3_600_000 } })
const staleMs = Number(h.env.TENANTD_OPERATION_STALE_MS)
const { catalogQuery } = h
const allSteps = provisionHandler({} as ProvisionDeps).steps.map((step) => step.name)
const steps = ['createRole', 'createDatabase', 'migrateDatabase', 'createAdminUser']

await installStepGate(h.catalogUrl)


const startReplica = replicaStarter(t, h.env, 'crash-replica')

/** Provisions through a replica, holds it once `afterStep` is done, and SIGKILLs it there. */
async function provisionAndKill(slug: string, afterStep: string): Promise<{ operationId: string; tenantId: string }> {
  const next = allSteps[allSteps.indexOf(afterStep) + 1]
  if (!next) throw new Error(`no step after ${afterStep}`)
  const gate = await closeStepGate(h.catalogUrl, slug, next)
  try {
    const { child, url, appName } = await startReplica()
    const token = await h.adminToken()
    const res = await fetch(`${url}/api/admin/tenants/provision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: slug, slug, adminEmail: `admin@${slug}.test`, adminPassword: 'crash-test-pass' }),
    })
    const body = (await res.json()) as { operationId: string; tenant: { id: string } }
    if (res.status !== 202) throw new Error(`provision answered ${res.status}: ${JSON.stringify(body)}`)
    await gate.waitUntilHeld(appName, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the replica exited before reaching ${next}`)
      const op = await catalogQuery('select status, step, error from operations where id = $1', [body.operationId])
      const row = op.rows[0] as { status: string; step: string; error: string | null } | undefined
      if (row && row.status !== 'running' && row.status !== 'pending') throw new Error(`the operation ended (${row.status} at ${row.step}: ${row.error}) before reaching ${next}`)
    })
    // The held step update rolls back, so it never records the next step; a heartbeat queued
    // behind its row lock either never runs or writes a time from before the kill. From here on
    // nothing writes the operation row but the test's own calls.
    await killReplica({ child, appName }, gate.client)
    return { operationId: body.operationId, tenantId: body.tenant.id }
  } finally {
    await gate.end()
  }
}

async function orphans(slug: string): Promise<{ databases: number; roles: number }> {
  const db = await h.cluster.query(`select 1 from pg_database where datname = $1`, [`tenant_${slug.replace(/-/g, '_')}`])
  const role = await h.cluster.query(`select 1 from pg_roles where rolname = $1`, [`tenant_${slug.replace(/-/g, '_')}_owner`])
  return { databases: db.rowCount ?? 0, roles: role.rowCount ?? 0 }
}

/**
 * The operation's last heartbeat (epoch ms). Once provisionAndKill() returns, nothing writes it
 * until the test retries or rolls back, so it stays fixed while the test waits.
 */
async function lastHeartbeat(id: string): Promise<number> {
  const row = await catalogQuery('select heartbeat_at from operations where id = $1', [id])
  const at = row.rows[0]?.heartbeat_at as Date | null | undefined
  if (!at) throw new Error(`operation ${id} has no heartbeat`)
  return at.getTime()
}

/**
 * Waits until the killed replica's claim is stale. The in-process runner that judges it
 * (`Date.now() - heartbeat_at > staleMs`) runs in this process, so this is the same clock and
 * the same comparison: once true here, it is true for every later call.
 */
async function waitForStale(id: string): Promise<void> {
  const beat = await lastHeartbeat(id)
  await waitFor('the killed claim to go stale', async () => (Date.now() - beat > staleMs ? true : undefined))
}

async function waitForOperation(id: string, done: (status: string) => boolean): Promise<{ status: string; step: string; error: string | null; attempts: number }> {
  return waitFor(`operation ${id} to finish`, async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` })).json()
    return done(op.status) ? op : undefined
  })
}

for (const [index, step] of steps.entries()) {
  t.test(`killed after ${step}, then retried: completes`, async (t) => {
    const slug = `crash-retry-${index}`
    const { operationId } = await provisionAndKill(slug, step)
    const killedOp = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
    t.equal(killedOp.status, 'running', 'the killed operation is left running, with a heartbeat going stale')
    t.equal(killedOp.step, step, `the operation still records ${step} as its step`)
    // Is a retry refused while the killed claim's heartbeat is fresh? How fresh it was when the
    // server judged it is known only afterwards: the server judges between the two clock
    // readings around the call, by this process's clock, against a heartbeat that no longer
    // changes (a successful retry writes a new one, hence `beat` is read before the call). If
    // it is still fresh after the call, it was fresh when judged and the answer must be 409.
    // If this machine was too slow for that, the refusal cannot be checked this run; the
    // retry after it then simply goes through.
    const beat = await lastHeartbeat(operationId)
    const early = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
    if (Date.now() - beat <= staleMs) t.equal(early.statusCode, 409, 'retry is refused while the heartbeat is fresh')
    else t.comment(`the retry came ${Date.now() - beat} ms after the last heartbeat (stale after ${staleMs} ms); the fresh-heartbeat refusal is not checked this run`)
    if (early.statusCode !== 202) {
      await waitForStale(operationId)
      const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
      t.equal(retry.statusCode, 202, retry.body)
    }
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
    await waitForStale(operationId)
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
