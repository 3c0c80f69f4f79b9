import { randomUUID } from 'node:crypto'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Backup } from '../http/schemas/backup-schemas.js'
import type { BackupReason, BackupRow, OperationRow } from '../catalog/catalog-schema.js'
import { InvalidTransition, OperationInProgress, TenantNotFound } from '../errors.js'
import { isUuid } from '../uuid.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { backupKey } from './backup-storage.js'
import type { BackupRecords } from './backup-records.js'
import type { BackupTargets } from './backup-targets.js'
import { verifyBackup, type BackupVerifierDeps, type Verification } from './backup-verifier.js'
import { restoreDatabaseNames } from './database-swap.js'
import { assertRestorable, type RestoreParams } from './restore-operation.js'
import { requestRestoreUndo } from './restore-undo-operation.js'
import { tenantdVersion } from './pg-client-tools.js'

export interface BackupServiceDeps extends BackupVerifierDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  operations: OperationRunner
  records: BackupRecords
  targets: BackupTargets
  migrationsDir: string
}

/** Tenants whose database exists and may be backed up (a canceled tenant's data still matters). */
const backupStatuses = new Set(['active', 'suspended', 'canceled'])
const restoreStatuses = new Set(['active', 'suspended'])

/**
 * What the API and CLI ask of backups: back up now, list, show, verify again, restore.
 * Long work runs as durable operations (`backup`, `restore`); this only records and enqueues.
 *
 * @example
 *   const { backup, operation } = await backups.requestBackup('acme', operatorId)
 *   await operations.execute(operation.id)
 */
export class BackupService {
  constructor(private readonly deps: BackupServiceDeps) {}

  /** Records a `running` backup and enqueues its operation, in one transaction. */
  async requestBackup(
    tenantKey: string,
    createdBy?: string | null,
    options: { reason?: BackupReason; slotAt?: Date } = {}
  ): Promise<{ tenant: TenantRecord; backup: BackupRow; operation: OperationRow }> {
    const tenant = await this.deps.tenants.get(tenantKey)
    if (!backupStatuses.has(tenant.status)) {
      throw new InvalidTransition(`tenant ${tenant.slug} is ${tenant.status}; only active, suspended or canceled tenants have a database to back up`)
    }
    const id = randomUUID()
    const createdAt = new Date()
    return this.deps.catalog.transaction().execute(async (trx) => {
      const operation = await this.deps.operations.enqueue('backup', tenant.id, { backupId: id }, createdBy ?? null, trx)
      const backup = await trx
        .insertInto('backups')
        .values({
          id,
          tenant_id: tenant.id,
          operation_id: operation.id,
          host_id: tenant.host_id,
          database_name: tenant.database_name,
          storage_target: this.deps.targets.current.target,
          storage_key: backupKey(tenant.id, id, createdAt),
          tenantd_version: tenantdVersion(),
          created_by: createdBy ?? null,
          created_at: createdAt,
          reason: options.reason ?? 'manual',
          slot_at: options.slotAt ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return { tenant, backup, operation }
    })
  }

  /**
   * A tenant's backups, newest first. A hard-deleted tenant's (its final backup, kept for
   * retention) are listed by its id, the only name it still has.
   */
  async list(tenantKey: string, limit?: number, offset?: number): Promise<{ tenant: { id: string; slug: string }; items: BackupRow[]; total: number }> {
    const tenant = await this.deps.tenants.get(tenantKey).catch(async (error: unknown) => {
      if (!(error instanceof TenantNotFound) || !isUuid(tenantKey)) throw error
      const purged = await this.deps.catalog.selectFrom('tenants').select(['id', 'slug']).where('id', '=', tenantKey).executeTakeFirst()
      if (!purged) throw error
      return purged
    })
    return { tenant, ...(await this.deps.records.list(tenant.id, limit, offset)) }
  }

  async get(tenantKey: string, backupId: string): Promise<{ tenant: TenantRecord; backup: BackupRow }> {
    const tenant = await this.deps.tenants.get(tenantKey)
    return { tenant, backup: await this.deps.records.get(tenant.id, backupId, tenant.slug) }
  }

  /**
   * Reads the backup back and checks it again (checksum, authentication, pg_restore --list);
   * a damaged file becomes `failed` with the reason. Refused while it is being written.
   */
  async verify(tenantKey: string, backupId: string): Promise<{ tenant: TenantRecord; backup: BackupRow; result: Verification }> {
    const { tenant, backup } = await this.get(tenantKey, backupId)
    if (backup.state === 'running') throw new OperationInProgress(`backup ${backup.id} is still being written; verify it once its operation ${backup.operation_id ?? ''} ended`)
    if (backup.state === 'pruned') throw new InvalidTransition(`backup ${backup.id} was pruned; its file is gone`)
    if (backup.sha256 === null) throw new InvalidTransition(`backup ${backup.id} was never completely written (${backup.error ?? 'no file'}); there is nothing to verify`)
    const result = await verifyBackup(this.deps, backup)
    return { tenant, backup: await this.deps.records.byId(backup.id), result }
  }

  /** Checks the backup can be restored, then enqueues the `restore` operation. */
  async requestRestore(tenantKey: string, backupId: string, createdBy?: string | null): Promise<{ tenant: TenantRecord; backup: BackupRow; operation: OperationRow }> {
    const { tenant, backup } = await this.get(tenantKey, backupId)
    if (!restoreStatuses.has(tenant.status)) throw new InvalidTransition(`tenant ${tenant.slug} is ${tenant.status}; reactivate it before restoring`)
    await assertRestorable(backup, this.deps.migrationsDir)
    const names = restoreDatabaseNames(tenant.database_name, new Date())
    const params: RestoreParams = { backupId: backup.id, restoredDatabase: names.restored, previousDatabase: names.previous }
    const operation = await this.deps.operations.enqueue('restore', tenant.id, { ...params }, createdBy ?? null)
    return { tenant, backup, operation }
  }

  /** A backup as the API shows it. */
  toApi(row: BackupRow): Backup {
    return this.deps.records.toApi(row)
  }

  /** The restores that swapped a database in for this tenant, newest first. */
  async restores(tenantId: string) {
    return this.deps.catalog.selectFrom('backup_restores').selectAll().where('tenant_id', '=', tenantId).orderBy('restored_at', 'desc').execute()
  }

  /** Enqueues `restore-undo` of the tenant's last restore; 409 RestoreNotUndoable when its previous database is gone. */
  async requestUndo(tenantKey: string, createdBy?: string | null) {
    return requestRestoreUndo(this.deps, tenantKey, createdBy)
  }
}
