import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { eventually, tenantClient } from '../modules/module-test-helpers.js'
import { showRun, tenantctlAgainst } from '../helpers/tenantctl-runner.js'
import { waitFor } from '../helpers/wait-for.js'
import { fingerprint, seedTenant } from './backup-test-helpers.js'

// Restore as a new tenant (runbook 000's staging copy): a clone is a provision whose
// database comes from a verified backup, with its own role, password and database.

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: backupDir } })

/** A short assertion message: the status, or the whole reply when it is not the expected one. */
const why = (res: { statusCode: number; body: string }, status: number) => (res.statusCode === status ? `answered ${status}` : res.body)
const acme = await h.provision({ name: 'Acme', slug: 'acme', plan: 'pro', adminEmail: 'admin@acme.test', adminPassword: 'acme-password-1', modules: ['price-basket'] })
await seedTenant(h, acme.database, 'acme')

async function backup(slug: string) {
  const res = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/backups?wait=true` })
  if (res.statusCode !== 201) throw new Error(`backup of ${slug}: ${res.statusCode} ${res.body}`)
  return res.json().backup as { id: string; storageKey: string; sizeBytes: number }
}
const clone = (source: string, backupId: string, asNewTenant: Record<string, unknown>, wait = true) =>
  h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${source}/restore${wait ? '?wait=true' : ''}`, payload: { backupId, asNewTenant } })
const exists = async (kind: 'database' | 'role', name: string) =>
  ((await h.cluster.query(kind === 'database' ? 'select 1 from pg_database where datname = $1' : 'select 1 from pg_roles where rolname = $1', [name])).rowCount ?? 0) > 0
const liveTenants = async () => (await h.tenantd.catalog.db.selectFrom('tenants').select('slug').where('purged_at', 'is', null).orderBy('slug').execute()).map((r) => r.slug)

const good = await backup('acme')
const sourceBefore = await fingerprint(h, acme.database)

t.test('a clone is a new tenant with the backup\'s data, its own role and database, active once counts matched', async (t) => {
  const res = await clone('acme', good.id, { slug: 'acme-staging' })
  t.equal(res.statusCode, 201, why(res, 201))
  const tenant = res.json().tenant
  t.match(tenant, { slug: 'acme-staging', subdomain: 'acme-staging', name: 'Acme (copy)', plan: 'pro', status: 'active', database: 'tenant_acme_staging' })
  t.not(tenant.id, acme.id)
  t.equal(res.json().operation.kind, 'provision')

  t.same(await fingerprint(h, tenant.database), sourceBefore, 'every table of base and price-basket, row for row')

  // Its own role owns the database and every table; another password, sealed.
  const owners = await h.cluster.query<{ owner: string }>(
    `select distinct tableowner as owner from pg_tables where schemaname = 'public' union select pg_get_userbyid(datdba) from pg_database where datname = current_database()`,
    [],
    tenant.database
  )
  t.same(owners.rows.map((r) => r.owner), ['tenant_acme_staging_owner'], 'database and tables owned by the clone\'s own role')
  const [source, copy] = await Promise.all([h.tenantd.tenants.get('acme'), h.tenantd.tenants.get('acme-staging')])
  t.not(h.tenantd.sealer.open(copy.password_sealed), h.tenantd.sealer.open(source.password_sealed), 'a new role password')
  t.same(copy.modules, ['price-basket'], 'the module registry knows what the backup had installed')

  // The clone's role cannot reach the source's database (CONNECT is revoked from PUBLIC).
  const intruder = new pg.Client({ host: '127.0.0.1', port: h.cluster.port, database: acme.database, user: copy.role_name, password: h.tenantd.sealer.open(copy.password_sealed) })
  intruder.on('error', () => {})
  await t.rejects(intruder.connect(), /permission denied/, 'the clone\'s role has no access to the source database')
  await intruder.end().catch(() => {})

  // Its app serves the copied users and module data on its own host.
  const app = await tenantClient(h, 'acme-staging', 'admin@acme.test', 'acme-password-1')
  const suppliers = await eventually(() => app.request('GET', '/api/price-basket/suppliers?limit=100'), (r) => r.statusCode === 200)
  t.equal(suppliers.statusCode, 200, why(suppliers, 200))
  t.equal(suppliers.json().total, 60)

  // Independent: writes to the clone do not reach the source.
  const created = await app.request('POST', '/api/price-basket/suppliers', { name: 'Only in staging', email: 'staging@x.test' })
  t.equal(created.statusCode, 201, why(created, 201))
  await h.cluster.query(`delete from cp_orcamento_itens; update settings set value = '"staging"'`, [], tenant.database)
  t.equal((await fingerprint(h, tenant.database)).cp_fornecedores!.rows, 61)
  t.same(await fingerprint(h, acme.database), sourceBefore, 'the source is untouched')
  t.equal((await h.tenantd.tenants.get('acme')).status, 'active')

  const audit = await h.tenantd.catalog.db.selectFrom('audit_logs').select(['details']).where('action', '=', 'tenant.clone').where('tenant_id', '=', tenant.id).execute()
  t.equal(audit.length, 1, 'the clone is audited')
  t.match(audit[0]!.details, { source: 'acme', backupId: good.id })
})

