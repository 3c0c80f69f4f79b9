import type { CatalogDb } from '../catalog/catalog-db.js'
import type { PlanRow } from '../catalog/catalog-schema.js'
import { PlanNotFound } from '../errors.js'

/** A plan as the API shows it: its limits and its backup policy. */
export interface Plan {
  id: string
  name: string
  maxConnections: number
  poolSize: number
  maxUsers: number | null
  storageMb: number | null
  apiCallsPerMonth: number | null
  tenantCount: number
  /** Tenants' database credentials rotate when their last rotation is this many days old; null never. */
  credentialRotationDays: number | null
  backup: {
    /** null: TENANTD_BACKUP_SCHEDULE. */
    schedule: string | null
    retentionDays: number
    keepDaily: number
    keepWeekly: number
    keepMonthly: number
  }
}

/** What PATCH /api/admin/plans/:id may change. Connection limits are not among them: they live in every tenant role. */
export interface PlanChanges {
  name?: string
  maxUsers?: number | null
  storageMb?: number | null
  apiCallsPerMonth?: number | null
  backupSchedule?: string | null
  backupRetentionDays?: number
  backupKeepDaily?: number
  backupKeepWeekly?: number
  backupKeepMonthly?: number
  credentialRotationDays?: number | null
}

/**
 * The catalog's plans: list, and change their descriptive limits and backup policy
 * (runbook 002's plan table; the backup scheduler and retention read the policy).
 *
 * @example
 *   await plans.update('pro', { backupSchedule: '0 3 * * *', backupKeepDaily: 14 })
 */
export class PlanCatalog {
  constructor(private readonly catalog: CatalogDb) {}

  async list(): Promise<Plan[]> {
    const rows = await this.#select().orderBy('p.max_connections').orderBy('p.id').execute()
    return rows.map(toPlan)
  }

  async get(id: string): Promise<Plan> {
    const row = await this.#select().where('p.id', '=', id).executeTakeFirst()
    if (!row) throw new PlanNotFound(id.slice(0, 60))
    return toPlan(row)
  }

  async update(id: string, changes: PlanChanges): Promise<Plan> {
    await this.get(id)
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.maxUsers !== undefined ? { max_users: changes.maxUsers } : {}),
      ...(changes.storageMb !== undefined ? { storage_mb: changes.storageMb } : {}),
      ...(changes.apiCallsPerMonth !== undefined ? { api_calls_per_month: changes.apiCallsPerMonth } : {}),
      ...(changes.backupSchedule !== undefined ? { backup_schedule: changes.backupSchedule } : {}),
      ...(changes.backupRetentionDays !== undefined ? { backup_retention_days: changes.backupRetentionDays } : {}),
      ...(changes.backupKeepDaily !== undefined ? { backup_keep_daily: changes.backupKeepDaily } : {}),
      ...(changes.backupKeepWeekly !== undefined ? { backup_keep_weekly: changes.backupKeepWeekly } : {}),
      ...(changes.backupKeepMonthly !== undefined ? { backup_keep_monthly: changes.backupKeepMonthly } : {}),
      ...(changes.credentialRotationDays !== undefined ? { credential_rotation_days: changes.credentialRotationDays } : {}),
    }
    if (Object.keys(set).length) await this.catalog.updateTable('plans').set(set).where('id', '=', id).execute()
    return this.get(id)
  }

  #select() {
    return this.catalog
      .selectFrom('plans as p')
      .selectAll('p')
      .select((eb) =>
        eb
          .selectFrom('tenants as t')
          .select((e) => e.fn.countAll<string>().as('n'))
          .whereRef('t.plan_id', '=', 'p.id')
          .where('t.purged_at', 'is', null)
          .as('tenant_count')
      )
  }
}

function toPlan(row: PlanRow & { tenant_count: string | null }): Plan {
  return {
    id: row.id,
    name: row.name,
    maxConnections: row.max_connections,
    poolSize: row.pool_size,
    maxUsers: row.max_users,
    storageMb: row.storage_mb,
    apiCallsPerMonth: row.api_calls_per_month,
    tenantCount: Number(row.tenant_count ?? 0),
    credentialRotationDays: row.credential_rotation_days,
    backup: {
      schedule: row.backup_schedule,
      retentionDays: row.backup_retention_days,
      keepDaily: row.backup_keep_daily,
      keepWeekly: row.backup_keep_weekly,
      keepMonthly: row.backup_keep_monthly,
    },
  }
}
