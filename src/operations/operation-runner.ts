import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperationRow, OperationStatus } from '../catalog/catalog-schema.js'
import { OperationInProgress, OperationNotFound, InvalidTransition, SqlState, sqlState } from '../errors.js'
import type { Logger } from '../logger.js'
import { isUuid } from '../uuid.js'

/** One idempotent step of an operation: running it again after a crash must be safe. */
export interface OperationStep<P> {
  name: string
  run(context: StepContext<P>): Promise<void>
}

export interface StepContext<P> {
  operation: OperationRow
  params: P
  log: Logger
  /** Reports progress within the current step (0-100 of the whole operation). */
  progress(percent: number): Promise<void>
}

/** What an operation kind does: its steps in order, and how to undo a failed attempt. */
export interface OperationHandler<P = Record<string, unknown>> {
  kind: string
  steps: OperationStep<P>[]
  /** Undo whatever the steps did; idempotent. Called for rollback(). */
  rollback?(context: StepContext<P>): Promise<void>
  /** Called when a step fails (e.g. to mark the tenant failed). */
  onFailure?(context: StepContext<P>, error: Error): Promise<void>
}

export interface Operation {
  id: string
  kind: string
  tenantId: string | null
  /** The tenant's slug, when the caller looked it up (API replies do). */
  tenantSlug?: string | null
  status: OperationStatus
  step: string | null
  progress: number
  error: string | null
  attempts: number
  createdAt: string
  updatedAt: string
  finishedAt: string | null
}

export interface OperationRunnerOptions {
  /** A running operation whose heartbeat is older than this is considered abandoned. */
  staleMs: number
  heartbeatMs: number
  /** Failed attempts after which a failed operation is rolled back automatically. */
  maxAttempts: number
  /** How often to look for abandoned or pending operations. */
  sweepMs: number
}

const defaults: OperationRunnerOptions = { staleMs: 30_000, heartbeatMs: 5_000, maxAttempts: 3, sweepMs: 10_000 }

/**
 * Runs durable operations (provision, delete, ...). An operation is a row in `operations`;
 * its steps run in order and the row records the step being run, so a crash leaves a row
 * that any replica can pick up and resume from that step. Claims use
 * `FOR UPDATE SKIP LOCKED`, a claimant keeps its claim alive with heartbeats, and a claim
 * whose heartbeat went stale can be taken over; the old claimant notices (its heartbeat
 * or step update matches no row) and stops. At most one open operation per tenant is
 * enforced by a partial unique index.
 *
 * @example
 *   runner.register(provisionHandler)
 *   const op = await runner.enqueue('provision', tenantId, { plan: 'pro' })
 *   await runner.execute(op.id)         // or let the sweeper / another replica run it
 */
export class OperationRunner {
  readonly replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  readonly #handlers = new Map<string, OperationHandler<any>>()
  readonly #running = new Map<string, Promise<Operation>>()
  readonly #options: OperationRunnerOptions
  #sweeper: NodeJS.Timeout | undefined
  #stopping = false

  constructor(
    private readonly catalog: CatalogDb,
    private readonly log: Logger,
    options: Partial<OperationRunnerOptions> = {}
  ) {
    this.#options = { ...defaults, ...options }
  }

  register<P>(handler: OperationHandler<P>): void {
    this.#handlers.set(handler.kind, handler as OperationHandler<any>)
  }