t.test('without ?wait the clone answers 202 and is active once its operation succeeded', async (t) => {
  const res = await clone('acme', good.id, { slug: 'acme-qa', subdomain: 'acme-qa-site', name: 'Acme QA' }, false)
  t.equal(res.statusCode, 202, why(res, 202))
  t.match(res.json(), { tenant: { slug: 'acme-qa', subdomain: 'acme-qa-site', name: 'Acme QA', status: 'provisioning' }, backupId: good.id })
  const operationId = res.json().operationId
  const done = await waitFor('the clone operation to end', async () => {
    const op = (await h.asAdmin({ method: 'GET', url: `/api/admin/operations/${operationId}` })).json()
    return ['succeeded', 'failed'].includes(op.status) ? op : undefined
  })
  t.equal(done.status, 'succeeded', done.error ?? '')
  t.equal((await h.tenantd.tenants.get('acme-qa')).status, 'active')
  t.same(await fingerprint(h, 'tenant_acme_qa'), sourceBefore)
})

t.test('refused with a clear 4xx, leaving nothing behind', async (t) => {
  const before = await liveTenants()
  const taken = await clone('acme', good.id, { slug: 'acme' })
  t.equal(taken.statusCode, 409)
  t.equal(taken.json().error, 'TenantExists')
  const subdomainTaken = await clone('acme', good.id, { slug: 'acme-x', subdomain: 'acme-staging' })
  t.equal(subdomainTaken.statusCode, 409)
  t.equal(subdomainTaken.json().error, 'TenantExists')
  const invalid = await clone('acme', good.id, { slug: 'Not A Slug' })
  t.equal(invalid.statusCode, 400)
  t.equal(invalid.json().error, 'ValidationError')
  t.match(invalid.json().message, /slug/)
  t.equal((await clone('acme', good.id, { slug: 'admin' })).json().error, 'ValidationError', 'reserved slugs too')
  t.equal((await clone('acme', good.id, { slug: 'acme-y', plan: 'free' })).statusCode, 400, 'unknown fields are refused')
  t.equal((await clone('acme', '6d1f1c3e-0000-4000-8000-000000000000', { slug: 'acme-y' })).statusCode, 404)
  t.equal((await clone('nope', good.id, { slug: 'acme-y' })).json().error, 'TenantNotFound')

  // Not verified: a backup whose verification failed.
  const damaged = await backup('acme')
  const file = path.join(backupDir, damaged.storageKey)
  const bytes = await readFile(file)
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01
  await writeFile(file, bytes)
  t.equal((await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/acme/backups/${damaged.id}/verify` })).json().ok, false)
  const unverified = await clone('acme', damaged.id, { slug: 'acme-y' })
  t.equal(unverified.statusCode, 409)
  t.equal(unverified.json().error, 'BackupNotRestorable')
  t.match(unverified.json().message, /only verified backups/)

  // Taken with migrations this tenantd does not ship.
  const newer = await backup('acme')
  const row = (await h.tenantd.backups.get('acme', newer.id)).backup
  await h.tenantd.catalog.db
    .updateTable('backups')
    .set({ migrations: JSON.stringify([...(row.migrations ?? []), { scope: 'price-basket', name: '0099_future.sql' }]) })
    .where('id', '=', newer.id)
    .execute()
  const future = await clone('acme', newer.id, { slug: 'acme-y' })
  t.equal(future.statusCode, 409)
  t.equal(future.json().error, 'BackupNewerThanCode')
  t.match(future.json().message, /price-basket\/0099_future\.sql/)

  t.same(await liveTenants(), before, 'no tenant was recorded by a refused clone')
  t.notOk(await exists('database', 'tenant_acme_y'))
})

t.test('a clone whose restore fails is rolled back: no role, no database, slug free', async (t) => {
  const b = await backup('acme')
  // Damaged in storage after it was verified: only the restore finds out.
  const file = path.join(backupDir, b.storageKey)
  const bytes = await readFile(file)
  bytes[bytes.length - 40]! ^= 0x80
  await writeFile(file, bytes)

  const res = await clone('acme', b.id, { slug: 'acme-broken' })
  t.equal(res.statusCode, 409, why(res, 409))
  t.equal(res.json().error, 'OperationFailed')
  t.match(res.json().message, /clone acme-broken failed at step restoreDatabase: .*(authentication|truncated).*rolled back/)
  t.notOk(await exists('database', 'tenant_acme_broken'), 'no database left')
  t.notOk(await exists('role', 'tenant_acme_broken_owner'), 'no role left')
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/acme-broken' })).statusCode, 404, 'no live tenant of that name')
  const row = await h.tenantd.catalog.db.selectFrom('tenants').selectAll().where('slug', '=', 'acme-broken').executeTakeFirstOrThrow()
  t.equal(row.status, 'failed')
  t.not(row.purged_at, null)
  t.match(row.status_reason, /restoreDatabase.*rolled back/)
  t.equal((await h.tenantd.catalog.db.selectFrom('tenant_modules').select('module').where('tenant_id', '=', row.id).execute()).length, 0, 'no modules recorded')
  t.same(await fingerprint(h, acme.database), sourceBefore, 'the source is untouched')

  const again = await clone('acme', good.id, { slug: 'acme-broken' })
  t.equal(again.statusCode, 201, 'the slug is free again')
  t.same(await fingerprint(h, 'tenant_acme_broken'), sourceBefore)
})

t.test('row counts that differ from the backup\'s keep the clone from becoming active', async (t) => {
  const b = await backup('acme')
  const row = (await h.tenantd.backups.get('acme', b.id)).backup
  await h.tenantd.catalog.db
    .updateTable('backups')
    .set({ row_counts: JSON.stringify({ ...row.row_counts, 'public.cp_fornecedores': 59 }) })
    .where('id', '=', b.id)
    .execute()
  const res = await clone('acme', b.id, { slug: 'acme-miscounted' })
  t.equal(res.statusCode, 409, why(res, 409))
  t.match(res.json().message, /compareRowCounts: .*public\.cp_fornecedores: 59 recorded, 60 restored/)
  t.notOk(await exists('database', 'tenant_acme_miscounted'))
  t.notOk(await exists('role', 'tenant_acme_miscounted_owner'))
  t.notOk((await liveTenants()).includes('acme-miscounted'))
})

t.test('tenantctl restore <tenant> <backupId> --as-new <slug> clones', async (t) => {
  const cli = await tenantctlAgainst(h, t)
  const login = await cli.run(['login', '--email', h.superAdmin.email], { TENANTD_PASSWORD: h.superAdmin.password })
  t.equal(login.code, 0, showRun(login))
  const run = await cli.run(['restore', 'acme', good.id, '--as-new', 'acme-cli', '--subdomain', 'acme-cli-site', '--name', 'Acme via CLI'])
  t.equal(run.code, 0, showRun(run))
  t.match(run.stdout, /tenant acme-cli created from backup .* of acme; row counts matched/)
  t.match(await h.tenantd.tenants.get('acme-cli'), { status: 'active', subdomain: 'acme-cli-site', name: 'Acme via CLI' })
  t.same(await fingerprint(h, 'tenant_acme_cli'), sourceBefore)
  const taken = await cli.run(['restore', 'acme', good.id, '--as-new', 'acme-cli'])
  t.equal(taken.code, 1, 'a taken slug fails')
  t.match(taken.stderr, /slug "acme-cli" already exists/)
})

t.test('no tenant password in logs or responses', async (t) => {
  const passwords = await Promise.all(['acme', 'acme-staging', 'acme-qa'].map(async (slug) => h.tenantd.sealer.open((await h.tenantd.tenants.get(slug)).password_sealed)))
  const logs = h.logLines.join('\n')
  for (const password of passwords) t.notOk(logs.includes(password))
})
