import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { waitFor } from '../helpers/wait-for.js'
import { fingerprint, seedTenant } from './backup-test-helpers.js'

// Hard delete takes a final verified backup first (unless skipFinalBackup), and drops
// nothing unless it verified.

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: backupDir } })

/** A short assertion message: the status, or the whole reply when it is not the expected one. */
const why = (res: { statusCode: number; body: string }, status: number) => (res.statusCode === status ? `answered ${status}` : res.body)
const db = h.tenantd.catalog.db

const exists = async (kind: 'database' | 'role', name: string) =>
  ((await h.cluster.query(kind === 'database' ? 'select 1 from pg_database where datname = $1' : 'select 1 from pg_roles where rolname = $1', [name])).rowCount ?? 0) > 0
const hardDelete = (slug: string, body: Record<string, unknown> = {}) =>
  h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/delete?wait=true`, payload: { hardDelete: true, force: true, ...body } })
const backupsOf = (tenantId: string) => db.selectFrom('backups').selectAll().where('tenant_id', '=', tenantId).execute()
const auditOf = (tenantId: string, action: string) => db.selectFrom('audit_logs').select(['details', 'actor_type']).where('tenant_id', '=', tenantId).where('action', '=', action).execute()
const operation = async (id: string) => (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${id}` })).json()

