import { randomBytes } from 'node:crypto'
import pg, { escapeIdentifier } from 'pg'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow } from '../catalog/catalog-schema.js'
import { dropDatabase } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import { tenantClientConfig } from '../tenancy/tenant-connection.js'
import type { TenantDirectory } from '../tenancy/tenant-directory.js'
import { streamBackupToPgRestore, type BackupReaderDeps } from './backup-reader.js'
import type { BackupTargets } from './backup-targets.js'
import { compareRowCounts, readInventory } from './database-inventory.js'

export interface TestRestoreDeps extends BackupReaderDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  hosts: HostRegistry
  targets: BackupTargets
  audit: AuditLog
}

export interface TestRestoreResult {
  ok: boolean
  /** Why the backup is not restorable (it is marked failed with this reason). */
  reason?: string
  /** The scratch database it was restored into (dropped again). */
  scratch: string
}

/** Scratch databases carry this in their name, so a leftover one is recognisable (and droppable) by name. */
export const scratchMarker = '_testrestore_'

/**
 * Proves a backup restores: pg_restore of the stored file into a scratch database on the
 * tenant's host (owned by the tenant's role, like a real restore), every table's row count
 * compared with the counts recorded in the backup's snapshot, and the scratch database
 * dropped whatever happened. A backup that does not restore, or restores different data, is
 * marked `failed` with the reason and is never offered for restore.
 *
 * @example
 *   const result = await testRestoreBackup(deps, backup)
 *   result.ok   // true, and backups.test_restored_at is set
 */
export async function testRestoreBackup(deps: TestRestoreDeps, backup: BackupRow): Promise<TestRestoreResult> {
  const tenant = await deps.tenants.get(backup.tenant_id)
  const scratch = `${tenant.database_name.slice(0, 63 - scratchMarker.length - 8)}${scratchMarker}${randomBytes(4).toString('hex')}`
  const connection = tenantClientConfig(tenant, deps.sealer)
  const scratchConnection = { host: connection.host!, port: connection.port!, database: scratch, user: connection.user, password: connection.password, connectionTimeoutMillis: 5_000 }
  let reason: string | undefined
  try {
    await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
      await client.query(`CREATE DATABASE ${escapeIdentifier(scratch)} OWNER ${escapeIdentifier(tenant.role_name)} ENCODING 'UTF8' TEMPLATE template0`)
      await client.query(`REVOKE ALL ON DATABASE ${escapeIdentifier(scratch)} FROM PUBLIC`)
    })
    try {
      await streamBackupToPgRestore(
        deps,
        deps.targets.forTarget(backup.storage_target),
        backup,
        ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${scratch}`],
        scratchConnection
      )
      const client = new pg.Client(scratchConnection)
      client.on('error', () => {})
      await client.connect()
      try {
        const { rowCounts } = await readInventory(client)
        const differences = compareRowCounts(backup.row_counts ?? {}, rowCounts)
        if (differences.length) reason = `test restore: the restored rows differ from those recorded (${differences.slice(0, 5).join('; ')})`
      } finally {
        await client.end().catch(() => {})
      }
    } catch (error) {
      reason = `test restore: ${(error as Error).message.split('\n')[0]!.slice(0, 500)}`
    }
  } finally {
    // Always: a scratch database must never outlive its check.
    await deps.hosts
      .withAdminClient(tenant.host_id, (client) => dropDatabase(client, scratch))
      .catch(() => {})
  }

  const now = new Date()
  await deps.catalog
    .updateTable('backups')
    .set({ test_restored_at: now, test_restore_error: reason ?? null, ...(reason ? { state: 'failed', error: reason } : {}) })
    .where('id', '=', backup.id)
    .execute()
  if (reason) {
    await deps.audit
      .record({ actorType: 'system', tenantId: tenant.id, action: 'backup.test_restore_failed', target: tenant.slug, details: { backupId: backup.id, error: reason } })
      .catch(() => {})
  }
  return { ok: reason === undefined, reason, scratch }
}
