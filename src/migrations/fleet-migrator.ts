import { sql } from 'kysely'
import type { MigrationRunRow, MigrationRunStatus, MigrationRunTenantStatus, OperationRow } from '../catalog/catalog-schema.js'
import { InvalidTransition, NotFound, OperationInProgress, SqlState, ValidationError, sqlState } from '../errors.js'
import type { OperationHandler, OperationRunner } from '../operations/operation-runner.js'
import { withTenantClient } from '../tenancy/tenant-connection.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { isUuid } from '../uuid.js'
import {
  fleetMigrationHandler,
  hostBudgets,
  liveTenants,
  runTotals,
  type FleetMigratorDeps,
  type MigrateFleetParams,
  type RunOptions,
  type RunTotals,
} from './fleet-migration-handler.js'
import { runHostLimited } from './host-limited-pool.js'
import {
  compareMigrations,
  migrationKey,
  readAppliedMigrations,
  readMigrationScopes,
  summarizeMatrix,
  tenantScopeNames,
  type MigrationMatrix,
  type TenantMigrationStatus,
} from './migration-status.js'

export type { RunOptions, RunTotals } from './fleet-migration-handler.js'

export const defaultConcurrency = 4
export const maxConcurrency = 32

/** What an operator asks for: `POST /api/admin/migrations/run`. */
export interface RunRequest {
  /** Tenant ids or slugs; absent means every active or suspended tenant. */
  tenants?: string[]
  /** Tenant databases migrated at once, 1..32 (default 4); each host also caps at its connection budget. */
  concurrency?: number
  /** The first N tenants run one at a time first; one failure among them stops the run. */
  canary?: number
  /** Compute what each tenant lacks, apply nothing. */
  dryRun?: boolean
  /** Run again only the failed (and skipped) tenants of that run. */
  retryFailedOf?: string
}

/** One tenant's outcome in a run, as the API shows it. */
export interface MigrationRunTenant {
  tenantId: string
  slug: string
  status: MigrationRunTenantStatus
  applied: string[]
  drift: string[]
  /** Dry runs: what would be applied. */
  pending: string[]
  error: string | null
  durationMs: number | null
}

export interface MigrationRunSummary {
  id: string
  operationId: string | null
  status: MigrationRunStatus
  dryRun: boolean
  options: RunOptions
  totals: RunTotals
  error: string | null
  createdBy: string | null
  createdAt: string
  finishedAt: string | null
}

export interface MigrationRun extends MigrationRunSummary {
  tenants: MigrationRunTenant[]
}

/**
 * Fleet-wide tenant migrations: keeps hundreds of tenant databases on the same schema
 * version. A run is a row in migration_runs plus a durable `migrate_fleet` operation (so it
 * resumes after a crash, on any replica); each tenant's outcome is a row in
 * migration_run_tenants. Only one schema-changing run exists at a time (a partial unique
 * index, so replicas racing cannot both start one); dry runs only read and may overlap.
 *
 * @example
 *   const { run, operation } = await migrator.requestRun({ concurrency: 8, canary: 3 }, operatorId)
 *   await operations.execute(operation.id)
 *   const result = await migrator.getRun(run.id)   // result.totals.failed === 0
 *   const matrix = await migrator.status({})        // tenant × migration: applied, pending, drift, ...
 */
export class FleetMigrator {
  constructor(private readonly deps: FleetMigratorDeps & { operations: OperationRunner }) {}

  /** The `migrate_fleet` operation handler, to register with the operation runner. */
  handler(): OperationHandler<MigrateFleetParams> {
    return fleetMigrationHandler(this.deps)
  }

