import { dropDatabase } from '../hosts/database-sessions.js'
import { PeriodicSweep } from '../operations/periodic-sweep.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { Logger } from '../logger.js'

export interface RestoreCleanupDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  audit: AuditLog
  log: Logger
  /** TENANTD_RESTORE_KEEP_HOURS: how long after a restore its previous database is kept for undo. */
  keepHours: number
  /** How often to look for expired kept databases (default 10 minutes). */
  intervalMs?: number
}

/**
 * Drops the databases restores kept for undo (`<db>_pre_restore_<ts>`, or `<db>_undone_<ts>`
 * after an undo) once TENANTD_RESTORE_KEEP_HOURS have passed since the restore, and records
 * `backup_restores.previous_dropped_at` (audit `restore.previous_dropped`).
 *
 * Safe with several replicas: each row is claimed with FOR UPDATE SKIP LOCKED and its lock
 * held through the DROP, so one replica drops it and the others skip it; an undo swapping
 * that database back holds the same row lock, so the two never overlap. A replica that dies
 * mid-drop releases the row (its transaction ends) and the next run drops it again
 * (`DROP DATABASE IF EXISTS`).
 *
 * @example
 *   const cleanup = new RestoreCleanup({ catalog, hosts, audit, log, keepHours: 24 })
 *   cleanup.start()
 *   await cleanup.runOnce()   // ["acme_pre_restore_20240501020000"]
 *   await cleanup.stop()
 */
export class RestoreCleanup extends PeriodicSweep {
  constructor(private readonly deps: RestoreCleanupDeps) {
    super(deps.log, 'restore cleanup', deps.intervalMs)
  }

  /** Drops one expired kept database; its name, or undefined when none is left. */
  protected next(): Promise<string | undefined> {
    return this.#dropOne()
  }

  async #dropOne(): Promise<string | undefined> {
    const cutoff = new Date(Date.now() - this.deps.keepHours * 3_600_000)
    const done = await this.deps.catalog.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('backup_restores')
        .selectAll()
        .where('previous_dropped_at', 'is', null)
        .where('restored_at', '<', cutoff)
        .orderBy('restored_at')
        .limit(1)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst()
      if (!row) return undefined
      const tenant = await trx.selectFrom('tenants').select(['id', 'slug', 'host_id', 'database_name']).where('id', '=', row.tenant_id).executeTakeFirstOrThrow()
      // Never the tenant's own database, whatever a row says.
      if (row.previous_database !== tenant.database_name) {
        await this.deps.hosts.withAdminClient(tenant.host_id, (client) => dropDatabase(client, row.previous_database))
      } else {
        this.deps.log.error({ tenantId: tenant.id, database: row.previous_database }, 'a restore record names the tenant\'s own database as kept; not dropping it')
      }
      await trx.updateTable('backup_restores').set({ previous_dropped_at: new Date() }).where('id', '=', row.id).execute()
      return { row, tenant }
    })
    if (!done) return undefined
    const { row, tenant } = done
    this.deps.log.info({ tenantId: tenant.id, database: row.previous_database }, 'kept database of a restore dropped')
    await this.deps.audit.record({
      actorType: 'system',
      tenantId: tenant.id,
      action: 'restore.previous_dropped',
      target: tenant.slug,
      details: { restoreId: row.id, database: row.previous_database, restoredAt: new Date(row.restored_at).toISOString(), keepHours: this.deps.keepHours },
    })
    return row.previous_database
  }
}
