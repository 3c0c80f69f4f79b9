import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t, { type Test } from 'tap'
import { startHarness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'
import { killReplica, replicaStarter } from '../helpers/crash-replica.js'
import { closeStepGate, installStepGate, type StepGate } from '../helpers/step-gate.js'
import { tenantClient } from '../modules/module-test-helpers.js'
import { databasesLike, fingerprint, seedTenant } from './backup-test-helpers.js'

// A restore killed or failing at each step must leave the tenant on its old database, data
// untouched, and, once the operation is retried or rolled back, nothing stray behind.
//
// Kills do not race the process. "After step X": a test-only trigger in this test's catalog
// makes the replica's recording of the next step wait on an advisory lock the test holds
// (the step gate of provision-crash.test.ts). "During the swap": past that gate, the test
// holds a lock on the restored database (COMMENT ON DATABASE in an open transaction), so
// the swap, with the old database already closed to connections and renamed in its
// uncommitted transaction, waits on the rename of the restored one. Either way the replica
// is SIGKILLed while it waits, and every server connection it left is terminated.
// "Failing": the restored database is damaged while the operation waits at the gate, or a
// session tenantd may not end sits on the tenant's database during the swap.

t.setTimeout(900_000)

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-restore-steps-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
// This in-process replica does not sweep: the test decides when killed work resumes.
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: `file://${backupDir}`, TENANTD_BACKUP_SCHEDULE: 'off' }, operations: { sweepMs: 3_600_000 } })
const staleMs = Number(h.env.TENANTD_OPERATION_STALE_MS)
const { catalogQuery } = h

await installStepGate(h.catalogUrl)

const slug = 'steps'
const tenant = await h.provision({ name: 'Steps', slug, adminEmail: `admin@${slug}.test`, adminPassword: 'steps-password-1', modules: ['price-basket'] })
await seedTenant(h, tenant.database, 'STEPS-MARKER')
const backedUp = await fingerprint(h, tenant.database)
const backupRes = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/backups?wait=true` })
if (backupRes.statusCode !== 201) throw new Error(`backup failed: ${backupRes.body}`)
const backupId = backupRes.json().backup.id as string
const client = await tenantClient(h, slug, `admin@${slug}.test`, 'steps-password-1')
const suppliers = () => client.request('GET', '/api/price-basket/suppliers?limit=100')

/** Changes the live data so it differs from the backup (and from every earlier test): what must survive. */
async function changeData(label: string): Promise<Awaited<ReturnType<typeof fingerprint>>> {
  await h.cluster.query('delete from cp_orcamento_itens where quantidade > 6', [], tenant.database)
  await h.cluster.query(`insert into settings (key, value) values ($1, '"after backup"')`, [`changed-${label}`], tenant.database)
  return fingerprint(h, tenant.database)
}

/** What the tenant's users see, and what is left on the host, when the operation is not running. */
async function assertOldDatabaseServed(t: Test, old: Awaited<ReturnType<typeof fingerprint>>, what: string): Promise<void> {
  t.same(await fingerprint(h, tenant.database), old, `${what}: every table as before the restore, row for row`)
  const served = await waitFor('the tenant to be served', async () => {
    const r = await suppliers()
    return r.statusCode === 200 ? r : undefined
  })
  t.equal(served.json().total, old.cp_fornecedores!.rows, `${what}: the tenant's API serves its old data`)
  const row = (await catalogQuery('select frozen_until from tenants where slug = $1', [slug])).rows[0]!
  t.equal(row.frozen_until, null, `${what}: the tenant is not frozen`)
  const open = await h.cluster.query<{ datallowconn: boolean }>('select datallowconn from pg_database where datname = $1', [tenant.database])
  t.equal(open.rows[0]!.datallowconn, true, `${what}: its database takes connections`)
}

async function assertNoStray(t: Test, params: { restoredDatabase: string; previousDatabase: string }, what: string): Promise<void> {
  t.same(await databasesLike(h, `${tenant.database}_restoring_%`), [], `${what}: no _restoring_ database on the host`)
  t.same(await databasesLike(h, params.previousDatabase), [], `${what}: no _pre_restore_ database for a restore that did not happen`)
  const recorded = await catalogQuery('select 1 from backup_restores r join operations o on o.id = r.operation_id where o.params->>\'previousDatabase\' = $1', [params.previousDatabase])
  t.equal(recorded.rowCount, 0, `${what}: no restore recorded`)
}

