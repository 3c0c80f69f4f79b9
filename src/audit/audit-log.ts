import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Logger } from '../logger.js'

export interface AuditEntry {
  actorType: 'operator' | 'tenant_user' | 'system' | 'anonymous'
  actorId?: string | null
  actorEmail?: string | null
  tenantId?: string | null
  action: string
  target?: string | null
  ip?: string | null
  details?: Record<string, unknown>
}

export interface AuditRecord {
  id: number
  createdAt: string
  actorType: string
  actorId: string | null
  actorEmail: string | null
  tenantId: string | null
  action: string
  target: string | null
  ip: string | null
  details: unknown
}

/**
 * The append-only audit trail (a trigger refuses UPDATE, DELETE and TRUNCATE). Every admin
 * action, auth event and blocked attempt is recorded here.
 *
 * @example
 *   await audit.record({ actorType: 'operator', actorId, action: 'tenant.suspend', tenantId, details: { reason } })
 */
export class AuditLog {
  constructor(
    private readonly catalog: CatalogDb,
    private readonly log: Logger
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.catalog
        .insertInto('audit_logs')
        .values({
          actor_type: entry.actorType,
          actor_id: entry.actorId ?? null,
          actor_email: entry.actorEmail ?? null,
          tenant_id: entry.tenantId ?? null,
          action: entry.action,
          target: entry.target ?? null,
          ip: entry.ip ?? null,
          details: JSON.stringify(entry.details ?? {}),
        })
        .execute()
    } catch (error) {
      // The action already happened; losing its audit line must be loud, not fatal.
      this.log.error({ err: error, action: entry.action, tenantId: entry.tenantId }, 'could not write audit entry')
    }
  }

  async list(query: { tenantId?: string; action?: string; limit?: number; offset?: number }): Promise<{ items: AuditRecord[]; total: number }> {
    let q = this.catalog.selectFrom('audit_logs')
    if (query.tenantId) q = q.where('tenant_id', '=', query.tenantId)
    if (query.action) q = q.where('action', '=', query.action)
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('id', 'desc').limit(query.limit ?? 100).offset(query.offset ?? 0).execute(),
      q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    ])
    return {
      total: count.n,
      items: rows.map((r) => ({
        id: Number(r.id),
        createdAt: new Date(r.created_at).toISOString(),
        actorType: r.actor_type,
        actorId: r.actor_id,
        actorEmail: r.actor_email,
        tenantId: r.tenant_id,
        action: r.action,
        target: r.target,
        ip: r.ip,
        details: r.details,
      })),
    }
  }
}
