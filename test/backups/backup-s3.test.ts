import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import S3rver from 's3rver'
import t from 'tap'
import { startHarness } from '../helpers/harness.js'
import { damageData, databasesLike, filesUnder, fingerprint, seedTenant } from './backup-test-helpers.js'

// A real S3-compatible server on loopback (not a mock of the client): multipart uploads, GETs.
const s3Dir = await mkdtemp(path.join(tmpdir(), 'tenantd-s3-'))
t.teardown(() => rm(s3Dir, { recursive: true, force: true }))
const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: 'tenantd-backups' }] })
const { port } = await s3.run()
t.teardown(() => s3.close())

const h = await startHarness(t, {
  env: {
    TENANTD_BACKUP_STORAGE: 's3://tenantd-backups/prod/eu',
    TENANTD_BACKUP_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    TENANTD_BACKUP_S3_ACCESS_KEY_ID: 'S3RVER',
    TENANTD_BACKUP_S3_SECRET_ACCESS_KEY: 'S3RVER',
  },
})
const tenant = await h.provision({ name: 'Initech', slug: 'initech', modules: ['price-basket'] })
await seedTenant(h, tenant.database, 'MARKER-s3')
// Hard-to-compress rows: a dump over the 8 MiB part size, so the upload is multipart.
await h.cluster.query(
  `insert into settings (key, value) select 'bulk-' || i, to_jsonb(md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text)) from generate_series(1, 160000) i`,
  [],
  tenant.database
)
const before = await fingerprint(h, tenant.database)

t.test('round trip through S3-compatible storage', async (t) => {
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/initech/backups?wait=true' })
  t.equal(res.statusCode, 201, res.body)
  const backup = res.json().backup
  t.equal(backup.state, 'verified')
  t.equal(backup.storageTarget, 's3://tenantd-backups/prod/eu')
  t.ok(backup.sizeBytes > 8 * 1024 * 1024, `a multipart-sized backup (${backup.sizeBytes} bytes)`)

  // The object is in the bucket under the prefix, encrypted; no S3 credentials in the reply.
  const stored = (await filesUnder(s3Dir)).filter((f) => f.includes(backup.storageKey.split('/').pop()!) && !f.includes('metadata'))
  t.ok(stored.length >= 1, 'the object is in the bucket')
  t.ok(stored.some((f) => f.includes(`prod/eu/${path.dirname(backup.storageKey)}`)), 'under the configured prefix')
  const object = await readFile(stored.find((f) => !f.endsWith('.json'))!)
  t.notOk(object.includes(Buffer.from('MARKER-s3')), 'no plaintext in the object')
  t.notOk(res.body.includes('S3RVER'), 'no S3 credentials in the reply')

  await damageData(h, tenant.database)
  const restored = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/initech/restore?wait=true', payload: { backupId: backup.id } })
  t.equal(restored.statusCode, 200, restored.body)
  t.same(await fingerprint(h, tenant.database), before, 'identical row counts and checksums per table')
  t.same(await databasesLike(h, `${tenant.database}_%`), [restored.json().restore.previousDatabase])
})

t.test('a missing object is reported, not a 500', async (t) => {
  const res = await h.asAdmin({ method: 'POST', url: '/api/admin/tenants/initech/backups?wait=true' })
  const backup = res.json().backup
  await h.tenantd.catalog.db.updateTable('backups').set({ storage_key: `${backup.storageKey}.gone` }).where('id', '=', backup.id).execute()
  const verify = await h.asAdmin({ method: 'POST', url: `/api/admin/tenants/initech/backups/${backup.id}/verify` })
  t.equal(verify.statusCode, 200)
  t.equal(verify.json().ok, false)
  t.match(verify.json().reason, /not in s3:\/\/tenantd-backups\/prod\/eu/)
})
