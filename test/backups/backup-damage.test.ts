import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { databasesLike, fingerprint, seedTenant } from './backup-test-helpers.js'

const backupDir = await mkdtemp(path.join(tmpdir(), 'tenantd-backups-'))
t.teardown(() => rm(backupDir, { recursive: true, force: true }))
const h = await startHarness(t, { env: { TENANTD_BACKUP_STORAGE: backupDir } })
const acme = await h.provision({ name: 'Acme', slug: 'acme', modules: ['price-basket'] })
const globex = await h.provision({ name: 'Globex', slug: 'globex', modules: ['price-basket'] })
await seedTenant(h, acme.database, 'acme')
await seedTenant(h, globex.database, 'globex')

async function backup(slug: string) {
  const res = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/backups?wait=true` })
  if (res.statusCode !== 201) throw new Error(`backup of ${slug}: ${res.statusCode} ${res.body}`)
  return res.json().backup as { id: string; storageKey: string; sizeBytes: number; state: string }
}
const verify = (slug: string, id: string) => h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/backups/${id}/verify` })
const restore = (slug: string, backupId: string) => h.asAdmin({ method: 'POST', url: `/api/admin/tenants/${slug}/restore?wait=true`, payload: { backupId } })
const fileOf = (b: { storageKey: string }) => path.join(backupDir, b.storageKey)

t.test('a truncated file is detected, marked failed and refused for restore', async (t) => {
  const b = await backup('acme')
  await truncate(fileOf(b), b.sizeBytes - 100)
  const res = await verify('acme', b.id)
  t.equal(res.statusCode, 200)
  t.equal(res.json().ok, false)
  t.match(res.json().reason, /truncated/)
  t.equal(res.json().backup.state, 'failed')
  t.match(res.json().backup.error, /verification failed: .*truncated/)
  const refused = await restore('acme', b.id)
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().error, 'BackupNotRestorable')
})

t.test('a flipped bit is detected, marked failed and refused for restore', async (t) => {
  const b = await backup('acme')
  const bytes = await readFile(fileOf(b))
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01
  await writeFile(fileOf(b), bytes)
  const res = await verify('acme', b.id)
  t.equal(res.json().ok, false)
  t.match(res.json().reason, /failed authentication/)
  t.equal(res.json().backup.state, 'failed')
  t.equal((await restore('acme', b.id)).statusCode, 409)
})

t.test("another tenant's file swapped in under this name is detected and refused", async (t) => {
  const mine = await backup('acme')
  const theirs = await backup('globex')
  await copyFile(fileOf(theirs), fileOf(mine))
  const res = await verify('acme', mine.id)
  t.equal(res.json().ok, false)
  t.match(res.json().reason, new RegExp(`backup ${theirs.id} of tenant ${globex.id}, not backup ${mine.id} of tenant ${acme.id}`))
  t.equal((await restore('acme', mine.id)).statusCode, 409)
  // Another tenant's backup id is not found for this tenant at all.
  const foreign = await restore('acme', theirs.id)
  t.equal(foreign.statusCode, 404)
  t.equal(foreign.json().error, 'BackupNotFound')
})

t.test('a file damaged after verification fails the restore; the tenant keeps its database, nothing stray', async (t) => {
  const b = await backup('acme')
  const before = await fingerprint(h, acme.database)
  const bytes = await readFile(fileOf(b))
  bytes[bytes.length - 40]! ^= 0x80
  await writeFile(fileOf(b), bytes)
  const res = await restore('acme', b.id)
  t.equal(res.statusCode, 409, res.body)
  t.equal(res.json().error, 'OperationFailed')
  t.match(res.json().message, /restoreDatabase.*authentication|truncated/)
  t.same(await fingerprint(h, acme.database), before, 'data untouched')
  t.same(await databasesLike(h, `${acme.database}_%`), [], 'no half-restored database left')
})

t.test('row counts that do not match fail the restore before the swap; nothing stray', async (t) => {
  const b = await backup('acme')
  const before = await fingerprint(h, acme.database)
  // As if the dump had lost rows: the recorded counts say there were more.
  await h.tenantd.catalog.db
    .updateTable('backups')
    .set({ row_counts: JSON.stringify({ ...(await h.tenantd.backups.get('acme', b.id)).backup.row_counts, 'public.cp_fornecedores': 61 }) })
    .where('id', '=', b.id)
    .execute()
  const res = await restore('acme', b.id)
  t.equal(res.statusCode, 409)
  t.match(res.json().message, /compareRowCounts.*public\.cp_fornecedores: 61 recorded, 60 restored/)
  t.same(await fingerprint(h, acme.database), before)
  t.same(await databasesLike(h, `${acme.database}_%`), [])
  const served = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/test-connection' })
  t.equal(served.json().ok, true, 'the tenant still reaches its database')
})

t.test('a backup taken with migrations this code does not know is refused with a clear 409', async (t) => {
  const b = await backup('acme')
  const row = (await h.tenantd.backups.get('acme', b.id)).backup
  await h.tenantd.catalog.db
    .updateTable('backups')
    .set({ migrations: JSON.stringify([...(row.migrations ?? []), { scope: 'base', name: '0099_future.sql' }]) })
    .where('id', '=', b.id)
    .execute()
  const res = await restore('acme', b.id)
  t.equal(res.statusCode, 409)
  t.equal(res.json().error, 'BackupNewerThanCode')
  t.match(res.json().message, /base\/0099_future\.sql/)
})

t.test('bad input gets a clear 4xx', async (t) => {
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/acme/backups/not-a-uuid' })).statusCode, 404)
  t.equal((await h.asAdmin({ method: 'GET', url: '/api/admin/tenants/nope/backups' })).statusCode, 404)
  t.equal((await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/restore', payload: {} })).statusCode, 400)
  t.equal((await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/acme/restore', payload: { backupId: 'x', extra: 1 } })).statusCode, 400)
  t.equal((await h.app.inject({ method: 'POST', url: '/api/admin/tenants/acme/backups' })).statusCode, 401)
})
