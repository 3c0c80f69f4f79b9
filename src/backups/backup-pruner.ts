import type { AuditEntry, AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow, BackupState } from '../catalog/catalog-schema.js'
import type { Logger } from '../logger.js'
import { decideRetention, type RetentionPolicy } from './backup-retention.js'
import type { BackupStorage } from './backup-storage.js'
import type { BackupTargets } from './backup-targets.js'

export interface BackupPrunerDeps {
  catalog: CatalogDb
  targets: BackupTargets
  audit: AuditLog
  log: Logger
}

/** One backup retention prunes (or would, in a dry run), with the reason. */
export interface PruneItem {
  backupId: string
  tenantId: string
  tenantSlug: string
  createdAt: Date
  /** The state before pruning: verified, completed or failed. */
  state: BackupState
  sizeBytes: number | null
  reason: string
}

export interface PruneResult {
  dryRun: boolean
  /** By tenant slug, each tenant's backups newest first. */
  items: PruneItem[]
  /** Backups marked pruned by this run (in a dry run: that would be). */
  prunedCount: number
  /** Bytes of files deleted by this run (in a dry run: that would be). */
  freedBytes: number
}

export interface PruneOptions {
  /** One tenant's backups; every tenant's when absent. */
  tenantId?: string
  /** Decide and report, change nothing. */
  dryRun?: boolean
  /** Who asked, for the audit entry; the scheduler (system) when absent. */
  actor?: Pick<AuditEntry, 'actorType' | 'actorId' | 'actorEmail' | 'ip'>
}

interface TenantPolicy {
  id: string
  slug: string
  policy: RetentionPolicy
}

/**
 * Applies the plans' retention policies (backup-retention.ts) to stored backups: deletes the
 * files retention lets go and marks their records `pruned`. The newest verified backup of a
 * tenant is never pruned.
 *
 * Safe with several replicas pruning at once: a tenant's decision is taken on its backup rows
 * locked `FOR UPDATE`, and the rows are claimed (state `pruned`) in that same transaction;
 * a second replica waits for the lock, then no longer sees them. Files are deleted only
 * after the claim committed, so a record never offers a backup whose file is gone. `pruned_at`
 * is set once the file is deleted: a claim whose delete failed (storage down, a crash) has
 * none, and the next run deletes its file again (a missing file counts as deleted).
 *
 * @example
 *   const pruner = new BackupPruner({ catalog, targets, audit, log })
 *   const { items } = await pruner.prune({ dryRun: true })    // what would go, and why
 *   await pruner.prune({})                                     // after each scheduled slot
 */
export class BackupPruner {
  constructor(private readonly deps: BackupPrunerDeps) {}

