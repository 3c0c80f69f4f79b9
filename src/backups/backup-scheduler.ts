import { hostname } from 'node:os'
import { sql } from 'kysely'
import cron, { type ScheduledTask } from 'node-cron'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow } from '../catalog/catalog-schema.js'
import type { BackupScheduleConfig } from '../config.js'
import { InvalidTransition, OperationInProgress } from '../errors.js'
import type { Logger } from '../logger.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { BackupService } from './backup-service.js'
import { latestSlot, minuteOf } from './backup-schedule-times.js'

export interface BackupSchedulerDeps {
  catalog: CatalogDb
  backups: BackupService
  operations: OperationRunner
  audit: AuditLog
  log: Logger
  config: BackupScheduleConfig
  /** Test-restores one backup into a scratch database (the weekly sample). */
  testRestore(backup: BackupRow): Promise<{ ok: boolean; reason?: string }>
  /** Runs after a slot's backups, e.g. retention. Failures are logged, not fatal. */
  afterSlot?: () => Promise<unknown>
}

/** What one slot did. */
export interface SlotResult {
  schedule: string
  slotAt: Date
  tenants: number
  backedUp: number
  failed: Array<{ tenant: string; error: string }>
  testRestored: number
}

/** The scheduler's state, for status pages and `tenantctl backup schedule`. */
export interface ScheduleStatus {
  schedules: Array<{ cron: string; plans: string[]; nextRunAt: string | null }>
  timezone: string
  concurrency: number
  hostConcurrency: number
  recentSlots: Array<{ schedule: string; slotAt: string; claimedBy: string; tenants: number; failed: number; finishedAt: string | null }>
}

/** The schedule name of slots an operator starts by hand (`tenantctl backup run --all`): every plan. */
export const ON_DEMAND = 'on-demand'

/** A slot whose replica sent no heartbeat for this long is taken over by another. */
const SLOT_STALE_MS = 120_000
const HEARTBEAT_MS = 15_000
/** Plans may change their schedule: the set of cron tasks is rebuilt this often. */
const REFRESH_MS = 300_000
/** A test restore at least this often per tenant, whatever the share. */
const TEST_RESTORE_EVERY_MS = 7 * 86_400_000
/** A tenant busy with another operation (a migration, a restore) is waited for at most this long. */
const BUSY_WAIT_MS = 30 * 60_000

/**
 * Backs the fleet up on its own. Each distinct schedule (TENANTD_BACKUP_SCHEDULE, or a plan's
 * `backup_schedule`) is a node-cron task on every replica; when it fires, the replicas race
 * to INSERT the slot (schedule, minute) into `backup_slots` and the one whose insert lands
 * runs it: every active tenant of the plans on that schedule is backed up (as `backup`
 * operations, `reason = 'scheduled'`), at most `concurrency` at once and `hostConcurrency`
 * per db host, each retried up to `attempts` times and reported (audit
 * `backup.scheduled_failed`, error log) when it keeps failing. Then a sample of the slot's
 * backups is test-restored and retention runs. A replica that starts after a slot passed
 * unclaimed (every replica was down) runs it then, and a slot whose replica died mid-way is
 * finished by another.
 *
 * @example
 *   const scheduler = new BackupScheduler(deps)
 *   await scheduler.start()
 *   await scheduler.runSlot('0 2 * * *', new Date('2026-12-02T02:00Z'))   // what the timer does
 */
export class BackupScheduler {
  readonly replicaId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  #tasks = new Map<string, ScheduledTask>()
  #timers: NodeJS.Timeout[] = []
  #running = new Set<Promise<unknown>>()
  #closed = false

  constructor(private readonly deps: BackupSchedulerDeps) {}

