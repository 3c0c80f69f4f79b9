import { pipeline } from 'node:stream'
import { Transform } from 'node:stream'
import { execa } from 'execa'
import pg from 'pg'
import type { BackupRow } from '../catalog/catalog-schema.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { tenantClientConfig } from '../tenancy/tenant-connection.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { createBackupEncryptor } from './backup-cipher.js'
import type { BackupStorage } from './backup-storage.js'
import { createDigestStream } from './byte-digest-stream.js'
import { readInventory, type DatabaseInventory } from './database-inventory.js'
import { pgToolEnv, pgToolPath, pgToolVersion, stderrTail } from './pg-client-tools.js'

export interface BackupWriterDeps {
  sealer: SecretSealer
  pgBinDir: string | undefined
}

/** What a finished write recorded about the backup. */
export interface WrittenBackup extends DatabaseInventory {
  sizeBytes: number
  sha256: string
  dumpBytes: number
  pgDumpVersion: string
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
    // long as the transaction that exported it.
    await client.query('begin isolation level repeatable read read only')
    const snapshot = (await client.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]!.id
    const inventory = await readInventory(client)
    const estimate = Number((await client.query<{ n: string }>('select pg_database_size(current_database()) as n')).rows[0]!.n)

    const pgDump = pgToolPath(deps.pgBinDir, 'pg_dump')
    const pgDumpVersion = await pgToolVersion(pgDump)
    const child = execa(pgDump, ['--format=custom', `--snapshot=${snapshot}`, '--no-password'], {
      env: pgToolEnv({ host: connection.host!, port: connection.port!, database: tenant.database_name, user: tenant.role_name, password: connection.password }),
      extendEnv: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: { stdout: false, stderr: true },
    })
    const exited = child.then(
      () => undefined,
      (error: { exitCode?: number; stderr?: unknown; message?: string }) =>
        new Error(`pg_dump of ${tenant.database_name} failed (exit code ${error.exitCode ?? '?'}): ${stderrTail(error.stderr) || error.message?.split('\n')[0]}`)
    )
    // pg_dump's stdout ends before its exit status is known. Hold the end of the stream until
    // it is: a pg_dump that failed half-way must fail the write, not store a short dump
    // under a valid final record.
    const gate = new Transform({
      transform(chunk, _encoding, callback) {
        callback(null, chunk)
      },
      flush(callback) {
        void exited.then((error) => callback(error))
      },
    })
    const plain = createDigestStream((bytes) => onProgress(bytes, estimate))
    const stored = createDigestStream()
    // An error anywhere in the chain destroys `body`, which fails storage.write with it.
    const body = pipeline(child.stdout, gate, plain, createBackupEncryptor(deps.sealer, { tenantId: tenant.id, backupId: backup.id }), stored, () => {})
    try {
      await storage.write(backup.storage_key, body)
    } catch (error) {
      child.kill()
      throw error
    }
    const failure = await exited
    if (failure) throw failure
    await client.query('commit')
    return { ...inventory, sizeBytes: stored.bytes, sha256: stored.digest(), dumpBytes: plain.bytes, pgDumpVersion }
  } finally {
    await client.end().catch(() => {})
  }
}