  /** Records a new pending operation. 409 OperationInProgress if the tenant has one open. */
  async enqueue(kind: string, tenantId: string | null, params: Record<string, unknown>, createdBy?: string | null, db: CatalogDb = this.catalog): Promise<OperationRow> {
    if (!this.#handlers.has(kind)) throw new Error(`no handler for operation kind "${kind}"`)
    try {
      return await db
        .insertInto('operations')
        .values({ kind, tenant_id: tenantId, params: JSON.stringify(params), created_by: createdBy ?? null, step: this.#handlers.get(kind)!.steps[0]?.name ?? null })
        .returningAll()
        .executeTakeFirstOrThrow()
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        const open = tenantId ? await this.openOperationOf(tenantId) : undefined
        throw new OperationInProgress(
          `tenant already has a ${open?.kind ?? ''} operation in progress (${open?.id ?? 'unknown'}); wait for it or see \`tenantctl ops show ${open?.id ?? ''}\``.replace(/\s+/g, ' ')
        )
      }
      throw error
    }
  }

  async openOperationOf(tenantId: string): Promise<OperationRow | undefined> {
    return this.catalog
      .selectFrom('operations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('status', 'in', ['pending', 'running'])
      .executeTakeFirst()
  }

  async get(id: string): Promise<OperationRow> {
    if (!isUuid(id)) throw new OperationNotFound(id.slice(0, 60))
    const row = await this.catalog.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) throw new OperationNotFound(id)
    return row
  }

  async list(query: { tenantId?: string; status?: OperationStatus; kind?: string; limit?: number; offset?: number }): Promise<{ items: OperationRow[]; total: number }> {
    let q = this.catalog.selectFrom('operations')
    if (query.tenantId) q = q.where('tenant_id', '=', query.tenantId)
    if (query.status) q = q.where('status', '=', query.status)
    if (query.kind) q = q.where('kind', '=', query.kind)
    const [items, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').limit(query.limit ?? 50).offset(query.offset ?? 0).execute(),
      q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    ])
    return { items, total: count.n }
  }

  /**
   * Claims and runs an operation to its end (succeeded or failed). Resolves with the final
   * state; a failure is recorded on the row, not thrown. If another live replica holds the
   * claim, resolves with the current state without running anything.
   */
  execute(id: string): Promise<Operation> {
    return this.#start(id).finished
  }

  /**
   * Runs the operation here if no live replica holds it, and waits for its end wherever it
   * runs: another replica's sweeper may have claimed it first, or taken it over when this
   * replica's heartbeat came late on a loaded machine. Resolves with the final state; gives
   * up with status 'running' once `stopped()` says so. What `?wait=true` replies wait for.
   */
  settle(id: string, stopped: () => boolean = () => false): Promise<Operation> {
    return this.ended(this.execute(id), stopped)
  }

  /**
   * The end of a run that execute() started, wherever the operation finishes: execute()
   * resolves with status 'running' when another replica holds (or took over) the claim.
   *
   * @example
   *   const run = operations.execute(operation.id)
   *   if (wait) return reply.send({ operation: await operations.ended(run) })
   */
  async ended(execution: Promise<Operation>, stopped: () => boolean = () => false): Promise<Operation> {
    let operation = await execution
    while (operation.status === 'pending' || operation.status === 'running') {
      if (stopped()) return { ...operation, error: 'tenantd stopped before the operation ended' }
      await new Promise((resolve) => setTimeout(resolve, 250))
      operation = toOperation(await this.get(operation.id))
    }
    return operation
  }

  #start(id: string): { claimed: Promise<void>; finished: Promise<Operation> } {
    const inFlight = this.#running.get(id)
    if (inFlight) return { claimed: Promise.resolve(), finished: inFlight }
    let signalClaimed!: () => void
    const claimed = new Promise<void>((resolve) => (signalClaimed = resolve))
    const run = this.#execute(id, signalClaimed).finally(() => {
      signalClaimed()
      this.#running.delete(id)
    })
    this.#running.set(id, run)
    return { claimed, finished: run }
  }

  async #execute(id: string, onClaimed: () => void): Promise<Operation> {
    const claimed = await this.#claim(id)
    onClaimed()
    if (!claimed) return toOperation(await this.get(id))
    const handler = this.#handlers.get(claimed.kind)
    if (!handler) {
      await this.#finish(claimed.id, 'failed', { error: `no handler for kind ${claimed.kind} on this replica` })
      return toOperation(await this.get(id))
    }
    const log = this.log.child({ operationId: claimed.id, kind: claimed.kind, tenantId: claimed.tenant_id })
    const heartbeat = setInterval(() => {
      this.#heartbeat(claimed.id).catch((error) => log.warn({ err: error }, 'heartbeat failed'))
    }, this.#options.heartbeatMs)
    heartbeat.unref()
    const context = this.#context(claimed, log)
    const start = Math.max(0, handler.steps.findIndex((s) => s.name === claimed.step))
    try {
      // Claimed from a replica that died while its failure was being handled: handle it again.
      if (claimed.failing !== null) throw new Error(claimed.failing)
      for (let i = start; i < handler.steps.length; i++) {
        const step = handler.steps[i]!
        await this.#setStep(claimed.id, step.name, Math.round((i / handler.steps.length) * 100))
        log.info({ step: step.name }, 'operation step')
        await step.run(context)
      }
      await this.#finish(claimed.id, 'succeeded', { progress: 100 })
      log.info('operation succeeded')
    } catch (error) {
      const err = error as Error
      if (err instanceof LostClaim) {
        log.warn('operation claim lost to another replica; stopping here')
      } else {
        log.error({ err: { message: err.message, code: sqlState(err) } }, 'operation failed')
        // Marked failing first, still claimed: no replica retries it or rolls it back while the
        // handler puts things back; it reads failed only once they are. A crash in between leaves
        // a running row with an error, and whoever resumes it finishes the failure (see #claim).
        await this.#markFailing(claimed.id, err.message).catch(() => {})
        await handler.onFailure?.(this.#context(await this.get(id), log), err).catch((e) => log.error({ err: e }, 'onFailure hook failed'))
        await this.#finish(claimed.id, 'failed', { error: err.message }).catch(() => {})
        const after = await this.get(id)
        if (after.status === 'failed' && after.attempts >= this.#options.maxAttempts && handler.rollback) {
          log.warn({ attempts: after.attempts }, 'operation failed too often; rolling back')
          await this.rollback(id).catch((e) => log.error({ err: e }, 'automatic rollback failed'))
        }
      }
    } finally {
      clearInterval(heartbeat)
    }
    return toOperation(await this.get(id))
  }

  /** Puts a failed (or abandoned) operation back to run from its recorded step. */
  /**
   * Resumes a failed or abandoned operation from its recorded step. Resolves once this
   * replica has claimed it (so its state reads `running`), with the run's end as `finished`.
   */
  async retry(id: string): Promise<{ operation: Operation; finished: Promise<Operation> }> {
    this.#assertRetryable(await this.get(id))
    const { claimed, finished } = this.#start(id)
    await claimed
    return { operation: toOperation(await this.get(id)), finished }
  }

  /** Throws why an operation cannot be retried now, if it cannot. */
  #assertRetryable(row: OperationRow): void {
    if (row.status === 'succeeded' || row.status === 'rolled_back') {
      throw new InvalidTransition(`operation ${row.id} is ${row.status}; there is nothing to retry`)
    }
    if (row.status === 'running' && !this.#isStale(row) && !this.#running.has(row.id)) {
      throw new OperationInProgress(
        `operation ${row.id} is running on ${row.claimed_by ?? 'another replica'} and its last heartbeat is recent; retry it if it stays stuck for ${Math.round(this.#options.staleMs / 1000)} s`
      )
    }
  }

  /** Undoes a failed or abandoned operation with its handler's rollback; ends as rolled_back. */
  async rollback(id: string): Promise<Operation> {
    const row = await this.get(id)
    const handler = this.#handlers.get(row.kind)
    if (!handler?.rollback) throw new InvalidTransition(`operations of kind ${row.kind} cannot be rolled back`)
    if (row.status === 'succeeded' || row.status === 'rolled_back') throw new InvalidTransition(`operation ${id} is ${row.status} and cannot be rolled back`)
    if (row.status === 'running' && (this.#running.has(id) || !this.#isStale(row))) {
      throw new OperationInProgress(`operation ${id} is still running; roll it back once it failed or went stale`)
    }
    // Take the claim so no other replica resumes it while we undo it.
    const claimed = await this.catalog
      .updateTable('operations')
      .set({ status: 'running', step: 'rollback', claimed_by: this.replicaId, heartbeat_at: new Date(), updated_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', row.status)
      .where('updated_at', '=', row.updated_at)
      .returningAll()
      .executeTakeFirst()
    if (!claimed) throw new OperationInProgress(`operation ${id} changed meanwhile; look at it again`)
    const log = this.log.child({ operationId: id, kind: row.kind, tenantId: row.tenant_id })
    try {
      await handler.rollback(this.#context(claimed, log))
      await this.#finish(id, 'rolled_back', { error: row.error })
      log.info('operation rolled back')
    } catch (error) {
      await this.#finish(id, 'failed', { error: `rollback failed: ${(error as Error).message}` })
      throw error
    }
    return toOperation(await this.get(id))
  }

  /** Starts the sweeper that resumes pending and abandoned operations (any replica may). */
  start(): void {
    if (this.#sweeper) return
    const tick = () => {
      this.sweep().catch((error) => this.log.warn({ err: error }, 'operation sweep failed'))
    }
    this.#sweeper = setInterval(tick, this.#options.sweepMs)
    this.#sweeper.unref()
    tick()
  }

  /** Runs every pending operation and every running one whose claimant went silent. */
  async sweep(): Promise<void> {
    if (this.#stopping) return
    const rows = await this.catalog
      .selectFrom('operations')
      .select(['id'])
      .where((eb) =>
        eb.or([
          eb('status', '=', 'pending'),
          eb.and([eb('status', '=', 'running'), eb('heartbeat_at', '<', new Date(Date.now() - this.#options.staleMs))]),
        ])
      )
      .orderBy('created_at')
      .limit(20)
      .execute()
    for (const { id } of rows) {
      if (this.#stopping) return
      if (!this.#running.has(id)) void this.execute(id)
    }
  }

  /** Stops sweeping and waits for operations running here to reach their end. */
  async stop(): Promise<void> {
    this.#stopping = true
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = undefined
    await Promise.allSettled([...this.#running.values()])
  }

  #isStale(row: OperationRow): boolean {
    return row.heartbeat_at === null || Date.now() - new Date(row.heartbeat_at).getTime() > this.#options.staleMs
  }

  /**
   * Takes the operation for this replica if nobody live holds it. `failing` is the error of a
   * failure whose handling (onFailure) a dead replica did not finish: the row was running with
   * an error. The claim clears the row's error either way.
   */
  async #claim(id: string): Promise<(OperationRow & { failing: string | null }) | undefined> {
    if (this.#stopping) return undefined
    return this.catalog.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('operations')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst()
      if (!row) return undefined
      const claimable =
        row.status === 'pending' ||
        row.status === 'failed' ||
        (row.status === 'running' && this.#isStale(row))
      if (!claimable) return undefined
      const failing = row.status === 'running' && row.error !== null ? row.error : null
      const claimed = await trx
        .updateTable('operations')
        .set((eb) => ({
          status: 'running',
          claimed_by: this.replicaId,
          heartbeat_at: new Date(),
          attempts: eb('attempts', '+', 1),
          error: null,
          finished_at: null,
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      return claimed && { ...claimed, failing }
    })
  }

  async #heartbeat(id: string): Promise<void> {
    await this.catalog
      .updateTable('operations')
      .set({ heartbeat_at: new Date() })
      .where('id', '=', id)
      .where('claimed_by', '=', this.replicaId)
      .where('status', '=', 'running')
      .execute()
  }

  /** Records the step about to run; fails with LostClaim if another replica took over. */
  async #setStep(id: string, step: string, progress: number): Promise<void> {
    const result = await this.catalog
      .updateTable('operations')
      .set({ step, progress, heartbeat_at: new Date(), updated_at: new Date() })
      .where('id', '=', id)
      .where('claimed_by', '=', this.replicaId)
      .where('status', '=', 'running')
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) throw new LostClaim()
  }

  /** Records the error on a still-claimed row (status stays running) before its failure is handled. */
  async #markFailing(id: string, error: string): Promise<void> {
    await this.catalog.updateTable('operations').set({ error, heartbeat_at: new Date(), updated_at: new Date() }).where('id', '=', id).where('claimed_by', '=', this.replicaId).execute()
  }

  async #finish(id: string, status: OperationStatus, fields: { error?: string | null; progress?: number }): Promise<void> {
    await this.catalog
      .updateTable('operations')
      .set({
        status,
        error: fields.error ?? null,
        ...(fields.progress !== undefined ? { progress: fields.progress } : {}),
        finished_at: new Date(),
        updated_at: new Date(),
        heartbeat_at: null,
      })
      .where('id', '=', id)
      .execute()
  }

  #context(operation: OperationRow, log: Logger): StepContext<any> {
    return {
      operation,
      params: operation.params,
      log,
      progress: async (percent) => {
        await this.catalog.updateTable('operations').set({ progress: Math.max(0, Math.min(100, Math.round(percent))) }).where('id', '=', operation.id).execute()
      },
    }
  }
}

class LostClaim extends Error {
  constructor() {
    super('operation claim lost')
  }
}

export function toOperation(row: OperationRow): Operation {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    status: row.status,
    step: row.step,
    progress: row.progress,
    error: row.error,
    attempts: row.attempts,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  }
}
