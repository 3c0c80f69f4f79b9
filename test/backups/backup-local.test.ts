import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { eventually, tenantClient } from '../modules/module-test-helpers.js'
import { damageData, databasesLike, filesUnder, fingerprint, samplePgDumpProcesses, seedTenant } from './backup-test-helpers.js'

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: `file://${backupDir}` } })
const responses: string[] = []
const admin = async (options: Parameters<typeof h.asAdmin>[0]) => {
  const res = await h.asAdmin(options)
  responses.push(res.body)
  return res
}

const tenant = await h.provision({ name: 'Acme', slug: 'acme', adminEmail: 'admin@acme.test', adminPassword: 'acme-password-1', modules: ['price-basket'] })
await seedTenant(h, tenant.database, 'MARKER-7f3a')
// Enough data (tens of MB) that the dump spans many records and pg_dump runs long enough to be seen.
await h.cluster.query(`insert into settings (key, value) select 'bulk-' || i, to_jsonb(md5(i::text) || repeat('x', 200)) from generate_series(1, 100000) i`, [], tenant.database)
const before = await fingerprint(h, tenant.database)

t.test('a backup is streamed, encrypted, stored, verified and recorded', async (t) => {
  // pg_dump waits for this lock on settings (it takes ACCESS SHARE on every table it dumps),
  // so it stays alive until the sampler has seen it.
  const lock = new pg.Client({ connectionString: h.cluster.url(tenant.database) })
  await lock.connect()
  await lock.query('begin; lock table settings in access exclusive mode')
  const sampler = samplePgDumpProcesses()
  const running = admin({ method: 'POST', url: '/api/admin/tenants/acme/backups?wait=true' })
  await sampler.seen()
  await lock.query('commit')
  await lock.end()
  const res = await running
  const dumps = await sampler.stop()
  t.equal(res.statusCode, 201, res.body)
  const backup = res.json().backup
  t.equal(backup.state, 'verified')
  t.match(backup.sha256, /^[0-9a-f]{64}$/)
  t.ok(backup.sizeBytes > 0 && backup.dumpBytes > 0)
  t.match(backup.serverVersion, /^15\./)
  t.match(backup.pgDumpVersion, /^15\./)
  t.equal(backup.tenantdVersion, '0.1.0')
  t.equal(backup.rowCounts['public.cp_fornecedores'], 60)
  t.equal(backup.rowCounts['public.cp_orcamento_itens'], 200)
  t.equal(backup.rowCounts['public.settings'], 100012)
  t.ok(backup.migrations.some((m: { scope: string; name: string }) => m.scope === 'base' && m.name === '0001_base.sql'))
  t.ok(backup.migrations.some((m: { scope: string }) => m.scope === 'price-basket'))
  t.equal(backup.storageTarget, `file://${backupDir}`)

  // The file is where the catalog says, its SHA-256 is the recorded one, and it holds no plaintext.
  const files = await filesUnder(backupDir)
  t.same(files, [path.join(backupDir, backup.storageKey)], 'one file, no temporary leftovers')
  const bytes = await readFile(files[0]!)
  t.equal(bytes.length, backup.sizeBytes)
  t.equal(createHash('sha256').update(bytes).digest('hex'), backup.sha256)
  t.notOk(bytes.includes(Buffer.from('MARKER-7f3a')), 'no tenant data in clear in the file')
  t.notOk(bytes.includes(Buffer.from('cp_fornecedores')), 'no table names in clear in the file')

  // pg_dump ran with neither the password nor the master key in argv or in its environment.
  t.ok(dumps.length >= 1, 'saw the pg_dump child while it ran')
  const password = h.tenantd.sealer.open((await h.tenantd.tenants.get('acme')).password_sealed)
  for (const dump of dumps) {
    t.notOk(dump.cmdline.includes(password), 'no password in argv')
    t.notOk(dump.cmdline.includes(h.env.TENANTD_MASTER_KEY!.split(':')[1]!), 'no master key in argv')
    t.notOk(dump.environ.includes('TENANTD_MASTER_KEY'), 'the master key is not inherited by pg_dump')
    t.notOk(dump.environ.includes('DATABASE_URL'), 'the catalog URL is not inherited by pg_dump')
  }

  const list = await admin({ method: 'GET', url: '/api/admin/tenants/acme/backups' })
  t.equal(list.statusCode, 200)
  t.equal(list.json().total, 1)
  t.equal(list.json().items[0].id, backup.id)
  const one = await admin({ method: 'GET', url: `/api/admin/tenants/acme/backups/${backup.id}` })
  t.equal(one.json().sha256, backup.sha256)
  const again = await admin({ method: 'POST', url: `/api/admin/tenants/acme/backups/${backup.id}/verify` })
  t.equal(again.statusCode, 200, again.body)
  t.equal(again.json().ok, true)
  t.equal(again.json().backup.state, 'verified')
})