async function assertRestored(t: Test, old: Awaited<ReturnType<typeof fingerprint>>, params: { previousDatabase: string }, what: string): Promise<void> {
  t.same(await fingerprint(h, tenant.database), backedUp, `${what}: every table is the backup's`)
  const served = await waitFor('the restored data to be served', async () => {
    const r = await suppliers()
    return r.statusCode === 200 && r.json().total === backedUp.cp_fornecedores!.rows ? r : undefined
  })
  t.equal(served.json().total, backedUp.cp_fornecedores!.rows, `${what}: the tenant's API serves the restored data`)
  t.equal((await catalogQuery('select frozen_until from tenants where slug = $1', [slug])).rows[0]!.frozen_until, null, `${what}: the freeze is cleared`)
  t.same(await databasesLike(h, `${tenant.database}_restoring_%`), [], `${what}: no _restoring_ database left`)
  t.same(await databasesLike(h, params.previousDatabase), [params.previousDatabase], `${what}: the old database is kept`)
  await h.cluster.query(`alter database ${pg.escapeIdentifier(params.previousDatabase)} with allow_connections true`)
  t.same(await fingerprint(h, params.previousDatabase), old, `${what}: the kept database holds the old data untouched`)
  await h.cluster.query(`alter database ${pg.escapeIdentifier(params.previousDatabase)} with allow_connections false`)
}

const startReplica = replicaStarter(t, h.env, 'restore-replica')

type Stop = { after: 'checkBackup' | 'restoreDatabase' | 'compareRowCounts' } | { during: 'swapDatabase' }
const nextStep = { checkBackup: 'restoreDatabase', restoreDatabase: 'compareRowCounts', compareRowCounts: 'swapDatabase' } as const
const describe = (stop: Stop) => ('after' in stop ? `after ${stop.after}` : `during ${stop.during}`)

/** Holds the restore before it records `step` (see test/helpers/step-gate.ts). */
async function openGateClient(step: string): Promise<{ gate: StepGate; open(): Promise<void> }> {
  const gate = await closeStepGate(h.catalogUrl, slug, step)
  return { gate, open: () => gate.open() }
}

/** Holds a lock on a database (as the superuser): its rename waits for it. */
async function holdDatabase(database: string): Promise<pg.Client> {
  const holder = new pg.Client({ connectionString: h.cluster.url() })
  await holder.connect()
  await holder.query('begin')
  await holder.query(`comment on database ${pg.escapeIdentifier(database)} is 'held by restore-steps.test.ts'`)
  return holder
}

async function waitForRenameBlocked(database: string, appName?: string): Promise<void> {
  await waitFor(`the swap to wait on ${database}`, async () => {
    const waiting = await h.cluster.query(
      `select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where ($2::text is null or a.application_name = $2) and l.locktype = 'object' and not l.granted
          and l.classid = 'pg_database'::regclass and l.objid = (select oid from pg_database where datname = $1)`,
      [database, appName ?? null]
    )
    return waiting.rowCount ? true : undefined
  })
}

async function paramsOf(operationId: string): Promise<{ restoredDatabase: string; previousDatabase: string }> {
  return (await catalogQuery('select params from operations where id = $1', [operationId])).rows[0]!.params
}

/** Restores through a replica, holds it at `stop`, and SIGKILLs it there. */
async function restoreAndKill(stop: Stop): Promise<{ operationId: string; params: { restoredDatabase: string; previousDatabase: string } }> {
  const { gate, open } = await openGateClient('after' in stop ? nextStep[stop.after] : 'swapDatabase')
  let holder: pg.Client | undefined
  try {
    const { child, url, appName } = await startReplica()
    const res = await fetch(`${url}/api/admin/tenants/${slug}/restore`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await h.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ backupId }),
    })
    const body = (await res.json()) as { operationId: string }
    if (res.status !== 202) throw new Error(`restore answered ${res.status}: ${JSON.stringify(body)}`)
    await gate.waitUntilHeld(appName)
    const params = await paramsOf(body.operationId)
    if ('during' in stop) {
      holder = await holdDatabase(params.restoredDatabase)
      await open()
      await waitForRenameBlocked(params.restoredDatabase, appName)
    }
    // The swap's uncommitted renames roll back with its backends.
    await killReplica({ child, appName }, h.cluster)
    return { operationId: body.operationId, params }
  } finally {
    await holder?.query('rollback').catch(() => {})
    await holder?.end().catch(() => {})
    await open()
    await gate.end()
  }
}

async function waitForStale(id: string): Promise<void> {
  const row = await catalogQuery('select heartbeat_at from operations where id = $1', [id])
  const beat = (row.rows[0]!.heartbeat_at as Date).getTime()
  await waitFor('the killed claim to go stale', async () => (Date.now() - beat > staleMs ? true : undefined))
}

