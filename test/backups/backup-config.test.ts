import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

const base = { TENANTD_DATA_DIR: '/var/lib/tenantd' }

t.test('backup storage defaults to the data dir and accepts file:// and s3://', async (t) => {
  t.same(loadConfig(base).backupStorage, { kind: 'file', directory: '/var/lib/tenantd/backups' })
  t.same(loadConfig({ ...base, TENANTD_BACKUP_STORAGE: 'file:///srv/backups' }).backupStorage, { kind: 'file', directory: '/srv/backups' })
  const s3 = loadConfig({ ...base, TENANTD_BACKUP_STORAGE: 's3://my-bucket/tenantd/prod/', TENANTD_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:9000', TENANTD_BACKUP_S3_ACCESS_KEY_ID: 'a', TENANTD_BACKUP_S3_SECRET_ACCESS_KEY: 'b' }).backupStorage
  t.match(s3, { kind: 's3', bucket: 'my-bucket', prefix: 'tenantd/prod', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true })
  t.match(loadConfig({ ...base, TENANTD_BACKUP_STORAGE: 's3://my-bucket' }).backupStorage, { prefix: '', forcePathStyle: false, endpoint: undefined })
  t.equal(loadConfig(base).backupCompressLevel, 1, "pg_dump's zlib level 1 by default")
  t.equal(loadConfig({ ...base, TENANTD_BACKUP_COMPRESS_LEVEL: '6' }).backupCompressLevel, 6)
})

t.test('bad backup settings stop the start naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ TENANTD_BACKUP_STORAGE: 'relative/dir' }, 'TENANTD_BACKUP_STORAGE'],
    [{ TENANTD_BACKUP_STORAGE: 's3://Bad_Bucket' }, 'TENANTD_BACKUP_STORAGE'],
    [{ TENANTD_BACKUP_STORAGE: 's3://bucket', TENANTD_BACKUP_S3_ENDPOINT: 'ftp://x' }, 'TENANTD_BACKUP_S3_ENDPOINT'],
    [{ TENANTD_BACKUP_STORAGE: 's3://bucket', TENANTD_BACKUP_S3_ENDPOINT: 'http://key:secret@x' }, 'TENANTD_BACKUP_S3_ENDPOINT'],
    [{ TENANTD_BACKUP_STORAGE: 's3://bucket', TENANTD_BACKUP_S3_ACCESS_KEY_ID: 'only-one' }, 'TENANTD_BACKUP_S3_SECRET_ACCESS_KEY'],
    [{ TENANTD_BACKUP_STORAGE: 's3://bucket', TENANTD_BACKUP_S3_FORCE_PATH_STYLE: 'maybe' }, 'TENANTD_BACKUP_S3_FORCE_PATH_STYLE'],
    [{ TENANTD_BACKUP_COMPRESS_LEVEL: '10' }, 'TENANTD_BACKUP_COMPRESS_LEVEL'],
  ]
  for (const [env, variable] of bad) {
    let caught: unknown
    try {
      loadConfig({ ...base, ...env })
    } catch (error) {
      caught = error
    }
    t.ok(caught instanceof ConfigError && caught.variable === variable && !caught.message.includes('secret'), `${variable}: ${String(caught)}`)
  }
})
