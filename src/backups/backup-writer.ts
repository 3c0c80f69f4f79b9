import { spawn } from 'node:child_process'
import { pipeline, Transform } from 'node:stream'
import pg from 'pg'
import type { BackupRow } from '../catalog/catalog-schema.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { tenantClientConfig } from '../tenancy/tenant-connection.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { createBackupEncryptor } from './backup-cipher.js'
import type { BackupStorage } from './backup-storage.js'
import { createDigestStream } from './byte-digest-stream.js'
import { readInventory, type DatabaseInventory } from './database-inventory.js'
import { notTheTenantsHint, pgToolEnv, pgToolPath, pgToolVersion, stderrTail } from './pg-client-tools.js'

export interface BackupWriterDeps {
  sealer: SecretSealer
  pgBinDir: string | undefined
  /** pg_dump's zlib level (TENANTD_BACKUP_COMPRESS_LEVEL); default 1. */
  compressLevel?: number
}

/** What a finished write recorded about the backup. */
export interface WrittenBackup extends DatabaseInventory {
  sizeBytes: number
  sha256: string
  dumpBytes: number
  pgDumpVersion: string
  /** The data key sealed by the keyring, as in the file's header (the catalog keeps a copy for key rotation). */
  dataKeySealed: string
}

/**
 * Dumps one tenant database into storage: `pg_dump -Fc` (as the tenant's role, password in
 * PGPASSWORD) → encryption with a fresh data key → SHA-256 → the storage target, as one
 * stream: no copy on disk, no whole dump in memory. The row counts and migrations are read
 * in a REPEATABLE READ transaction whose snapshot pg_dump imports (--snapshot), so they
 * describe exactly the data in the dump, however busy the tenant is meanwhile.
 *
 * @example
 *   const written = await writeBackup(deps, storage, tenant, row, (done, estimate) => progress(done / estimate))
 */
export async function writeBackup(
  deps: BackupWriterDeps,
  storage: BackupStorage,
  tenant: TenantRecord,
  backup: BackupRow,
  onProgress: (dumpBytes: number, estimatedBytes: number) => void
): Promise<WrittenBackup> {
  const connection = tenantClientConfig(tenant, deps.sealer)
  const client = new pg.Client({ ...connection, application_name: 'tenantd-backup' })
  client.on('error', () => {})
  await client.connect()
  try {
    // The transaction stays open until pg_dump is done: an exported snapshot lives only as
    // long as the transaction that exported it. Both in one round trip.
    const opened = (await client.query('begin isolation level repeatable read read only; select pg_export_snapshot() as id')) as unknown as pg.QueryResult[]
    const snapshot = String(opened[1]!.rows[0]!.id)

    const pgDump = pgToolPath(deps.pgBinDir, 'pg_dump')
    const pgDumpVersion = await pgToolVersion(pgDump)
    // node:child_process rather than execa: a backup is one process start, and execa's
    // machinery around it costs more CPU than the start itself (~4 ms against ~2 ms).
    // Level 1 by default: a third of level 6's CPU for files about 6 % larger (docs/benchmarks.md "Backups").
    const child = spawn(pgDump, ['--format=custom', `--compress=${deps.compressLevel ?? 1}`, `--snapshot=${snapshot}`, '--no-password'], {
      env: pgToolEnv({ host: connection.host!, port: connection.port!, database: tenant.database_name, user: connection.user, password: connection.password }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<Error | undefined>((resolve) => {
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr = (stderr + text).slice(-16 * 1024)
      })
      const fail = (detail: string) => new Error(`pg_dump of ${tenant.database_name} failed ${detail}`)
      child.once('error', (error) => resolve(fail(`(exit code ?): ${error.message}`)))
      child.once('close', (code, signal) =>
        resolve(code === 0 ? undefined : fail(`(exit code ${code ?? '?'}): ${stderrTail(stderr) || `${pgDump} ${signal ? `killed by ${signal}` : `exited with ${code}`}`}${notTheTenantsHint(stderr, tenant.role_name)}`))
      )
    })
    // pg_database_size only sizes the progress bar: asked while pg_dump starts, not before.
    let estimate = Number.POSITIVE_INFINITY
    // The row counts are read while pg_dump runs, on this connection, in the snapshot pg_dump
    // dumps: the counts scan every table, and doing that alongside the dump instead of before
    // it takes it off the backup's wall time. A failed count stops the dump.
    let inventory: DatabaseInventory | undefined
    const counted = client
      .query<{ n: string }>('select pg_database_size(current_database()) as n')
      .then((size) => {
        estimate = Number(size.rows[0]!.n)
        return readInventory(client)
      })
      .then(
        (read) => {
          inventory = read
          return undefined
        },
        (error: Error) => {
          child.kill()
          return new Error(`reading the row counts of ${tenant.database_name} failed: ${error.message}${notTheTenantsHint(error.message, tenant.role_name)}`, { cause: error })
        }
      )
    // pg_dump's stdout ends before its exit status is known. Hold the end of the stream until
    // it is (and until the counts are read): a pg_dump that failed half-way must fail the
    // write, not store a short dump under a valid final record. Counts the plain bytes on the way.
    let dumpBytes = 0
    const gate = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        dumpBytes += chunk.length
        onProgress(dumpBytes, estimate)
        callback(null, chunk)
      },
      flush(callback) {
        void Promise.all([counted, exited]).then(([countError, dumpError]) => callback(countError ?? dumpError))
      },
    })
    const stored = createDigestStream()
    // An error anywhere in the chain destroys `body`, which fails storage.write with it.
    const encryptor = createBackupEncryptor(deps.sealer, { tenantId: tenant.id, backupId: backup.id })
    const body = pipeline(child.stdout, gate, encryptor, stored, () => {})
    try {
      await storage.write(backup.storage_key, body)
    } catch (error) {
      child.kill()
      throw error
    }
    const failure = (await counted) ?? (await exited)
    if (failure || !inventory) throw failure ?? new Error(`no row counts for ${tenant.database_name}`)
    await client.query('commit')
    return { ...inventory, sizeBytes: stored.bytes, sha256: stored.digest(), dumpBytes, pgDumpVersion, dataKeySealed: encryptor.sealedKey }
  } finally {
    await client.end().catch(() => {})
  }
}