  /** What retention would prune now, across every tenant or one; changes nothing. */
  async plan(options: { tenantId?: string } = {}): Promise<PruneItem[]> {
    const now = new Date()
    const items: PruneItem[] = []
    for (const tenant of await this.#tenants(options.tenantId)) {
      const rows = await this.deps.catalog.selectFrom('backups').selectAll().where('tenant_id', '=', tenant.id).where('state', '<>', 'pruned').execute()
      items.push(...this.#decide(tenant, rows, now).map(({ item }) => item))
    }
    return items
  }

  /** Prunes (or with `dryRun` only reports) what retention lets go; one audit entry per real run. */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    if (options.dryRun) {
      const items = await this.plan(options)
      return { dryRun: true, items, prunedCount: items.length, freedBytes: sum(items) }
    }
    const retried = await this.#deleteUnfinished(options.tenantId)
    const now = new Date()
    const items: PruneItem[] = []
    let freedBytes = 0
    let fileErrors = 0
    const tenants = await this.#tenants(options.tenantId)
    for (const tenant of tenants) {
      const claimed = await this.deps.catalog.transaction().execute(async (trx) => {
        const rows = await trx.selectFrom('backups').selectAll().where('tenant_id', '=', tenant.id).where('state', '<>', 'pruned').forUpdate().execute()
        const doomed = this.#decide(tenant, rows, now)
        if (doomed.length) await trx.updateTable('backups').set({ state: 'pruned' }).where('id', 'in', doomed.map(({ item }) => item.backupId)).execute()
        return doomed
      })
      for (const { item, row, storage } of claimed) {
        items.push(item)
        if (await this.#deleteFile(row, storage)) freedBytes += item.sizeBytes ?? 0
        else fileErrors++
      }
    }
    const scope = options.tenantId ? await this.deps.catalog.selectFrom('tenants').select('slug').where('id', '=', options.tenantId).executeTakeFirst() : undefined
    await this.deps.audit.record({
      ...(options.actor ?? { actorType: 'system' }),
      tenantId: options.tenantId ?? null,
      action: 'backup.pruned',
      target: scope?.slug ?? null,
      details: { prunedCount: items.length, freedBytes, tenants: new Set(items.map((i) => i.tenantId)).size, fileErrors, filesRetried: retried },
    })
    this.deps.log.info({ prunedCount: items.length, freedBytes, fileErrors, filesRetried: retried, tenantId: options.tenantId }, 'backups pruned')
    return { dryRun: false, items, prunedCount: items.length, freedBytes }
  }

  /** The tenants that have backups retention may look at, with their plan's policy; by slug. */
  async #tenants(tenantId: string | undefined): Promise<TenantPolicy[]> {
    let query = this.deps.catalog
      .selectFrom('tenants as t')
      .innerJoin('plans as p', 'p.id', 't.plan_id')
      .select(['t.id', 't.slug', 'p.backup_retention_days', 'p.backup_keep_daily', 'p.backup_keep_weekly', 'p.backup_keep_monthly'])
      .where((eb) => eb.exists(eb.selectFrom('backups as b').select('b.id').whereRef('b.tenant_id', '=', 't.id').where('b.state', '<>', 'pruned')))
      .orderBy('t.slug')
      .orderBy('t.id')
    if (tenantId) query = query.where('t.id', '=', tenantId)
    const rows = await query.execute()
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      policy: { retentionDays: r.backup_retention_days, keepDaily: r.backup_keep_daily, keepWeekly: r.backup_keep_weekly, keepMonthly: r.backup_keep_monthly },
    }))
  }

  /** The rows retention prunes, with the storage each file is deleted from. */
  #decide(tenant: TenantPolicy, rows: BackupRow[], now: Date): Array<{ item: PruneItem; row: BackupRow; storage: BackupStorage }> {
    const out: Array<{ item: PruneItem; row: BackupRow; storage: BackupStorage }> = []
    for (const { backup: row, reason } of decideRetention(rows, tenant.policy, now).prune) {
      const storage = this.#storage(row)
      // A file in a target this tenantd cannot open (another S3 bucket) stays, and so does its
      // record: pruning it here would leave a file nobody tracks.
      if (!storage) continue
      out.push({
        row,
        storage,
        item: {
          backupId: row.id,
          tenantId: tenant.id,
          tenantSlug: tenant.slug,
          createdAt: new Date(row.created_at),
          state: row.state,
          sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
          reason,
        },
      })
    }
    return out
  }

  #storage(row: BackupRow): BackupStorage | undefined {
    try {
      return this.deps.targets.forTarget(row.storage_target)
    } catch (error) {
      this.deps.log.warn({ backupId: row.id, target: row.storage_target, err: { message: (error as Error).message } }, 'backup not pruned: its storage target is not this tenantd\'s')
      return undefined
    }
  }

  /** Deletes a claimed backup's file and records when; false (logged) when storage failed. */
  async #deleteFile(row: BackupRow, storage: BackupStorage): Promise<boolean> {
    try {
      await storage.remove(row.storage_key)
    } catch (error) {
      this.deps.log.warn({ backupId: row.id, target: row.storage_target, err: { message: (error as Error).message } }, 'backup file not deleted; the next prune retries')
      return false
    }
    await this.deps.catalog.updateTable('backups').set({ pruned_at: new Date() }).where('id', '=', row.id).where('pruned_at', 'is', null).execute()
    return true
  }

  /** Files of backups claimed by an earlier run whose delete did not finish; returns how many are gone now. */
  async #deleteUnfinished(tenantId: string | undefined): Promise<number> {
    let query = this.deps.catalog.selectFrom('backups').selectAll().where('state', '=', 'pruned').where('pruned_at', 'is', null)
    if (tenantId) query = query.where('tenant_id', '=', tenantId)
    let deleted = 0
    for (const row of await query.execute()) {
      const storage = this.#storage(row)
      if (storage && (await this.#deleteFile(row, storage))) deleted++
    }
    return deleted
  }
}

function sum(items: PruneItem[]): number {
  return items.reduce((total, item) => total + (item.sizeBytes ?? 0), 0)
}
