import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow, BackupState } from '../catalog/catalog-schema.js'
import { BackupNotFound } from '../errors.js'
import type { Backup } from '../http/schemas/backup-schemas.js'
import { isUuid } from '../uuid.js'

/**
 * The catalog's `backups` rows: read, list, and the state changes a backup goes through
 * (running → completed → verified, or failed with the reason).
 *
 * @example
 *   const row = await records.get(tenant.id, backupId, tenant.slug)
 *   records.toApi(row).state   // 'verified'
 */
export class BackupRecords {
  constructor(private readonly catalog: CatalogDb) {}

  /** A backup of this tenant; 404 BackupNotFound otherwise (also for another tenant's backup). */
  async get(tenantId: string, backupId: string, tenantName = tenantId): Promise<BackupRow> {
    const row = isUuid(backupId)
      ? await this.catalog.selectFrom('backups').selectAll().where('id', '=', backupId).where('tenant_id', '=', tenantId).executeTakeFirst()
      : undefined
    if (!row) throw new BackupNotFound(tenantName, backupId.slice(0, 60), tenantName)
    return row
  }

  async byId(backupId: string): Promise<BackupRow> {
    const row = await this.catalog.selectFrom('backups').selectAll().where('id', '=', backupId).executeTakeFirst()
    if (!row) throw new Error(`backup ${backupId} is not in the catalog`)
    return row
  }

  async list(tenantId: string, limit = 50, offset = 0): Promise<{ items: BackupRow[]; total: number }> {
    const [items, total] = await Promise.all([
      this.catalog.selectFrom('backups').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').limit(limit).offset(offset).execute(),
      this.catalog.selectFrom('backups').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow(),
    ])
    return { items, total: Number(total.n) }
  }

  async setState(backupId: string, state: BackupState, fields: { error?: string | null; verifiedAt?: Date | null } = {}): Promise<void> {
    await this.catalog
      .updateTable('backups')
      .set({ state, error: fields.error ?? null, ...(fields.verifiedAt !== undefined ? { verified_at: fields.verifiedAt } : {}) })
      .where('id', '=', backupId)
      .execute()
  }

  toApi(row: BackupRow): Backup {
    const iso = (value: Date | null) => (value === null ? null : new Date(value).toISOString())
    return {
      id: row.id,
      tenantId: row.tenant_id,
      state: row.state,
      hostId: row.host_id,
      database: row.database_name,
      storageTarget: row.storage_target,
      storageKey: row.storage_key,
      sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
      sha256: row.sha256,
      dumpBytes: row.dump_bytes === null ? null : Number(row.dump_bytes),
      serverVersion: row.server_version,
      pgDumpVersion: row.pg_dump_version,
      tenantdVersion: row.tenantd_version,
      rowCounts: row.row_counts,
      migrations: row.migrations,
      error: row.error,
      operationId: row.operation_id,
      createdAt: new Date(row.created_at).toISOString(),
      completedAt: iso(row.completed_at),
      verifiedAt: iso(row.verified_at),
      reason: row.reason,
      slotAt: iso(row.slot_at),
      testRestoredAt: iso(row.test_restored_at),
      testRestoreError: row.test_restore_error,
      prunedAt: iso(row.pruned_at),
    }
  }
}
