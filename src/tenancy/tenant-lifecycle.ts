import { randomUUID } from 'node:crypto'
import type { AuditLog } from '../audit/audit-log.js'
import { backupHandler, type BackupOperationDeps } from '../backups/backup-operation.js'
import { backupKey } from '../backups/backup-storage.js'
import { tenantdVersion } from '../backups/pg-client-tools.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow, OperationRow, TenantStatus } from '../catalog/catalog-schema.js'
import { InvalidTransition, ValidationError } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { OperationHandler, OperationRunner, StepContext } from '../operations/operation-runner.js'
import { dropTenantDatabaseAndRole } from '../provisioning/provision-tenant.js'
import type { TenantDirectory, TenantRecord } from './tenant-directory.js'

export interface LifecycleDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  hosts: HostRegistry
  operations: OperationRunner
}

/**
 * Runbook 002's lifecycle: suspend, reactivate, cancel (retention period), delete (soft keeps
 * the database; hard drops database and role). Each transition is a guarded UPDATE, so two
 * operators racing cannot both win, and a refused transition says what would be allowed.
 *
 * @example
 *   await lifecycle.suspend('acme', 'payment failure')
 *   await lifecycle.reactivate('acme')
 */
export class TenantLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  async suspend(key: string, reason?: string): Promise<TenantRecord> {
    return this.#transition(key, ['active'], 'suspended', { status_reason: reason?.trim() || 'suspended by an operator' }, 'only active tenants can be suspended')
  }

  async reactivate(key: string): Promise<TenantRecord> {
    return this.#transition(key, ['suspended', 'canceled', 'deleted'], 'active', { status_reason: null, canceled_at: null, deleted_at: null }, 'only suspended, canceled or soft-deleted tenants can be reactivated')
  }

  async cancel(key: string, retentionDays?: number): Promise<TenantRecord> {
    if (retentionDays !== undefined && (!Number.isInteger(retentionDays) || retentionDays < 0 || retentionDays > 3650)) {
      throw new ValidationError('retentionDays must be a whole number of days from 0 to 3650')
    }
    return this.#transition(
      key,
      ['active', 'suspended'],
      'canceled',
      { status_reason: 'canceled', canceled_at: new Date(), ...(retentionDays !== undefined ? { retention_days: retentionDays } : {}) },
      'only active or suspended tenants can be canceled'
    )
  }

  /** Soft delete: traffic refused, database kept (reactivate brings it back). */
  async softDelete(key: string): Promise<TenantRecord> {
    return this.#transition(key, ['active', 'suspended', 'canceled', 'failed'], 'deleted', { deleted_at: new Date(), status_reason: 'deleted' }, 'this tenant cannot be deleted now')
  }

  /**
   * Hard delete: an operation that takes a final verified backup, then drops the database
   * and the role. Refused unless the tenant was canceled and its retention period has
   * passed, or force is given. `skipFinalBackup` drops without a backup; a tenant whose
   * provisioning failed has no data to keep and gets none either.
   */
  async requestHardDelete(
    key: string,
    force: boolean,
    actorId?: string | null,
    options: { skipFinalBackup?: boolean } = {}
  ): Promise<{ tenant: TenantRecord; operation: OperationRow; finalBackup: boolean }> {
    const tenant = await this.deps.tenants.get(key)
    if (tenant.status === 'provisioning') {
      throw new InvalidTransition(`tenant "${tenant.slug}" is still being provisioned; wait for it, or roll back its operation`)
    }
    if (!force) {
      if (tenant.canceled_at === null) {
        throw new InvalidTransition(`tenant "${tenant.slug}" is ${tenant.status}; hard delete needs it canceled first and its retention period (${tenant.retention_days} days) passed, or force: true`)
      }
      const until = new Date(new Date(tenant.canceled_at).getTime() + tenant.retention_days * 86_400_000)
      if (until.getTime() > Date.now()) {
        throw new InvalidTransition(`tenant "${tenant.slug}" is in its retention period until ${until.toISOString()}; hard delete then, or give force: true`)
      }
    }
    const finalBackup = options.skipFinalBackup !== true && tenant.status !== 'failed'
    const params: DeleteParams = { slug: tenant.slug, force, finalBackup }
    const operation = await this.deps.operations.enqueue('delete', tenant.id, { ...params }, actorId)
    return { tenant, operation, finalBackup }
  }

  async #transition(
    key: string,
    from: TenantStatus[],
    to: TenantStatus,
    fields: Partial<{ status_reason: string | null; canceled_at: Date | null; deleted_at: Date | null; retention_days: number }>,
    rule: string
  ): Promise<TenantRecord> {
    const tenant = await this.deps.tenants.get(key)
    const updated = await this.deps.catalog
      .updateTable('tenants')
      .set({ status: to, ...fields, updated_at: new Date() })
      .where('id', '=', tenant.id)
      .where('status', 'in', from)
      .returning('id')
      .executeTakeFirst()
    if (!updated) throw new InvalidTransition(`tenant "${tenant.slug}" is ${tenant.status}; ${rule}`)
    this.deps.tenants.invalidate(tenant.id)
    return this.deps.tenants.get(tenant.id)
  }
}

