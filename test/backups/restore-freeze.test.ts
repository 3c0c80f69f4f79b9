import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { RestoreCleanup } from '../../src/backups/restore-cleanup.js'
import { startHarness } from '../helpers/harness.js'
import { waitFor } from '../helpers/wait-for.js'
import { closeStepGate, installStepGate } from '../helpers/step-gate.js'
import { tenantClient } from '../modules/module-test-helpers.js'
import { damageData, databasesLike, fingerprint, seedTenant } from './backup-test-helpers.js'

// The swap of a restore, seen from the tenant's side: 503 with Retry-After while it happens,
// the restored data right after; a lapsed freeze ignored; the kept database swapped back by
// an undo, then dropped by the timed cleanup, after which undo is refused.
//
// "While it happens" is held, not raced: once the operation is about to record its swap
// step, a test-only trigger makes it wait on an advisory lock the test holds (the step gate
// of provision-crash.test.ts). Meanwhile the test takes a lock on the restored database
// (COMMENT ON DATABASE in an open transaction): the swap's rename of that database then
// waits for it, with the tenant frozen and its old database already closed. Production code
// is not involved.

t.setTimeout(300_000)

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-restore-freeze-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: `file://${backupDir}`, TENANTD_BACKUP_SCHEDULE: 'off' } })
const { catalogQuery } = h

await installStepGate(h.catalogUrl)

const slug = 'frz'
const tenant = await h.provision({ name: 'Frozen', slug, adminEmail: `admin@${slug}.test`, adminPassword: 'frozen-password-1', modules: ['price-basket'] })
await seedTenant(h, tenant.database, 'FRZ-MARKER')
const backedUp = await fingerprint(h, tenant.database)
const backupRes = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/backups?wait=true` })
if (backupRes.statusCode !== 201) throw new Error(`backup failed: ${backupRes.body}`)
const backupId = backupRes.json().backup.id as string
await damageData(h, tenant.database)
const before = await fingerprint(h, tenant.database)
const client = await tenantClient(h, slug, `admin@${slug}.test`, 'frozen-password-1')
const suppliers = () => client.request('GET', '/api/price-basket/suppliers?limit=100')

async function waitForOperation(id: string): Promise<{ status: string; step: string; error: string | null }> {
  return waitFor(`operation ${id} to end`, async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` })).json()
    return op.status === 'running' || op.status === 'pending' ? undefined : op
  })
}

async function frozenUntil(): Promise<Date | null> {
  const { rows } = await catalogQuery('select frozen_until from tenants where slug = $1', [slug])
  return rows[0]!.frozen_until as Date | null
}

t.test('during the swap the tenant answers 503 with Retry-After; after it, 200 with the restored data', async (t) => {
  t.equal((await suppliers()).json().total, before.cp_fornecedores!.rows, 'before: the damaged data is served')
  const gate = await closeStepGate(h.catalogUrl, slug, 'swapDatabase')
  const holder = new pg.Client({ connectionString: h.cluster.url() })
  await holder.connect()
  t.teardown(async () => {
    await gate.end()
    await holder.end().catch(() => {})
  })
  const openGate = () => gate.open()

  const res = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/restore`, payload: { backupId } })
  t.equal(res.statusCode, 202, res.body)
  const operationId = res.json().operationId as string
  const params = (await catalogQuery('select params from operations where id = $1', [operationId])).rows[0]!.params as { restoredDatabase: string; previousDatabase: string }
  await gate.waitUntilHeld(undefined, async () => {
    const op = (await catalogQuery('select status from operations where id = $1', [operationId])).rows[0] as { status: string }
    if (op.status === 'failed') throw new Error('the restore failed before its swap')
  })
  t.equal((await suppliers()).statusCode, 200, 'restored and compared, not swapped yet: still served')

  await holder.query('begin')
  await holder.query(`comment on database ${pg.escapeIdentifier(params.restoredDatabase)} is 'held by restore-freeze.test.ts'`)
  await openGate()
  await waitFor('the swap to wait for the restored database', async () => {
    const waiting = await catalogQuery(
      `select 1 from pg_locks where locktype = 'object' and not granted
          and classid = 'pg_database'::regclass and objid = (select oid from pg_database where datname = $1)`,
      [params.restoredDatabase]
    )
    return waiting.rowCount ? true : undefined
  })

  const frozen = await suppliers()
  t.equal(frozen.statusCode, 503, frozen.body)
  const retryAfter = Number(frozen.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30, `Retry-After is the seconds left of the freeze (${frozen.headers['retry-after']})`)
  t.equal(frozen.json().error, 'TenantFrozen')
  t.match(frozen.json().message, /restored from a backup/)
  t.match(frozen.json().message, new RegExp(`Retry in ${retryAfter} seconds`))
  const byHeader = await h.app.inject({ method: 'GET', url: '/api/tenants/current', headers: { 'x-tenant-id': slug } })
  t.equal(byHeader.statusCode, 503, 'every tenant route answers so, by header as by host')
  t.ok(Number(byHeader.headers['retry-after']) >= 1)
  const admin = await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}` })
  t.equal(admin.statusCode, 200, 'the admin API still shows the tenant')

  await holder.query('rollback')
  const op = await waitForOperation(operationId)
  t.equal(op.status, 'succeeded', op.error ?? '')
  const after = await waitFor('the restored data to be served', async () => {
    const r = await suppliers()
    return r.statusCode === 200 ? r : undefined
  })
  t.equal(after.json().total, 60, 'the restored suppliers are served')
  t.same(await fingerprint(h, tenant.database), backedUp, 'every table is the backup\'s, row for row')
  t.equal(await frozenUntil(), null, 'the freeze is cleared')
  t.same(await databasesLike(h, `${tenant.database}_restoring_%`), [], 'no restore leftovers')
  t.same(await databasesLike(h, `${tenant.database}_pre_restore_%`), [params.previousDatabase], 'the previous database is kept')
})