async function waitForOperation(id: string): Promise<{ status: string; step: string; error: string | null; attempts: number }> {
  return waitFor(`operation ${id} to end`, async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` })).json()
    return op.status === 'running' || op.status === 'pending' ? undefined : op
  })
}

const stops: Stop[] = [{ after: 'checkBackup' }, { after: 'restoreDatabase' }, { after: 'compareRowCounts' }, { during: 'swapDatabase' }]

for (const [index, stop] of stops.entries()) {
  for (const resolution of ['rolled back', 'retried'] as const) {
    t.test(`killed ${describe(stop)}, then ${resolution}`, async (t) => {
      const old = await changeData(`${index}-${resolution}`)
      const { operationId, params } = await restoreAndKill(stop)
      if ('after' in stop) {
        await assertOldDatabaseServed(t, old, 'killed')
      } else {
        // Killed mid-swap: the old database is closed to connections (its rename rolled back);
        // the freeze covers exactly this: 503 with Retry-After until the operation resumes.
        const frozen = await suppliers()
        t.equal(frozen.statusCode, 503, 'killed mid-swap: the tenant answers 503 while frozen')
        t.equal(frozen.json().error, 'TenantFrozen')
        t.ok(Number(frozen.headers['retry-after']) >= 1, 'with Retry-After')
        t.same(await databasesLike(h, params.previousDatabase), [], 'killed mid-swap: the old database was not renamed')
      }
      await waitForStale(operationId)
      if (resolution === 'rolled back') {
        const rollback = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/rollback` })
        t.equal(rollback.statusCode, 200, rollback.body)
        t.equal(rollback.json().status, 'rolled_back')
        await assertOldDatabaseServed(t, old, 'rolled back')
        await assertNoStray(t, params, 'rolled back')
      } else {
        const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
        t.equal(retry.statusCode, 202, retry.body)
        const op = await waitForOperation(operationId)
        t.equal(op.status, 'succeeded', op.error ?? '')
        t.equal(op.attempts, 2, 'one attempt killed, one that finished')
        await assertRestored(t, old, params, 'retried')
      }
    })
  }
}

t.test('failing at compareRowCounts (the restored database damaged): old database served, nothing stray; a retry restores again and completes', async (t) => {
  const old = await changeData('compare')
  const { gate, open } = await openGateClient('compareRowCounts')
  t.teardown(async () => {
    await open()
    await gate.end().catch(() => {})
  })
  const res = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/restore`, payload: { backupId } })
  t.equal(res.statusCode, 202, res.body)
  const operationId = res.json().operationId as string
  await gate.waitUntilHeld()
  const params = await paramsOf(operationId)
  await h.cluster.query(`delete from settings where key = 'k1'`, [], params.restoredDatabase)
  await open()
  const op = await waitForOperation(operationId)
  t.equal(op.status, 'failed')
  t.equal(op.step, 'compareRowCounts')
  t.match(op.error, /public\.settings: 12 recorded, 11 restored/)
  await assertOldDatabaseServed(t, old, 'failed')
  await assertNoStray(t, params, 'failed')

  const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
  t.equal(retry.statusCode, 202, retry.body)
  const done = await waitForOperation(operationId)
  t.equal(done.status, 'succeeded', done.error ?? '')
  await assertRestored(t, old, params, 'retried')
})

t.test('failing during the swap (a session tenantd may not end): old database served and open, nothing stray; then rolled back', async (t) => {
  const old = await changeData('swap')
  // A superuser's session on the tenant database: tenantd's host role may not terminate it.
  const dba = new pg.Client({ connectionString: h.cluster.url(tenant.database) })
  await dba.connect()
  t.teardown(() => dba.end().catch(() => {}))
  const res = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/restore?wait=true`, payload: { backupId } })
  t.equal(res.statusCode, 409, res.body)
  t.equal(res.json().error, 'OperationFailed')
  t.match(res.json().message, /at step swapDatabase/)
  const operationId = (await catalogQuery(`select id from operations where kind = 'restore' order by created_at desc limit 1`)).rows[0]!.id as string
  const params = await paramsOf(operationId)
  await assertOldDatabaseServed(t, old, 'failed mid-swap')
  await assertNoStray(t, params, 'failed mid-swap')
  t.equal((await dba.query('select count(*)::int as n from settings')).rows[0]!.n, old.settings!.rows, 'the session on the old database was left alone')
  await dba.end()

  const rollback = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/rollback` })
  t.equal(rollback.statusCode, 200, rollback.body)
  t.equal(rollback.json().status, 'rolled_back')
  await assertOldDatabaseServed(t, old, 'rolled back')
  await assertNoStray(t, params, 'rolled back')
})