export interface DeleteParams {
  slug: string
  force: boolean
  /** Take a final verified backup before dropping anything (absent in operations from before it existed: no). */
  finalBackup?: boolean
}

/** What the final backup before a hard delete needs: the backup operation's writer and verifier. */
export type FinalBackupDeps = Omit<BackupOperationDeps, 'catalog' | 'tenants'> & { audit: AuditLog }

/**
 * The hard-delete operation: closePools (traffic refused, pools evicted) → takeFinalBackup
 * (pg_dump, stored, read back and verified, reason `final`; taken once traffic stopped, so
 * it holds the last write) → dropDatabase → purgeRecord. A final backup that is not verified
 * fails the operation before anything is dropped. The record is purged, not deleted: the
 * slug is free again, and the final backup (whose row references the tenant) stays listed.
 */
export function deleteTenantHandler(deps: LifecycleDeps & { onPurged?: (tenantId: string) => Promise<void>; backups?: FinalBackupDeps }): OperationHandler<DeleteParams> {
  return {
    kind: 'delete',
    steps: [
      {
        name: 'closePools',
        async run(context) {
          const id = context.operation.tenant_id!
          await deps.catalog.updateTable('tenants').set({ status: 'deleted', deleted_at: new Date(), status_reason: 'being deleted', updated_at: new Date() }).where('id', '=', id).execute()
          deps.tenants.invalidate(id)
          await deps.onPurged?.(id)
        },
      },
      {
        name: 'takeFinalBackup',
        async run(context) {
          if (!context.params.finalBackup) {
            context.log.warn({ tenant: context.params.slug }, 'hard delete without a final backup')
            return
          }
          if (!deps.backups) throw new Error('no backup storage is configured for the final backup; delete with skipFinalBackup to drop the tenant without one')
          await takeFinalBackup(deps, deps.backups, context)
        },
      },
      {
        name: 'dropDatabase',
        async run(context) {
          const tenant = await deps.catalog.selectFrom('tenants').selectAll().where('id', '=', context.operation.tenant_id!).executeTakeFirstOrThrow()
          await dropTenantDatabaseAndRole(deps.hosts, tenant)
        },
      },
      {
        name: 'purgeRecord',
        async run(context) {
          const id = context.operation.tenant_id!
          await deps.catalog.updateTable('tenants').set({ status: 'deleted', status_reason: 'hard deleted', purged_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute()
          deps.tenants.invalidate(id)
        },
      },
    ],
  }
}

/**
 * Takes (or, on a retry, finishes) the final backup of the tenant being deleted: one backup
 * row per delete operation, written and verified by the backup operation's own steps, run
 * inside this operation (a tenant has one operation at a time). A verified one from an
 * earlier attempt is kept as it is; a failed one is written again.
 */
async function takeFinalBackup(deps: LifecycleDeps, backups: FinalBackupDeps, context: StepContext<DeleteParams>): Promise<BackupRow> {
  const tenantId = context.operation.tenant_id!
  const existing = await deps.catalog
    .selectFrom('backups')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('operation_id', '=', context.operation.id)
    .where('reason', '=', 'final')
    .executeTakeFirst()
  if (existing?.state === 'verified') return existing
  const row = existing ?? (await recordFinalBackup(deps, backups, tenantId, context.operation))
  const handler = backupHandler({ ...backups, catalog: deps.catalog, tenants: deps.tenants })
  const backupContext: StepContext<{ backupId: string }> = { ...context, params: { backupId: row.id } }
  try {
    for (const step of handler.steps) await step.run(backupContext)
  } catch (error) {
    await handler.onFailure?.(backupContext, error as Error).catch(() => {})
    throw new Error(
      `the final backup ${row.id} of ${context.params.slug} did not verify (${(error as Error).message}); nothing was dropped. ` +
        'Fix the cause and retry the operation, or delete with skipFinalBackup',
      { cause: error }
    )
  }
  const verified = await backups.records.byId(row.id)
  await backups.audit.record({
    actorType: 'system',
    tenantId,
    action: 'backup.final',
    target: context.params.slug,
    details: { backupId: verified.id, sha256: verified.sha256, sizeBytes: verified.size_bytes === null ? null : Number(verified.size_bytes), operationId: context.operation.id },
  })
  context.log.info({ backupId: verified.id }, 'final backup verified')
  return verified
}

async function recordFinalBackup(deps: LifecycleDeps, backups: FinalBackupDeps, tenantId: string, operation: OperationRow): Promise<BackupRow> {
  const tenant = await deps.catalog.selectFrom('tenants').select(['id', 'host_id', 'database_name']).where('id', '=', tenantId).executeTakeFirstOrThrow()
  const id = randomUUID()
  const createdAt = new Date()
  return deps.catalog
    .insertInto('backups')
    .values({
      id,
      tenant_id: tenant.id,
      operation_id: operation.id,
      host_id: tenant.host_id,
      database_name: tenant.database_name,
      storage_target: backups.targets.current.target,
      storage_key: backupKey(tenant.id, id, createdAt),
      tenantd_version: tenantdVersion(),
      created_by: operation.created_by,
      created_at: createdAt,
      reason: 'final',
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}