t.test('restore brings the data back into a new database, swapped in, the old one kept', async (t) => {
  const backup = (await admin({ method: 'GET', url: '/api/admin/tenants/acme/backups' })).json().items[0]
  await damageData(h, tenant.database)
  t.not((await fingerprint(h, tenant.database)).cp_fornecedores!.md5, before.cp_fornecedores!.md5, 'the data did change')

  // The tenant app is in use (its pool open) when the restore swaps the database under it.
  const client = await tenantClient(h, 'acme', 'admin@acme.test', 'acme-password-1')
  const used = await client.request('GET', '/api/price-basket/suppliers?limit=100')
  t.equal(used.statusCode, 200)

  const res = await admin({ method: 'POST', url: '/api/admin/tenants/acme/restore?wait=true', payload: { backupId: backup.id } })
  t.equal(res.statusCode, 200, res.body)
  const { restore } = res.json()
  t.equal(restore.database, tenant.database)
  t.match(restore.previousDatabase, new RegExp(`^${tenant.database}_pre_restore_\\d{14}_[0-9a-f]{6}$`))
  t.same(await fingerprint(h, tenant.database), before, 'every table is back, row for row')
  t.same(await databasesLike(h, `${tenant.database}_%`), [restore.previousDatabase], 'the previous database is kept; no restore leftovers')
  const kept = await h.cluster.query<{ datallowconn: boolean }>('select datallowconn from pg_database where datname = $1', [restore.previousDatabase])
  t.equal(kept.rows[0]!.datallowconn, false, 'the kept database takes no connections until an undo opens it')
  await h.cluster.query(`alter database ${restore.previousDatabase} with allow_connections true`)
  const { rows } = await h.cluster.query<{ n: string }>('select count(*) as n from settings where key = $1', ['after-backup'], restore.previousDatabase)
  t.equal(Number(rows[0]!.n), 1, 'the kept database still has the changes made after the backup (for undo)')

  // The tenant's own API serves the restored data (its pool was evicted, not left on the old database).
  const after = await eventually(() => client.request('GET', '/api/price-basket/suppliers?limit=100'), (r) => r.statusCode === 200 && r.json().total === 60)
  t.equal(after.json().total, 60)
})

t.test("a table the tenant's role cannot read (made by a superuser in psql): the backup fails saying what to run", async (t) => {
  await h.cluster.query('create table public.dba_notes (note text)', [], tenant.database)
  const res = await admin({ method: 'POST', url: '/api/admin/tenants/acme/backups?wait=true' })
  t.equal(res.statusCode, 409, res.body)
  t.match(res.json().message, /permission denied for table dba_notes/, "pg_dump's own words")
  t.match(res.json().message, new RegExp(`make that role its owner \\(ALTER TABLE dba_notes OWNER TO tenant_acme_owner\\) and retry`), 'and the next step')
  await h.cluster.query('alter table public.dba_notes owner to tenant_acme_owner', [], tenant.database)
  const retried = await admin({ method: 'POST', url: '/api/admin/tenants/acme/backups?wait=true' })
  t.equal(retried.statusCode, 201, `done once the table is the tenant's: ${retried.body}`)
})

t.test('no password, data key or master key in logs or responses', async (t) => {
  const tenantRecord = await h.tenantd.tenants.get('acme')
  const password = h.tenantd.sealer.open(tenantRecord.password_sealed)
  const masterKey = h.env.TENANTD_MASTER_KEY!.split(':')[1]!
  const everything = [...h.logLines, ...responses].join('\n')
  t.notOk(everything.includes(password), 'no tenant password')
  t.notOk(everything.includes(masterKey), 'no master key')
  t.notOk(everything.includes('MARKER-7f3a'), 'no tenant data')
  t.notOk(/sealedKey|v1:test1:/.test(everything), 'no sealed data key')
})
