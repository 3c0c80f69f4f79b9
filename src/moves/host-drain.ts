import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { DatabaseHost, HostRegistry } from '../hosts/host-registry.js'
import type { Logger } from '../logger.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { MoveService } from './move-service.js'

/** One tenant of a drained host: where it went, or why it did not. */
export interface DrainedTenant {
  tenant: string
  status: 'moved' | 'failed' | 'skipped'
  /** The host it was moved to (moved), or would have been (failed). */
  to: string | null
  operationId: string | null
  error: string | null
}

export interface DrainResult {
  host: DatabaseHost
  moved: number
  failed: number
  skipped: number
  tenants: DrainedTenant[]
}

export interface HostDrainDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  moves: MoveService
  operations: OperationRunner
  audit: AuditLog
  log: Logger
}

/**
 * Empties a db host: marks it draining (no new tenants), then moves every active or suspended
 * tenant on it to the host placement picks (most room, draining hosts skipped), one `move`
 * operation per tenant, at most `concurrency` at once (started one by one, not all enqueued:
 * any replica's sweeper runs pending operations). A tenant whose move fails stays where it
 * was, untouched, and is reported; the others go on. Canceled tenants are skipped and named
 * (their database is kept for retention: hard-delete or reactivate them). Running it again
 * moves what is left.
 *
 * @example
 *   const result = await drain.drainAndMove('db1', { concurrency: 2 })
 *   result.moved   // 10
 */
export class HostDrain {
  constructor(private readonly deps: HostDrainDeps) {}

  async drainAndMove(hostKey: string, options: { concurrency?: number; createdBy?: string | null } = {}): Promise<DrainResult> {
    const { catalog, hosts, moves, log } = this.deps
    const host = await hosts.drain(hostKey)
    const tenants = await catalog
      .selectFrom('tenants')
      .select(['id', 'slug', 'status'])
      .where('host_id', '=', host.id)
      .where('purged_at', 'is', null)
      .orderBy('slug')
      .execute()
    const results: DrainedTenant[] = []
    const queue = tenants.filter((t) => t.status === 'active' || t.status === 'suspended')
    for (const t of tenants) {
      if (t.status === 'active' || t.status === 'suspended') continue
      results.push({ tenant: t.slug, status: 'skipped', to: null, operationId: null, error: `${t.status}: only active or suspended tenants are moved; hard-delete or reactivate it first` })
    }
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        let to: string | null = null
        let operationId: string | null = null
        try {
          const target = await hosts.placeTenant()
          to = target.name
          const { operation } = await moves.requestMove(next.id, target.id, options.createdBy ?? null)
          operationId = operation.id
          const done = await this.deps.operations.settle(operation.id)
          if (done.status === 'succeeded') results.push({ tenant: next.slug, status: 'moved', to, operationId, error: null })
          else results.push({ tenant: next.slug, status: 'failed', to, operationId, error: done.error ?? `the move ${done.status}` })
        } catch (error) {
          results.push({ tenant: next.slug, status: 'failed', to, operationId, error: (error as Error).message })
        }
      }
    }
    const concurrency = Math.max(1, Math.min(options.concurrency ?? 2, 16))
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, worker))
    results.sort((a, b) => a.tenant.localeCompare(b.tenant))
    const summary = {
      moved: results.filter((r) => r.status === 'moved').length,
      failed: results.filter((r) => r.status === 'failed').length,
      skipped: results.filter((r) => r.status === 'skipped').length,
    }
    log.info({ host: host.name, ...summary }, 'host drained')
    await this.deps.audit
      .record({ actorType: options.createdBy ? 'operator' : 'system', actorId: options.createdBy ?? null, action: 'host.drain_moved', target: host.name, details: summary })
      .catch(() => {})
    return { host: await hosts.get(host.id), ...summary, tenants: results }
  }
}