t.test('hard delete leaves a verified final backup whose file restores the data', async (t) => {
  const globex = await h.provision({ name: 'Globex', slug: 'globex', adminEmail: 'admin@globex.test', adminPassword: 'globex-password-1', modules: ['price-basket'] })
  await seedTenant(h, globex.database, 'globex')
  const before = await fingerprint(h, globex.database)

  const res = await hardDelete('globex')
  t.equal(res.statusCode, 200, why(res, 200))
  t.notOk(await exists('database', globex.database), 'database dropped')
  t.notOk(await exists('role', 'tenant_globex_owner'), 'role dropped')

  const finals = await backupsOf(globex.id)
  t.equal(finals.length, 1, 'one backup')
  const final = finals[0]!
  t.equal(final.reason, 'final')
  t.equal(final.state, 'verified')
  t.equal(final.row_counts?.['public.cp_fornecedores'], 60)
  const op = await db.selectFrom('operations').selectAll().where('id', '=', final.operation_id!).executeTakeFirstOrThrow()
  t.equal(op.kind, 'delete', 'taken by the delete operation itself')
  await access(path.join(backupDir, final.storage_key))

  // The record is purged, not deleted: the backup's tenant still exists for it to refer to.
  const row = await db.selectFrom('tenants').select(['status', 'purged_at']).where('id', '=', globex.id).executeTakeFirstOrThrow()
  t.equal(row.status, 'deleted')
  t.not(row.purged_at, null)
  t.match((await auditOf(globex.id, 'tenant.hard_delete'))[0]?.details, { finalBackup: true })
  t.match((await auditOf(globex.id, 'backup.final'))[0], { actor_type: 'system', details: { backupId: final.id } })
  const listed = await h.asAdmin({ method: 'GET', url: `/api/admin/tenants/${globex.id}/backups` })
  t.equal(listed.statusCode, 200, 'a hard-deleted tenant\'s backups are listed by its id')
  t.same(listed.json().items.map((b: { id: string; reason: string }) => [b.id, b.reason]), [[final.id, 'final']])

  // Undelete: the final backup cloned into a new tenant under the (now free) slug.
  const cloned = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${globex.id}/restore?wait=true`, payload: { backupId: final.id, asNewTenant: { slug: 'globex', name: 'Globex' } } })
  t.equal(cloned.statusCode, 201, why(cloned, 201))
  t.not(cloned.json().tenant.id, globex.id, 'a new tenant')
  t.same(await fingerprint(h, cloned.json().tenant.database), before, 'every row is back')
  const login = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: { host: 'globex.localhost' }, payload: { email: 'admin@globex.test', password: 'globex-password-1' } })
  t.equal(login.statusCode, 200, 'its admin logs in again')
})

t.test('skipFinalBackup drops without a backup, and the audit log says so', async (t) => {
  const initech = await h.provision({ name: 'Initech', slug: 'initech' })
  const res = await hardDelete('initech', { skipFinalBackup: true })
  t.equal(res.statusCode, 200, why(res, 200))
  t.notOk(await exists('database', initech.database))
  t.same(await backupsOf(initech.id), [], 'no backup taken')
  t.match((await auditOf(initech.id, 'tenant.hard_delete'))[0]?.details, { finalBackup: false, skipFinalBackup: true })
  t.same(await auditOf(initech.id, 'backup.final'), [])
})

t.test('a final backup that fails verification stops the delete; the database stays; a retry takes it again', async (t) => {
  const hooli = await h.provision({ name: 'Hooli', slug: 'hooli', modules: ['price-basket'] })
  await seedTenant(h, hooli.database, 'hooli')
  const before = await fingerprint(h, hooli.database)

  // Test-only gate in this test's catalog: recording the final backup as written waits on an
  // advisory lock the test holds, so the stored file can be damaged before it is read back.
  await h.catalogQuery(
    `create function test_final_gate() returns trigger language plpgsql as $$
     begin
       if new.reason = 'final' and new.state = 'completed' and old.state is distinct from 'completed' then
         perform pg_advisory_xact_lock(4242);
       end if;
       return new;
     end $$;
     create trigger test_final_gate before update on backups for each row execute function test_final_gate();`,
    []
  )
  const gate = new pg.Client({ connectionString: h.catalogUrl })
  await gate.connect()
  t.teardown(() => gate.end())
  await gate.query('select pg_advisory_lock(4242)')

  const started = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/hooli/delete', payload: { hardDelete: true, force: true } })
  t.equal(started.statusCode, 202, why(started, 202))
  const operationId = started.json().operationId
  await waitFor('the final backup to wait at the gate', async () => {
    const { rowCount } = await gate.query(`select 1 from pg_locks where locktype = 'advisory' and objid = 4242 and not granted`)
    return rowCount ? true : undefined
  })
  const [written] = await backupsOf(hooli.id)
  const file = path.join(backupDir, written!.storage_key)
  const bytes = await readFile(file)
  bytes[bytes.length - 40]! ^= 0x80
  await writeFile(file, bytes)
  await gate.query('select pg_advisory_unlock(4242)')

  const failed = await waitFor('the delete to fail', async () => {
    const op = await operation(operationId)
    return op.status === 'failed' ? op : op.status === 'succeeded' ? op : undefined
  })
  t.equal(failed.status, 'failed')
  t.equal(failed.step, 'takeFinalBackup')
  t.match(failed.error, /final backup .* of hooli did not verify .*authentication.*nothing was dropped/)
  t.ok(await exists('database', hooli.database), 'the database is still there')
  t.ok(await exists('role', 'tenant_hooli_owner'), 'and the role')
  t.same(await fingerprint(h, hooli.database), before, 'with every row')
  const [damaged] = await backupsOf(hooli.id)
  t.equal(damaged!.state, 'failed')
  t.match(damaged!.error, /verification failed/)
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/hooli' })).json().status, 'deleted', 'the tenant takes no traffic meanwhile')

  // Resumed once the storage is sound again: the same final backup is written and verified anew.
  await h.catalogQuery('drop trigger test_final_gate on backups; drop function test_final_gate()')
  const retry = await h.asAdmin({ method: 'POST', url: `/api/admin/operations/${operationId}/retry` })
  t.equal(retry.statusCode, 202, why(retry, 202))
  const done = await waitFor('the retried delete to end', async () => {
    const op = await operation(operationId)
    return ['succeeded', 'failed'].includes(op.status) ? op : undefined
  })
  t.equal(done.status, 'succeeded', done.error ?? '')
  const finals = await backupsOf(hooli.id)
  t.equal(finals.length, 1, 'no second final backup for the same delete')
  t.equal(finals[0]!.id, written!.id)
  t.equal(finals[0]!.state, 'verified')
  t.notOk(await exists('database', hooli.database), 'dropped only now')
})

t.test('tenantctl delete --hard --skip-final-backup', async (t) => {
  const vandelay = await h.provision({ name: 'Vandelay', slug: 'vandelay' })
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const run = await cli.run(['delete', 'vandelay', '--hard', '--force', '--yes', '--skip-final-backup'])
  t.equal(run.code, 0, showRun(run))
  t.notOk(await exists('database', vandelay.database))
  t.same(await backupsOf(vandelay.id), [])
  t.match((await auditOf(vandelay.id, 'tenant.hard_delete'))[0]?.details, { skipFinalBackup: true, finalBackup: false })
})
