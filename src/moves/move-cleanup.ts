import { escapeIdentifier } from 'pg'
import { dropDatabase } from '../hosts/database-sessions.js'
import { PeriodicSweep } from '../operations/periodic-sweep.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import { SqlState, sqlState } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { Logger } from '../logger.js'

export interface MoveCleanupDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  audit: AuditLog
  log: Logger
  /** How often to look for kept source databases past their rollback deadline (default 10 minutes). */
  intervalMs?: number
}

/**
 * Drops the source databases moves kept for rollback once their deadline
 * (`tenant_moves.rollback_until`, TENANTD_MOVE_KEEP_HOURS after the move) passed, and the
 * tenant's role on that host when it owns nothing else there; records `dropped_at`
 * (audit `move.source_dropped`).
 *
 * Safe with several replicas: each row is claimed with FOR UPDATE SKIP LOCKED and its lock held
 * through the DROP. A replica that dies mid-drop releases the row and the next run drops again
 * (`DROP DATABASE IF EXISTS`).
 *
 * @example
 *   const cleanup = new MoveCleanup({ catalog, hosts, audit, log })
 *   cleanup.start()
 *   await cleanup.runOnce()   // ["tenant_acme_moved_20240501020000"]
 *   await cleanup.stop()
 */
export class MoveCleanup extends PeriodicSweep {
  constructor(private readonly deps: MoveCleanupDeps) {
    super(deps.log, 'move cleanup', deps.intervalMs)
  }

  /** Drops one expired kept database; its name, or undefined when none is left. */
  protected next(): Promise<string | undefined> {
    return this.#dropOne()
  }

  async #dropOne(): Promise<string | undefined> {
    const done = await this.deps.catalog.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('tenant_moves')
        .selectAll()
        .where('state', '=', 'kept')
        .where('rollback_until', '<', new Date())
        .orderBy('rollback_until')
        .limit(1)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst()
      if (!row) return undefined
      const tenant = await trx.selectFrom('tenants').select(['id', 'slug', 'host_id', 'database_name', 'role_name']).where('id', '=', row.tenant_id).executeTakeFirstOrThrow()
      await this.deps.hosts.withAdminClient(row.source_host_id, async (client) => {
        // Never the tenant's live database, whatever a row says.
        if (!(tenant.host_id === row.source_host_id && tenant.database_name === row.kept_database)) {
          await dropDatabase(client, row.kept_database)
        }
        // The tenant's roles there too, unless it lives on that host again (or they own more).
        if (tenant.host_id !== row.source_host_id) {
          const roles = [`${tenant.role_name}_a`, `${tenant.role_name}_b`, tenant.role_name]
          for (const role of roles) {
            await client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`).catch((error) => {
              if (sqlState(error) !== SqlState.dependentObjects) throw error
            })
          }
        }
      })
      await trx.updateTable('tenant_moves').set({ state: 'dropped', dropped_at: new Date() }).where('id', '=', row.id).execute()
      return { row, tenant }
    })
    if (!done) return undefined
    const { row, tenant } = done
    this.deps.log.info({ tenantId: tenant.id, database: row.kept_database }, 'kept source database of a move dropped')
    await this.deps.audit.record({
      actorType: 'system',
      tenantId: tenant.id,
      action: 'move.source_dropped',
      target: tenant.slug,
      details: { moveId: row.id, database: row.kept_database, movedAt: new Date(row.moved_at).toISOString() },
    })
    return row.kept_database
  }
}
