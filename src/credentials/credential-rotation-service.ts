import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperationRow } from '../catalog/catalog-schema.js'
import { InvalidTransition, OperationInProgress } from '../errors.js'
import type { Logger } from '../logger.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { ROTATE_CREDENTIALS, type RotateCredentialsParams } from './credential-rotation.js'

export interface CredentialRotationServiceDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  operations: OperationRunner
  log: Logger
  /** How often this replica looks for tenants due a scheduled rotation (minutes; 0: never). */
  checkMinutes: number
}

/** Tenants whose database exists: their credential can rotate. */
const ROTATABLE = new Set(['active', 'suspended', 'canceled'])
/** A claim older than this is stale (the enqueue it guarded failed or was lost): the tenant may be claimed again. */
const CLAIM_STALE = sql`interval '1 hour'`

/**
 * Starts credential rotations: on request (`POST /api/admin/tenants/:id/rotate-credentials`,
 * `tenantctl rotate-credentials`) and on the plans' schedule (`credential_rotation_days`).
 * Every replica checks the schedule; a tenant is claimed by one conditional UPDATE of its
 * row (`credentials_rotation_claimed_at`), so replicas checking at the same moment enqueue
 * its rotation exactly once: the second UPDATE waits on the row lock and then no longer
 * matches.
 *
 * @example
 *   const { operation } = await rotation.request('acme', operatorId)
 *   await operations.execute(operation.id)
 *   await rotation.rotateDue()   // what the timer does: ids of the rotations enqueued here
 */
export class CredentialRotationService {
  #timer: NodeJS.Timeout | undefined
  #checking: Promise<unknown> | undefined
  #closed = false

  constructor(private readonly deps: CredentialRotationServiceDeps) {}

  /** Enqueues a rotation of the tenant's credential (409 if it has an operation open). */
  async request(tenantKey: string, createdBy: string | null | undefined, reason: RotateCredentialsParams['reason'] = 'manual'): Promise<{ tenant: TenantRecord; operation: OperationRow }> {
    const tenant = await this.deps.tenants.get(tenantKey)
    if (!ROTATABLE.has(tenant.status)) throw new InvalidTransition(`tenant ${tenant.slug} is ${tenant.status}: only a tenant with a database (active, suspended, canceled) has a credential to rotate`)
    const params: RotateCredentialsParams = { reason }
    const operation = await this.deps.operations.enqueue(ROTATE_CREDENTIALS, tenant.id, { ...params }, createdBy ?? null)
    return { tenant, operation }
  }

  /**
   * Claims and enqueues the rotation of every active tenant whose plan rotates credentials
   * and whose last rotation (or creation) is older than the plan's days; runs them in the
   * background on this replica. Returns the operation ids enqueued here.
   */
  async rotateDue(): Promise<string[]> {
    const due = await this.#overdue().select('t.id').limit(100).execute()
    const started: string[] = []
    for (const { id } of due) {
      try {
        const operation = await this.deps.catalog.transaction().execute(async (trx) => {
          const claimed = await trx
            .updateTable('tenants')
            .set({ credentials_rotation_claimed_at: sql<Date>`now()` })
            .where('id', '=', id)
            .where('status', '=', 'active')
            .where('purged_at', 'is', null)
            // On the row itself, not in a subquery: a second replica's UPDATE, blocked on the
            // row lock, re-checks these against the first one's committed version.
            .where((eb) => eb.or([eb('credentials_rotation_claimed_at', 'is', null), eb('credentials_rotation_claimed_at', '<', sql<Date>`now() - ${CLAIM_STALE}`)]))
            .where(sql<boolean>`coalesce(credentials_rotated_at, created_at) < now() - make_interval(days => (select p.credential_rotation_days from plans p where p.id = tenants.plan_id))`)
            .returning('id')
            .executeTakeFirst()
          if (!claimed) return undefined
          return this.deps.operations.enqueue(ROTATE_CREDENTIALS, id, { reason: 'scheduled' }, null, trx)
        })
        if (!operation) continue
        started.push(operation.id)
        this.deps.log.info({ tenantId: id, operationId: operation.id }, 'scheduled credential rotation enqueued')
        this.deps.operations.execute(operation.id).catch((error: Error) => this.deps.log.error({ err: { message: error.message }, tenantId: id }, 'scheduled credential rotation failed'))
      } catch (error) {
        // Another operation of the tenant is open: the next check tries again.
        if (!(error instanceof OperationInProgress)) throw error
      }
    }
    return started
  }

  #overdue(db: CatalogDb = this.deps.catalog) {
    return db
      .selectFrom('tenants as t')
      .innerJoin('plans as p', 'p.id', 't.plan_id')
      .where('p.credential_rotation_days', 'is not', null)
      .where('t.status', '=', 'active')
      .where('t.purged_at', 'is', null)
      .where(sql<boolean>`coalesce(t.credentials_rotated_at, t.created_at) < now() - make_interval(days => p.credential_rotation_days)`)
      .where((eb) => eb.or([eb('t.credentials_rotation_claimed_at', 'is', null), eb('t.credentials_rotation_claimed_at', '<', sql<Date>`now() - ${CLAIM_STALE}`)]))
  }

  /** Checks the schedule every checkMinutes (first check one interval after start). */
  start(): void {
    if (this.deps.checkMinutes <= 0 || this.#timer) return
    this.#timer = setInterval(() => {
      if (this.#checking || this.#closed) return
      this.#checking = this.rotateDue()
        .catch((error: Error) => this.deps.log.warn({ err: { message: error.message } }, 'credential rotation check failed; retrying at the next interval'))
        .finally(() => (this.#checking = undefined))
    }, this.deps.checkMinutes * 60_000)
    this.#timer.unref()
  }

  /** Stops the schedule and waits for a check in flight (the rotations themselves belong to the operation runner). */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#checking
  }
}