t.test('a freeze whose time has passed is ignored', async (t) => {
  await catalogQuery(`update tenants set frozen_until = now() + interval '1 hour', frozen_reason = 'restore' where slug = $1`, [slug])
  const frozen = await waitFor('the freeze to reach the directory', async () => {
    const r = await suppliers()
    return r.statusCode === 503 ? r : undefined
  })
  t.ok(Number(frozen.headers['retry-after']) > 3500, `a long freeze: Retry-After ${frozen.headers['retry-after']}`)

  await catalogQuery(`update tenants set frozen_until = now() - interval '1 second', frozen_reason = 'restore' where slug = $1`, [slug])
  const served = await waitFor('the lapsed freeze to reach the directory', async () => {
    const r = await suppliers()
    return r.statusCode === 200 ? r : undefined
  })
  t.equal(served.json().total, 60)
  const cached = h.tenantd.tenants.peek(slug)
  t.ok(cached && cached.frozen_until !== null && new Date(cached.frozen_until).getTime() < Date.now(), 'served although the record carries a freeze: its time has passed')
  await catalogQuery('update tenants set frozen_until = null, frozen_reason = null where slug = $1', [slug])
})

t.test('undo swaps the previous database back while it is kept; the cleanup drops it after the keep time; undo is then refused', async (t) => {
  t.same(await h.tenantd.restoreCleanup.runOnce(), [], 'a fresh restore\'s database is kept')
  const [kept] = await databasesLike(h, `${tenant.database}_pre_restore_%`)
  const listed = await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}/restores` })
  t.equal(listed.statusCode, 200, listed.body)
  t.match(listed.json(), { keepHours: h.config.restoreKeepHours, items: [{ previousDatabase: kept, previousDroppedAt: null, undoable: true }] })
  const restore = listed.json().items[0]
  t.equal(new Date(restore.keptUntil).getTime() - new Date(restore.restoredAt).getTime(), h.config.restoreKeepHours * 3_600_000, 'kept until the keep time after the restore')

  const undo = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/restore/undo?wait=true` })
  t.equal(undo.statusCode, 200, undo.body)
  const displaced = undo.json().restore.previousDatabase as string
  t.match(displaced, new RegExp(`^${tenant.database}_undone_\\d{14}_[0-9a-f]{6}$`))
  t.same(await fingerprint(h, tenant.database), before, 'the data from before the restore is back, row for row')
  const served = await waitFor('the previous data to be served', async () => {
    const r = await suppliers()
    return r.statusCode === 200 && r.json().total === before.cp_fornecedores!.rows ? r : undefined
  })
  t.equal(served.json().total, before.cp_fornecedores!.rows)
  t.same(await databasesLike(h, `${tenant.database}_%`), [displaced], `${kept} is in use again; the restored database is kept in its place`)
  const conn = await h.cluster.query<{ datname: string; datallowconn: boolean }>('select datname, datallowconn from pg_database where datname in ($1, $2) order by datname', [tenant.database, displaced])
  t.same(conn.rows.map((r) => [r.datname, r.datallowconn]).sort(), [[tenant.database, true], [displaced, false]].sort(), 'the database in use takes connections, the kept one does not')
  t.equal(await frozenUntil(), null, 'the freeze is cleared')

  // The keep time has passed: the restore is made 25 hours old instead of waiting for it.
  await catalogQuery(`update backup_restores set restored_at = now() - interval '25 hours' where tenant_id = $1`, [tenant.id])
  const other = new RestoreCleanup({ catalog: h.tenantd.catalog.db, hosts: h.tenantd.hosts, audit: h.tenantd.audit, log: h.tenantd.log, keepHours: h.config.restoreKeepHours })
  const [mine, theirs] = await Promise.all([h.tenantd.restoreCleanup.runOnce(), other.runOnce()])
  await other.stop()
  t.same([...mine, ...theirs], [displaced], 'dropped once, by one of two replicas')
  t.same(await databasesLike(h, `${tenant.database}_%`), [], 'no kept database left')
  const row = (await catalogQuery('select previous_dropped_at from backup_restores where tenant_id = $1', [tenant.id])).rows[0]!
  t.ok(row.previous_dropped_at, 'previous_dropped_at is recorded')
  const audit = await catalogQuery(`select details from audit_logs where action = 'restore.previous_dropped' and tenant_id = $1`, [tenant.id])
  t.equal(audit.rowCount, 1)
  t.equal((audit.rows[0]!.details as { database: string }).database, displaced)
  t.equal((await suppliers()).statusCode, 200, 'the tenant is served from its database meanwhile')

  t.match((await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${slug}/restores` })).json().items[0], { previousDroppedAt: String, undoable: false }, 'the list says it can no longer be undone')
  const refused = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/restore/undo` })
  t.equal(refused.statusCode, 409, refused.body)
  t.equal(refused.json().error, 'RestoreNotUndoable')
  t.match(refused.json().message, /was dropped/)
  t.same(await fingerprint(h, tenant.database), before, 'untouched by the refused undo')
})