  /** Records a run and its operation (not started: `operations.execute(operation.id)`, or the sweeper). */
  async requestRun(request: RunRequest, actorId?: string | null): Promise<{ run: MigrationRunSummary; operation: OperationRow }> {
    const options = await this.#options(request)
    try {
      const { run, operation } = await this.deps.catalog.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('migration_runs')
          .values({ options: JSON.stringify(options), dry_run: options.dryRun, created_by: actorId ?? null, totals: JSON.stringify({}) })
          .returningAll()
          .executeTakeFirstOrThrow()
        const operation = await this.deps.operations.enqueue('migrate_fleet', null, { runId: inserted.id }, actorId, trx)
        const run = await trx.updateTable('migration_runs').set({ operation_id: operation.id }).where('id', '=', inserted.id).returningAll().executeTakeFirstOrThrow()
        return { run, operation }
      })
      return { run: toSummary(run, emptyTotals()), operation }
    } catch (error) {
      if (sqlState(error) !== SqlState.uniqueViolation) throw error
      const open = await this.deps.catalog
        .selectFrom('migration_runs')
        .selectAll()
        .where('status', 'in', ['pending', 'running'])
        .where('dry_run', '=', false)
        .executeTakeFirst()
      throw new OperationInProgress(
        `migration run ${open?.id ?? '(just finished)'} is in progress (operation ${open?.operation_id ?? '?'}); only one migration run at a time. Follow it with \`tenantctl migrate show ${open?.id ?? ''}\`, or use --dry-run meanwhile.`,
        { cause: error }
      )
    }
  }

  async #options(request: RunRequest): Promise<RunOptions> {
    const concurrency = request.concurrency ?? defaultConcurrency
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > maxConcurrency) {
      throw new ValidationError(`concurrency must be a whole number from 1 to ${maxConcurrency}`)
    }
    const canary = request.canary ?? 0
    if (!Number.isInteger(canary) || canary < 0) throw new ValidationError('canary must be a whole number of tenants (0 for none)')
    const options: RunOptions = { concurrency, canary, dryRun: request.dryRun === true }
    if (request.tenants !== undefined && request.tenants.length > 0) {
      const resolved: TenantRecord[] = []
      for (const key of request.tenants) {
        const tenant = await this.deps.tenants.get(key)
        if (!['active', 'suspended'].includes(tenant.status)) {
          throw new InvalidTransition(`tenant "${tenant.slug}" is ${tenant.status}; migrations run on active or suspended tenants`)
        }
        if (!resolved.some((t) => t.id === tenant.id)) resolved.push(tenant)
      }
      options.tenants = request.tenants
      options.tenantIds = resolved.map((t) => t.id)
    }
    if (request.retryFailedOf !== undefined) {
      const previous = await this.#runRow(request.retryFailedOf)
      const totals = await runTotals(this.deps.catalog, previous.id)
      if (previous.status === 'pending' || previous.status === 'running') {
        throw new OperationInProgress(`migration run ${previous.id} is still ${previous.status}; retry its failed tenants once it ended`)
      }
      if (totals.failed + totals.skipped === 0) throw new InvalidTransition(`migration run ${previous.id} has no failed or skipped tenants; there is nothing to retry`)
      options.retryFailedOf = previous.id
    }
    return options
  }

  async #runRow(id: string): Promise<MigrationRunRow> {
    const row = isUuid(id) ? await this.deps.catalog.selectFrom('migration_runs').selectAll().where('id', '=', id).executeTakeFirst() : undefined
    if (!row) throw new NotFound(`No migration run "${id.slice(0, 60)}". List them with \`tenantctl migrate runs\`.`)
    return row
  }

  /** One run with every tenant's outcome. */
  async getRun(id: string): Promise<MigrationRun> {
    const row = await this.#runRow(id)
    const tenants = await this.deps.catalog
      .selectFrom('migration_run_tenants as r')
      .innerJoin('tenants as t', 't.id', 'r.tenant_id')
      .selectAll('r')
      .select('t.slug')
      .where('r.run_id', '=', row.id)
      .orderBy('r.position')
      .execute()
    return {
      ...toSummary(row, await runTotals(this.deps.catalog, row.id)),
      tenants: tenants.map((r) => ({
        tenantId: r.tenant_id,
        slug: r.slug,
        status: r.status,
        applied: r.applied,
        drift: r.drift,
        pending: r.pending,
        error: r.error,
        durationMs: r.started_at && r.finished_at ? new Date(r.finished_at).getTime() - new Date(r.started_at).getTime() : null,
      })),
    }
  }

  /** Runs, newest first, with their totals. */
  async listRuns(query: { limit?: number; offset?: number } = {}): Promise<{ items: MigrationRunSummary[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.deps.catalog.selectFrom('migration_runs').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(query.limit ?? 50).offset(query.offset ?? 0).execute(),
      this.deps.catalog.selectFrom('migration_runs').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    ])
    const items = await Promise.all(rows.map(async (row) => toSummary(row, await runTotals(this.deps.catalog, row.id))))
    return { items, total: count.n }
  }

  /**
   * The tenant × migration matrix: every known migration file against every selected
   * tenant (active or suspended), read from each tenant database as the tenant's own role,
   * at most `concurrency` at once and within each host's connection budget. An unreachable
   * database shows "error" in every cell, with the reason.
   */
  async status(query: { tenants?: string[]; concurrency?: number } = {}): Promise<MigrationMatrix> {
    const concurrency = query.concurrency ?? defaultConcurrency
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > maxConcurrency) {
      throw new ValidationError(`concurrency must be a whole number from 1 to ${maxConcurrency}`)
    }
    let selected: TenantRecord[]
    if (query.tenants?.length) {
      selected = []
      for (const key of query.tenants) {
        const tenant = await this.deps.tenants.get(key)
        if (!selected.some((t) => t.id === tenant.id)) selected.push(tenant)
      }
    } else {
      selected = await liveTenants(this.deps.tenants)
    }
    const scopes = await readMigrationScopes(this.deps.migrationsDir, this.deps.modules)
    const migrations = scopes.flatMap((s) => s.files.map((f) => migrationKey(s.scope, f.name)))
    const budgets = await hostBudgets(this.deps.catalog)
    const rows = new Map<string, TenantMigrationStatus>()
    await runHostLimited(selected, (t) => t.host_id, { concurrency, hostBudget: (id) => budgets.get(id) ?? 1 }, async (tenant) => {
      const base = { id: tenant.id, slug: tenant.slug, hostName: tenant.host_name }
      try {
        const applied = await withTenantClient(tenant, this.deps.sealer, (client) => readAppliedMigrations(client))
        rows.set(tenant.id, { ...base, cells: compareMigrations(scopes, tenantScopeNames(tenant, this.deps.modules), applied) })
      } catch (error) {
        rows.set(tenant.id, { ...base, cells: Object.fromEntries(migrations.map((m) => [m, 'error' as const])), error: (error as Error).message || String(error) })
      }
    })
    return summarizeMatrix(migrations, selected.map((t) => rows.get(t.id)!))
  }
}

function emptyTotals(): RunTotals {
  return { total: 0, succeeded: 0, failed: 0, skipped: 0, pending: 0 }
}

function toSummary(row: MigrationRunRow, totals: RunTotals): MigrationRunSummary {
  return {
    id: row.id,
    operationId: row.operation_id,
    status: row.status,
    dryRun: row.dry_run,
    options: row.options as unknown as RunOptions,
    totals,
    error: row.error,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  }
}
