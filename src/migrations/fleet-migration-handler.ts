import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { MigrationRunTenantRow } from '../catalog/catalog-schema.js'
import type { Logger } from '../logger.js'
import type { ModuleRegistry } from '../modules/module-registry.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { withTenantClient } from '../tenancy/tenant-connection.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { runHostLimited } from './host-limited-pool.js'
import { compareMigrations, migrationKey, readAppliedMigrations, readMigrationScopes, tenantScopeNames, type MigrationScope } from './migration-status.js'
import { migrateTenantDatabase } from './tenant-migrator.js'

export interface FleetMigratorDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  sealer: SecretSealer
  modules: ModuleRegistry
  /** tenant-migrations/ (base/ and modules/<name>/). */
  migrationsDir: string
  log?: Logger
}

/** What a run was asked to do, as recorded in migration_runs.options. */
export interface RunOptions {
  /** The selection as given (ids or slugs); absent means every active or suspended tenant. */
  tenants?: string[]
  /** The selection resolved to tenant ids, in the given order. */
  tenantIds?: string[]
  concurrency: number
  /** The first this-many tenants run one at a time first; one failure stops the run. */
  canary: number
  dryRun: boolean
  /** Run only this run's failed (and skipped) tenants. */
  retryFailedOf?: string
}

export interface MigrateFleetParams {
  runId: string
}

export interface RunTotals {
  total: number
  succeeded: number
  failed: number
  skipped: number
  pending: number
}

/** Tenants a fleet migration touches: active or suspended (their databases exist and are kept current). */
export async function liveTenants(tenants: TenantDirectory): Promise<TenantRecord[]> {
  const [active, suspended] = await Promise.all([tenants.list({ status: 'active', limit: 1_000_000 }), tenants.list({ status: 'suspended', limit: 1_000_000 })])
  return [...active.items, ...suspended.items].sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || a.id.localeCompare(b.id))
}

/** Each db host's connection budget for migrations. */
export async function hostBudgets(catalog: CatalogDb): Promise<Map<string, number>> {
  const rows = await catalog.selectFrom('db_hosts').select(['id', 'connection_budget']).execute()
  return new Map(rows.map((r) => [r.id, r.connection_budget]))
}

export async function runTotals(catalog: CatalogDb, runId: string): Promise<RunTotals> {
  const rows = await catalog
    .selectFrom('migration_run_tenants')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .where('run_id', '=', runId)
    .groupBy('status')
    .execute()
  const count = (...statuses: string[]) => rows.filter((r) => statuses.includes(r.status)).reduce((sum, r) => sum + r.n, 0)
  return {
    total: count('pending', 'running', 'succeeded', 'failed', 'skipped'),
    succeeded: count('succeeded'),
    failed: count('failed'),
    skipped: count('skipped'),
    pending: count('pending', 'running'),
  }
}

type Outcome = { status: 'succeeded' | 'failed' | 'skipped'; slug: string; error?: string }

/**
 * The `migrate_fleet` operation: planTenants records which tenants the run covers (one
 * pending row each); migrateTenants brings each of them up to date, base scope first, then
 * its installed modules in dependency order. Both steps are idempotent: a resumed run
 * skips tenants already succeeded, and re-running a tenant applies only what it still lacks
 * (the per-database advisory lock and tenant_migrations make two runners safe).
 *
 * One broken tenant never stops the others: its error is recorded on its row and the run
 * goes on; at the end the operation fails, naming the failed tenants, so the run is red and
 * `tenantctl migrate --retry-failed <runId>` picks up exactly those. With a canary, the first
 * N tenants run alone first and any failure among them stops the run (the rest skipped).
 */
