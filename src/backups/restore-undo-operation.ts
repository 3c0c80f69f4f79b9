import type { AuditLog } from '../audit/audit-log.js'
import type { BackupRestoreRow, OperationRow } from '../catalog/catalog-schema.js'
import { InvalidTransition, RestoreNotUndoable } from '../errors.js'
import type { OperationHandler, OperationRunner, StepContext } from '../operations/operation-runner.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { databaseExists, swapState, undoneDatabaseName } from './database-swap.js'
import { revertSwap, swapUnderFreeze, unfreezeTenant, type SwapDeps } from './restore-operation.js'

export interface RestoreUndoDeps extends SwapDeps {
  audit: AuditLog
}

export interface RestoreUndoParams {
  /** The backup_restores row whose kept database comes back. */
  restoreId: string
  /** The kept database (`<db>_pre_restore_<ts>`) swapped back in. */
  keptDatabase: string
  /** What the database in use now is renamed to and kept as, in the same row, until the restore's keep time ends. */
  displacedDatabase: string
}

const iso = (value: Date | string) => new Date(value).toISOString()

function dropped(tenant: Pick<TenantRecord, 'slug'>, row: BackupRestoreRow): InstanceType<typeof RestoreNotUndoable> {
  return new RestoreNotUndoable(
    `the database ${tenant.slug} had before its restore of ${iso(row.restored_at)} was dropped at ${iso(row.previous_dropped_at!)} ` +
      `(kept TENANTD_RESTORE_KEEP_HOURS after a restore); there is nothing to swap back. Restore a backup instead: \`tenantctl backup list ${tenant.slug}\``
  )
}

/**
 * Checks a tenant's last restore can be undone (its previous database still kept) and
 * enqueues the `restore-undo` operation. 409 RestoreNotUndoable when there was no restore or
 * its kept database was dropped.
 *
 * @example
 *   const { operation } = await requestRestoreUndo(deps, 'acme', operatorId)
 *   await operations.execute(operation.id)
 */
export async function requestRestoreUndo(
  deps: Pick<SwapDeps, 'catalog' | 'tenants'> & { operations: OperationRunner },
  tenantKey: string,
  createdBy?: string | null
): Promise<{ tenant: TenantRecord; restore: BackupRestoreRow; operation: OperationRow }> {
  const tenant = await deps.tenants.get(tenantKey)
  if (tenant.status !== 'active' && tenant.status !== 'suspended') throw new InvalidTransition(`tenant ${tenant.slug} is ${tenant.status}; reactivate it before undoing a restore`)
  const restore = await deps.catalog.selectFrom('backup_restores').selectAll().where('tenant_id', '=', tenant.id).orderBy('restored_at', 'desc').orderBy('id').limit(1).executeTakeFirst()
  if (!restore) throw new RestoreNotUndoable(`tenant ${tenant.slug} was never restored; there is nothing to undo`)
  if (restore.previous_dropped_at !== null) throw dropped(tenant, restore)
  const params: RestoreUndoParams = { restoreId: restore.id, keptDatabase: restore.previous_database, displacedDatabase: undoneDatabaseName(tenant.database_name, new Date()) }
  const operation = await deps.operations.enqueue('restore-undo', tenant.id, { ...params }, createdBy ?? null)
  return { tenant, restore, operation }
}

/**
 * The `restore-undo` operation: checkKeptDatabase → swapDatabase. The kept database of the
 * tenant's last restore is swapped back in, under the same freeze as a restore, and the
 * database in use until then is kept in its place (`<db>_undone_<ts>`, same row, same keep
 * time; undoing again swaps it back). The swap runs while the restore's row is locked
 * (FOR UPDATE), so the timed cleanup, which skips locked rows, never drops the database
 * being swapped; one it dropped first is refused with 409. A failure or rollback leaves
 * the tenant on the database it had before the undo.
 *
 * @example
 *   operations.register(restoreUndoHandler(deps))
 */
export function restoreUndoHandler(deps: RestoreUndoDeps): OperationHandler<RestoreUndoParams> {
  const names = (params: RestoreUndoParams) => ({ restored: params.keptDatabase, previous: params.displacedDatabase })
  const revert = async (context: StepContext<RestoreUndoParams>) => {
    await revertSwap(deps, context.operation.tenant_id!, names(context.params), 'restore-undo', false)
    // The row names the database kept again: the one this undo would have brought back.
    await deps.catalog
      .updateTable('backup_restores')
      .set({ previous_database: context.params.keptDatabase })
      .where('id', '=', context.params.restoreId)
      .where('previous_database', '=', context.params.displacedDatabase)
      .execute()
  }

  return {
    kind: 'restore-undo',
    steps: [
      {
        name: 'checkKeptDatabase',
        async run(context) {
          const tenant = await deps.tenants.get(context.operation.tenant_id!)
          const row = await deps.catalog.selectFrom('backup_restores').selectAll().where('id', '=', context.params.restoreId).executeTakeFirstOrThrow()
          if (row.previous_dropped_at !== null) throw dropped(tenant, row)
          if (row.previous_database === context.params.displacedDatabase) return
          const state = await deps.hosts.withAdminClient(tenant.host_id, (client) => swapState(client, names(context.params)))
          if (state === 'neither') {
            throw new RestoreNotUndoable(`the kept database ${context.params.keptDatabase} is no longer on host ${tenant.host_name}; there is nothing to swap back`)
          }
        },
      },
      {
        name: 'swapDatabase',
        async run(context) {
          const tenant = await deps.tenants.get(context.operation.tenant_id!)
          const { keptDatabase, displacedDatabase } = context.params
          await deps.catalog.transaction().execute(async (trx) => {
            // Held through the swap: the cleanup (FOR UPDATE SKIP LOCKED) leaves this row alone meanwhile.
            const row = await trx.selectFrom('backup_restores').selectAll().where('id', '=', context.params.restoreId).forUpdate().executeTakeFirstOrThrow()
            if (row.previous_dropped_at !== null) throw dropped(tenant, row)
            if (row.previous_database === displacedDatabase) return
            if (!(await deps.hosts.withAdminClient(tenant.host_id, async (client) => (await databaseExists(client, keptDatabase)) || (await databaseExists(client, displacedDatabase))))) {
              throw new RestoreNotUndoable(`the kept database ${keptDatabase} is no longer on host ${tenant.host_name}; there is nothing to swap back`)
            }
            await swapUnderFreeze(deps, tenant, names(context.params), 'restore-undo')
            await trx.updateTable('backup_restores').set({ previous_database: displacedDatabase }).where('id', '=', row.id).execute()
          })
          await unfreezeTenant(deps, tenant.id, 'restore-undo')
          await deps.evictPools(tenant.id)
          await deps.audit.record({
            actorType: 'system',
            tenantId: tenant.id,
            action: 'tenant.restore_undone',
            target: tenant.slug,
            details: { restoreId: context.params.restoreId, database: tenant.database_name, restoredFrom: keptDatabase, keptAs: displacedDatabase, operationId: context.operation.id },
          })
        },
      },
    ],
    async onFailure(context) {
      await revert(context)
    },
    async rollback(context) {
      await revert(context)
    },
  }
}
