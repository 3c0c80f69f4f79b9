import type { Readable } from 'node:stream'

/**
 * Where backup files go: a local directory (`file:///var/lib/tenantd/backups`) or an
 * S3-compatible bucket (`s3://bucket/prefix`). See README "Backups" for the variables.
 */
export type BackupStorageConfig =
  | { kind: 'file'; directory: string }
  | {
      kind: 's3'
      bucket: string
      /** Key prefix without leading or trailing slash; '' for the bucket root. */
      prefix: string
      /** e.g. http://127.0.0.1:9000 for MinIO; undefined means AWS. */
      endpoint: string | undefined
      region: string
      /** Both or neither; neither means the AWS SDK's default chain (env, profile, IAM role). */
      accessKeyId: string | undefined
      secretAccessKey: string | undefined
      forcePathStyle: boolean
    }

/** The recorded address of a storage target: never holds credentials. */
export function storageTarget(config: BackupStorageConfig): string {
  if (config.kind === 'file') return `file://${config.directory}`
  return `s3://${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`
}

/**
 * A place backup files are written to and read from. `write` makes the object visible under
 * `key` only once every byte is stored (a temporary name and a rename, or a multipart upload
 * that completes), so a crash never leaves a half file under a real name.
 *
 * @example
 *   await storage.write('tenants/<id>/<backupId>.tdbk', encryptedStream)
 *   const back = await storage.read('tenants/<id>/<backupId>.tdbk')
 */
export interface BackupStorage {
  /** `file:///dir` or `s3://bucket/prefix`, as recorded in the catalog. */
  readonly target: string
  write(key: string, body: Readable): Promise<void>
  read(key: string): Promise<Readable>
  /** Deletes the object; one that is not there counts as deleted (retention retries deletes). */
  remove(key: string): Promise<void>
  /** Lets go of clients and sockets. */
  close(): void
}

/** The object key of a backup: under the tenant's id, so one tenant's files are one listing. */
export function backupKey(tenantId: string, backupId: string, createdAt: Date): string {
  const stamp = createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `tenants/${tenantId}/${stamp}-${backupId}.tdbk`
}