  /** Schedules every distinct cron expression, then catches up missed slots and orphaned ones (in the background). */
  async start(): Promise<void> {
    await this.refresh()
    const refresh = setInterval(() => void this.refresh().catch((error) => this.deps.log.warn({ err: error }, 'backup schedule refresh failed')), REFRESH_MS)
    const adopt = setInterval(() => this.#track(this.adoptStaleSlots()), SLOT_STALE_MS / 2)
    refresh.unref()
    adopt.unref()
    this.#timers.push(refresh, adopt)
    this.#track(this.catchUp().then(() => this.adoptStaleSlots()))
  }

  /** The cron expressions in use and the plans on each (null schedule: the default). */
  async schedules(): Promise<Map<string, string[]>> {
    const plans = await this.deps.catalog.selectFrom('plans').select(['id', 'backup_schedule']).orderBy('id').execute()
    const byCron = new Map<string, string[]>()
    for (const plan of plans) {
      const expression = plan.backup_schedule ?? this.deps.config.cron
      if (expression === undefined) continue
      byCron.set(expression, [...(byCron.get(expression) ?? []), plan.id])
    }
    return byCron
  }

  /** Starts a task for each schedule in use and stops those no plan uses any more. */
  async refresh(): Promise<void> {
    if (this.#closed) return
    const wanted = await this.schedules()
    for (const [expression, task] of this.#tasks) {
      if (wanted.has(expression)) continue
      await task.destroy()
      this.#tasks.delete(expression)
    }
    for (const expression of wanted.keys()) {
      if (this.#tasks.has(expression)) continue
      try {
        const task = cron.schedule(expression, (context) => this.#track(this.runSlot(expression, minuteOf(context.date))), {
          timezone: this.deps.config.timezone,
          name: `tenantd-backups ${expression}`,
          noOverlap: false,
        })
        this.#tasks.set(expression, task)
      } catch (error) {
        this.deps.log.error({ schedule: expression, err: { message: (error as Error).message } }, 'a plan has a backup_schedule node-cron refuses; its tenants are not backed up on schedule')
      }
    }
  }

  /** For each schedule, the newest slot within TENANTD_BACKUP_CATCH_UP_HOURS that no replica ran: run it now. */
  async catchUp(): Promise<SlotResult[]> {
    const results: SlotResult[] = []
    const now = new Date()
    for (const [expression, task] of this.#tasks) {
      // The slot of this very minute is the timer's to run.
      const slot = latestSlot((date) => task.match(date), new Date(now.getTime() - 60_000), this.deps.config.catchUpHours)
      if (!slot) continue
      const result = await this.runSlot(expression, slot, 'catch-up')
      if (result) results.push(result)
    }
    return results
  }

  /**
   * Claims the slot and runs it; undefined when another replica claimed it first (the
   * catalog's primary key decides: exactly one INSERT lands).
   */
  async runSlot(schedule: string, slotAt: Date, why: 'timer' | 'catch-up' = 'timer'): Promise<SlotResult | undefined> {
    if (this.#closed) return undefined
    const claimed = await this.deps.catalog
      .insertInto('backup_slots')
      .values({ schedule, slot_at: slotAt, claimed_by: this.replicaId })
      .onConflict((oc) => oc.columns(['schedule', 'slot_at']).doNothing())
      .returning('slot_at')
      .executeTakeFirst()
    if (!claimed) return undefined
    this.deps.log.info({ schedule, slotAt, why }, 'backup slot claimed')
    return this.#process(schedule, slotAt)
  }

  /**
   * Backs up every active tenant now, as a slot of its own (same bounds, retries, test
   * restores and retention as a scheduled one). Returns the slot's time at once and the
   * result when it ends; 409 when one started this very minute.
   */
  async runNow(): Promise<{ slotAt: Date; finished: Promise<SlotResult | undefined> }> {
    const slotAt = minuteOf(new Date())
    const taken = await this.deps.catalog.selectFrom('backup_slots').select('claimed_by').where('schedule', '=', ON_DEMAND).where('slot_at', '=', slotAt).executeTakeFirst()
    if (taken) throw new OperationInProgress(`a fleet backup started at ${slotAt.toISOString()} is already running (on ${taken.claimed_by}); follow it with \`tenantctl backup schedule\``)
    const finished = this.runSlot(ON_DEMAND, slotAt, 'timer')
    this.#track(finished)
    return { slotAt, finished }
  }

  /** Unfinished slots whose replica went silent (crashed mid-slot): this replica finishes them. */
  async adoptStaleSlots(): Promise<SlotResult[]> {
    if (this.#closed) return []
    const adopted = await this.deps.catalog
      .updateTable('backup_slots')
      .set({ claimed_by: this.replicaId, heartbeat_at: new Date() })
      .where('finished_at', 'is', null)
      .where('heartbeat_at', '<', new Date(Date.now() - SLOT_STALE_MS))
      .returning(['schedule', 'slot_at'])
      .execute()
    const results: SlotResult[] = []
    for (const slot of adopted) {
      this.deps.log.warn({ schedule: slot.schedule, slotAt: slot.slot_at }, 'finishing a backup slot whose replica stopped')
      results.push(await this.#process(slot.schedule, new Date(slot.slot_at)))
    }
    return results
  }

  async #process(schedule: string, slotAt: Date): Promise<SlotResult> {
    const { catalog, config, log } = this.deps
    const heartbeat = setInterval(() => {
      void catalog
        .updateTable('backup_slots')
        .set({ heartbeat_at: new Date() })
        .where('schedule', '=', schedule)
        .where('slot_at', '=', slotAt)
        .execute()
        .catch(() => {})
    }, HEARTBEAT_MS)
    heartbeat.unref()
    try {
      const plans =
        schedule === ON_DEMAND
          ? (await catalog.selectFrom('plans').select('id').execute()).map((p) => p.id)
          : ((await this.schedules()).get(schedule) ?? [])
      const tenants = plans.length
        ? await catalog
            .selectFrom('tenants')
            .select(['id', 'slug', 'host_id'])
            .where('status', '=', 'active')
            .where('plan_id', 'in', plans)
            .where('purged_at', 'is', null)
            .orderBy('slug')
            .execute()
        : []
      await catalog.updateTable('backup_slots').set({ tenants: tenants.length }).where('schedule', '=', schedule).where('slot_at', '=', slotAt).execute()

      const failed: SlotResult['failed'] = []
      const verified: BackupRow[] = []
      const perHost = new Map<string, number>()
      const queue = [...tenants]
      // Bounded workers; each takes the first waiting tenant whose host has room.
      const worker = async () => {
        for (;;) {
          if (this.#closed) return
          const index = queue.findIndex((t) => (perHost.get(t.host_id) ?? 0) < config.hostConcurrency)
          if (index < 0) {
            if (queue.length === 0) return
            // Every waiting tenant is on a busy host: wait for any backup to end.
            await Promise.race([...this.#inSlot])
            continue
          }
          const [tenant] = queue.splice(index, 1)
          perHost.set(tenant!.host_id, (perHost.get(tenant!.host_id) ?? 0) + 1)
          const run = this.#backupTenant(tenant!, slotAt).finally(() => perHost.set(tenant!.host_id, perHost.get(tenant!.host_id)! - 1))
          this.#inSlot.add(run)
          try {
            const outcome = await run
            if (outcome.backup) verified.push(outcome.backup)
            else if (outcome.error) failed.push({ tenant: tenant!.slug, error: outcome.error })
          } finally {
            this.#inSlot.delete(run)
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(config.concurrency, Math.max(1, tenants.length)) }, worker))

      const testRestored = await this.#testRestoreSample(verified)
      if (this.deps.afterSlot) await this.deps.afterSlot().catch((error) => log.warn({ err: error }, 'after-slot work (retention) failed'))
      await catalog
        .updateTable('backup_slots')
        .set({ finished_at: new Date(), failed: failed.length })
        .where('schedule', '=', schedule)
        .where('slot_at', '=', slotAt)
        .execute()
      log.info({ schedule, slotAt, tenants: tenants.length, backedUp: verified.length, failed: failed.length, testRestored }, 'backup slot finished')
      return { schedule, slotAt, tenants: tenants.length, backedUp: verified.length, failed, testRestored }
    } finally {
      clearInterval(heartbeat)
    }
  }

  #inSlot = new Set<Promise<unknown>>()

  /** One tenant's backup for the slot, retried; a backup this slot already has (a resumed slot) counts. */
  async #backupTenant(tenant: { id: string; slug: string }, slotAt: Date): Promise<{ backup?: BackupRow; error?: string }> {
    const { catalog, backups, operations, config, log } = this.deps
    let lastError = 'no attempt was made'
    for (;;) {
      const earlier = await catalog.selectFrom('backups').selectAll().where('tenant_id', '=', tenant.id).where('slot_at', '=', slotAt).execute()
      const done = earlier.find((b) => b.state === 'verified')
      if (done) return { backup: done }
      const inFlight = earlier.find((b) => b.state === 'running' || b.state === 'completed')
      const attempts = earlier.filter((b) => b.state === 'failed').length
      if (!inFlight && attempts >= config.attempts) break
      if (this.#closed) return { error: 'tenantd stopped' }
      if (attempts > 0 && !inFlight) await delay(Math.min(60_000, 1_000 * 2 ** (attempts - 1)))

      let operationId: string
      try {
        if (inFlight?.operation_id) {
          operationId = inFlight.operation_id
        } else {
          operationId = (await backups.requestBackup(tenant.id, null, { reason: 'scheduled', slotAt })).operation.id
        }
      } catch (error) {
        if (error instanceof OperationInProgress) {
          // A migration or restore of this tenant is running: its backup waits for it.
          if (!(await this.#waitUntilIdle(tenant.id))) {
            lastError = `another operation of the tenant ran longer than ${BUSY_WAIT_MS / 60_000} minutes`
            break
          }
          continue
        }
        if (error instanceof InvalidTransition) return {} // no longer active: nothing to back up
        lastError = (error as Error).message
        log.warn({ tenant: tenant.slug, err: { message: lastError } }, 'scheduled backup could not start')
        await delay(1_000)
        continue
      }
      const outcome = await operations.settle(operationId, () => this.#closed)
      if (outcome.status === 'succeeded') continue // the loop finds it verified
      lastError = outcome.error ?? `operation ${operationId} ${outcome.status}`
      // The backup handler marked the backup failed; a new attempt gets a new backup.
      const still = await catalog.selectFrom('backups').select(['id', 'state']).where('operation_id', '=', operationId).executeTakeFirst()
      if (still && (still.state === 'running' || still.state === 'completed')) {
        await catalog.updateTable('backups').set({ state: 'failed', error: lastError.slice(0, 1000) }).where('id', '=', still.id).execute()
      }
    }
    log.error({ tenant: tenant.slug, slotAt, attempts: config.attempts, error: lastError }, 'scheduled backup keeps failing')
    await this.deps.audit
      .record({ actorType: 'system', tenantId: tenant.id, action: 'backup.scheduled_failed', target: tenant.slug, details: { slotAt: slotAt.toISOString(), attempts: config.attempts, error: lastError } })
      .catch(() => {})
    return { error: lastError }
  }

  async #waitUntilIdle(tenantId: string): Promise<boolean> {
    const until = Date.now() + BUSY_WAIT_MS
    while (Date.now() < until && !this.#closed) {
      if (!(await this.deps.operations.openOperationOf(tenantId))) return true
      await delay(1_000)
    }
    return false
  }

  /** Test-restores one backup now (the sample's check, also on demand). */
  testRestore(backup: BackupRow): Promise<{ ok: boolean; reason?: string }> {
    return this.deps.testRestore(backup)
  }

  /** The share of the slot's backups, plus every tenant not test-restored for a week. */
  async #testRestoreSample(verified: BackupRow[]): Promise<number> {
    if (verified.length === 0) return 0
    const recent = await this.deps.catalog
      .selectFrom('backups')
      .select(['tenant_id', sql<Date>`max(test_restored_at)`.as('last')])
      .where('tenant_id', 'in', verified.map((b) => b.tenant_id))
      .where('test_restored_at', 'is not', null)
      .groupBy('tenant_id')
      .execute()
    const last = new Map(recent.map((r) => [r.tenant_id, new Date(r.last).getTime()]))
    const sample = verified.filter((b) => Date.now() - (last.get(b.tenant_id) ?? 0) >= TEST_RESTORE_EVERY_MS || Math.random() < this.deps.config.testRestoreShare)
    let done = 0
    for (const backup of sample) {
      if (this.#closed) break
      try {
        const result = await this.deps.testRestore(backup)
        done++
        if (!result.ok) this.deps.log.error({ backupId: backup.id, reason: result.reason }, 'a backup failed its test restore')
      } catch (error) {
        this.deps.log.warn({ backupId: backup.id, err: { message: (error as Error).message } }, 'test restore could not run')
      }
    }
    return done
  }

  async status(): Promise<ScheduleStatus> {
    const schedules = await this.schedules()
    const slots = await this.deps.catalog.selectFrom('backup_slots').selectAll().orderBy('slot_at', 'desc').limit(10).execute()
    return {
      schedules: [...schedules].map(([expression, plans]) => ({ cron: expression, plans, nextRunAt: this.#tasks.get(expression)?.getNextRun()?.toISOString() ?? null })),
      timezone: this.deps.config.timezone,
      concurrency: this.deps.config.concurrency,
      hostConcurrency: this.deps.config.hostConcurrency,
      recentSlots: slots.map((s) => ({
        schedule: s.schedule,
        slotAt: new Date(s.slot_at).toISOString(),
        claimedBy: s.claimed_by,
        tenants: s.tenants,
        failed: s.failed,
        finishedAt: s.finished_at === null ? null : new Date(s.finished_at).toISOString(),
      })),
    }
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.deps.log.error({ err: error }, 'backup schedule work failed')).finally(() => this.#running.delete(tracked))
    this.#running.add(tracked)
  }

  /** Stops the timers; slots in progress stop taking new tenants and end (their backups finish). */
  async close(): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers) clearInterval(timer)
    for (const task of this.#tasks.values()) await task.destroy()
    this.#tasks.clear()
    await Promise.allSettled([...this.#running])
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