export function fleetMigrationHandler(deps: FleetMigratorDeps): OperationHandler<MigrateFleetParams> {
  const { catalog } = deps

  const loadRun = async (runId: string) => {
    const run = await catalog.selectFrom('migration_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow()
    return { run, options: run.options as unknown as RunOptions }
  }

  const finishRun = async (runId: string, status: 'succeeded' | 'failed', error: string | null) => {
    const totals = await runTotals(catalog, runId)
    await catalog
      .updateTable('migration_runs')
      .set({ status, error, totals: JSON.stringify(totals), finished_at: new Date() })
      .where('id', '=', runId)
      .execute()
    return totals
  }

  const setRow = (runId: string, tenantId: string, fields: Partial<Pick<MigrationRunTenantRow, 'status' | 'applied' | 'drift' | 'pending' | 'error'>> & { started_at?: Date; finished_at?: Date | null }) =>
    catalog.updateTable('migration_run_tenants').set(fields).where('run_id', '=', runId).where('tenant_id', '=', tenantId).execute()

  /** Brings one tenant up to date (or, dry, computes what it lacks); records the outcome, never throws for tenant trouble. */
  const migrateTenant = async (runId: string, row: MigrationRunTenantRow, tenant: TenantRecord | undefined, scopes: Map<string, MigrationScope>, dryRun: boolean): Promise<Outcome> => {
    if (!tenant) {
      await setRow(runId, row.tenant_id, { status: 'skipped', error: 'tenant is no longer active or suspended', finished_at: new Date() })
      return { status: 'skipped', slug: row.tenant_id }
    }
    await setRow(runId, row.tenant_id, { status: 'running', applied: [], drift: [], pending: [], error: null, started_at: new Date(), finished_at: null })
    const applied: string[] = []
    const drift: string[] = []
    const pending: string[] = []
    try {
      const names = tenantScopeNames(tenant, deps.modules)
      await withTenantClient(tenant, deps.sealer, async (client) => {
        if (dryRun) {
          const cells = compareMigrations([...scopes.values()], names, await readAppliedMigrations(client))
          for (const [key, state] of Object.entries(cells)) {
            if (state === 'pending') pending.push(key)
            if (state === 'drift') drift.push(key)
          }
          return
        }
        for (const scope of names) {
          const result = await migrateTenantDatabase(client, scope, scopes.get(scope)?.files ?? [])
          applied.push(...result.applied.map((name) => migrationKey(scope, name)))
          drift.push(...result.drift.map((name) => migrationKey(scope, name)))
        }
      })
      await setRow(runId, row.tenant_id, { status: 'succeeded', applied, drift, pending, finished_at: new Date() })
      return { status: 'succeeded', slug: tenant.slug }
    } catch (error) {
      const message = (error as Error).message || String(error)
      await setRow(runId, row.tenant_id, { status: 'failed', applied, drift, pending, error: message.slice(0, 2000), finished_at: new Date() })
      deps.log?.warn({ runId, tenantId: tenant.id, slug: tenant.slug, err: { message } }, 'tenant migration failed')
      return { status: 'failed', slug: tenant.slug, error: message }
    }
  }

  const failedMessage = (runId: string, failed: string[], total: number, dryRun: boolean) => {
    const shown = failed.slice(0, 10).join(', ') + (failed.length > 10 ? ` and ${failed.length - 10} more` : '')
    return `${failed.length} of ${total} tenants failed: ${shown} — fix them and run \`tenantctl migrate ${dryRun ? '--dry-run ' : ''}--retry-failed ${runId}\``
  }

  return {
    kind: 'migrate_fleet',
    steps: [
      {
        name: 'planTenants',
        async run(context) {
          const { run, options } = await loadRun(context.params.runId)
          const live = await liveTenants(deps.tenants)
          let selected = live
          if (options.retryFailedOf) {
            const again = await catalog
              .selectFrom('migration_run_tenants')
              .select('tenant_id')
              .where('run_id', '=', options.retryFailedOf)
              .where('status', 'in', ['failed', 'skipped'])
              .orderBy('position')
              .execute()
            // In the failed run's order, so its canaries are canaries again.
            const byId = new Map(selected.map((t) => [t.id, t]))
            selected = again.map((r) => byId.get(r.tenant_id)).filter((t): t is TenantRecord => t !== undefined)
          }
          if (options.tenantIds) {
            const ids = new Set(options.tenantIds)
            const byId = new Map(selected.map((t) => [t.id, t]))
            selected = options.retryFailedOf
              ? selected.filter((t) => ids.has(t.id))
              : options.tenantIds.map((id) => byId.get(id)).filter((t): t is TenantRecord => t !== undefined)
          }
          if (selected.length === 0) return
          // Rows already planned by an earlier attempt stay as they are.
          await catalog
            .insertInto('migration_run_tenants')
            .values(selected.map((t, position) => ({ run_id: run.id, tenant_id: t.id, position })))
            .onConflict((oc) => oc.columns(['run_id', 'tenant_id']).doNothing())
            .execute()
        },
      },
      {
        name: 'migrateTenants',
        async run(context: StepContext<MigrateFleetParams>) {
          const runId = context.params.runId
          const { options } = await loadRun(runId)
          await catalog.updateTable('migration_runs').set({ status: 'running', error: null, finished_at: null }).where('id', '=', runId).execute()
          const rows = await catalog.selectFrom('migration_run_tenants').selectAll().where('run_id', '=', runId).orderBy('position').execute()
          const total = rows.length
          const scopes = new Map((await readMigrationScopes(deps.migrationsDir, deps.modules)).map((s) => [s.scope, s]))
          const fleet = new Map((await liveTenants(deps.tenants)).map((t) => [t.id, t]))
          const budgets = await hostBudgets(catalog)
          let done = rows.filter((r) => r.status === 'succeeded').length
          const report = () => context.progress(total === 0 ? 100 : (done / total) * 100)
          await report()
          const run = async (row: MigrationRunTenantRow) => {
            const outcome = await migrateTenant(runId, row, fleet.get(row.tenant_id), scopes, options.dryRun)
            done++
            await report()
            return outcome
          }
          const todo = rows.filter((r) => r.status !== 'succeeded')

          const canaries = options.dryRun ? new Set<string>() : new Set(rows.slice(0, options.canary).map((r) => r.tenant_id))
          const canaryRows = todo.filter((r) => canaries.has(r.tenant_id))
          for (const [index, row] of canaryRows.entries()) {
            const outcome = await run(row)
            if (outcome.status !== 'failed') continue
            const rest = todo.filter((r) => !canaryRows.slice(0, index + 1).includes(r)).map((r) => r.tenant_id)
            if (rest.length) {
              await catalog
                .updateTable('migration_run_tenants')
                .set({ status: 'skipped', error: `not run: canary ${outcome.slug} failed`, applied: [], drift: [], pending: [], started_at: null, finished_at: null })
                .where('run_id', '=', runId)
                .where('tenant_id', 'in', rest)
                .execute()
            }
            const message = `canary tenant ${outcome.slug} failed: ${outcome.error}; run stopped, ${rest.length} tenants skipped — fix it and run \`tenantctl migrate --retry-failed ${runId}\``
            await finishRun(runId, 'failed', message)
            throw new Error(message)
          }

          const others = todo.filter((r) => !canaries.has(r.tenant_id))
          await runHostLimited(
            others,
            (row) => fleet.get(row.tenant_id)?.host_id ?? 'unknown',
            { concurrency: options.concurrency, hostBudget: (hostId) => budgets.get(hostId) ?? 1 },
            async (row) => {
              await run(row)
            }
          )

          const failed = await catalog
            .selectFrom('migration_run_tenants as r')
            .innerJoin('tenants as t', 't.id', 'r.tenant_id')
            .select('t.slug')
            .where('r.run_id', '=', runId)
            .where('r.status', '=', 'failed')
            .orderBy('r.position')
            .execute()
          if (failed.length > 0) {
            const message = failedMessage(runId, failed.map((f) => f.slug), total, options.dryRun)
            await finishRun(runId, 'failed', message)
            throw new Error(message)
          }
          await finishRun(runId, 'succeeded', null)
        },
      },
    ],
    async onFailure(context, error) {
      // A crash outside one tenant (catalog down, plan failed): make the run red too.
      await catalog
        .updateTable('migration_runs')
        .set({ status: 'failed', error: error.message.slice(0, 2000), finished_at: new Date() })
        .where('id', '=', context.params.runId)
        .where('status', 'in', ['pending', 'running'])
        .execute()
      const totals = await runTotals(catalog, context.params.runId)
      await catalog.updateTable('migration_runs').set({ totals: JSON.stringify(totals) }).where('id', '=', context.params.runId).execute()
    },
  }
}
