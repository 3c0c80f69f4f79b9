import pg from 'pg'
import { escapeIdentifier } from 'pg'
import type { BackupRow } from '../catalog/catalog-schema.js'
import { dropDatabase } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import { streamBackupToPgRestore, type BackupReaderDeps } from './backup-reader.js'
import type { BackupTargets } from './backup-targets.js'
import { compareRowCounts, readInventory } from './database-inventory.js'
import type { PgConnection } from './pg-client-tools.js'

export interface RestoreIntoDeps extends BackupReaderDeps {
  hosts: HostRegistry
  targets: BackupTargets
}

/** Where a backup is restored: a database on a host, owned by (and filled as) one role. */
export interface RestoreTarget {
  hostId: string
  database: string
  role: string
  /** The role's connection to that database (password from its seal, never logged). */
  connection: PgConnection
}

/**
 * Fills `target.database` from a stored backup, from scratch: the database is dropped if an
 * earlier attempt left it, created (template0, owned by the role, CONNECT revoked from
 * PUBLIC), then pg_restore reads the decrypted stream as the role (`--no-owner --no-acl`:
 * every object ends up owned by it, no grants from the dump), in one transaction. Safe to
 * run again after a crash at any point. Only for databases that hold nothing else: a clone's
 * new database, a restore's scratch database.
 *
 * @example
 *   await restoreBackupInto(deps, backup, { hostId, database: 'tenant_acme_copy', role, connection })
 */
export async function restoreBackupInto(deps: RestoreIntoDeps, backup: BackupRow, target: RestoreTarget, onBytes?: (stored: number) => void): Promise<void> {
  const database = escapeIdentifier(target.database)
  await deps.hosts.withAdminClient(target.hostId, async (client) => {
    await dropDatabase(client, target.database)
    await client.query(`CREATE DATABASE ${database} OWNER ${escapeIdentifier(target.role)} ENCODING 'UTF8' TEMPLATE template0`)
    await client.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`)
  })
  await streamBackupToPgRestore(
    deps,
    deps.targets.forTarget(backup.storage_target),
    backup,
    ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${target.database}`],
    target.connection,
    onBytes
  )
  await withClient(target.connection, (client) => client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC'))
}

/**
 * Throws unless every table of the restored database has the rows the backup recorded
 * (counted in the dump's own snapshot), naming the first tables that differ.
 */
export async function assertRowCountsMatch(backup: BackupRow, connection: PgConnection): Promise<void> {
  const { rowCounts } = await withClient(connection, async (client) => {
    await client.query('begin isolation level repeatable read read only')
    const inventory = await readInventory(client)
    await client.query('commit')
    return inventory
  })
  const differences = compareRowCounts(backup.row_counts ?? {}, rowCounts)
  if (differences.length) {
    throw new Error(`the restored database does not match the backup's row counts (${differences.slice(0, 5).join('; ')})`)
  }
}

/** The modules a backup's database had installed: the non-base scopes of its migrations. */
export function backupModules(backup: Pick<BackupRow, 'migrations'>): string[] {
  return [...new Set((backup.migrations ?? []).map((m) => m.scope).filter((scope) => scope !== 'base'))].sort()
}

async function withClient<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 5_000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}
