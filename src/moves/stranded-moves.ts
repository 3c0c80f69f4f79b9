import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Logger } from '../logger.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import { PeriodicSweep } from '../operations/periodic-sweep.js'

export interface StrandedMovesDeps {
  catalog: CatalogDb
  operations: OperationRunner
  log: Logger
  /** How often to look (default a minute). */
  intervalMs?: number
  /** A move is tried again at most this often (default the interval). */
  retryAfterMs?: number
}

/**
 * Finishes the rollback of moves that failed in their cutover and could not put their tenant
 * back: typically the source host went down after the freeze had closed it to the tenant's
 * role, so the revert could not reopen it. Once the host answers again, the tenant would stay
 * refused there until an operator rolled the move back; this sweep does it for them (the
 * `move` operation's rollback: slot and target copy dropped, source reopened, freeze ended).
 *
 * A move qualifies when it failed, its record says it closed the source (`sourceClosed`), and
 * the tenant is still on that source (a move that switched is finished by a retry instead).
 * A host still down makes the rollback fail again; it is tried again a minute later.
 *
 * @example
 *   const stranded = new StrandedMoves({ catalog, operations, log })
 *   stranded.start()
 */
export class StrandedMoves extends PeriodicSweep {
  readonly #tried = new Map<string, number>()
  readonly #retryAfterMs: number

  constructor(private readonly deps: StrandedMovesDeps) {
    super(deps.log, 'stranded move recovery', deps.intervalMs ?? 60_000)
    this.#retryAfterMs = deps.retryAfterMs ?? deps.intervalMs ?? 60_000
  }

  protected async next(): Promise<string | undefined> {
    const now = Date.now()
    for (const [id, at] of this.#tried) if (now - at >= this.#retryAfterMs) this.#tried.delete(id)
    const row = await this.deps.catalog
      .selectFrom('operations')
      .innerJoin('tenants', 'tenants.id', 'operations.tenant_id')
      .select(['operations.id', 'tenants.slug'])
      .where('operations.kind', '=', 'move')
      .where('operations.status', '=', 'failed')
      .where(sql<boolean>`(operations.result->>'sourceClosed')::boolean is true`)
      .where(sql<boolean>`tenants.host_id::text = operations.params->>'sourceHostId'`)
      .$if(this.#tried.size > 0, (q) => q.where('operations.id', 'not in', [...this.#tried.keys()]))
      .orderBy('operations.updated_at')
      .limit(1)
      .executeTakeFirst()
    if (!row) return undefined
    this.#tried.set(row.id, now)
    try {
      await this.deps.operations.rollback(row.id)
      this.deps.log.info({ operationId: row.id, tenant: row.slug }, 'stranded move rolled back; the tenant is open on its source host again')
    } catch (error) {
      this.deps.log.warn({ operationId: row.id, tenant: row.slug, err: { message: (error as Error).message } }, 'stranded move could not be rolled back yet; trying again later')
    }
    return row.id
  }
}
