import { Type, type Static } from 'typebox'
import { StringEnum } from './common-schemas.js'

const RunMigrationsFields = Type.Object(
  {
    tenants: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 10_000, description: 'Tenant ids or slugs; all active and suspended tenants when absent' })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, description: 'Tenant databases migrated at once (default 4); each host also caps at its connection budget' })),
    canary: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'The first N tenants run one at a time first; a failure among them stops the run' })),
    dryRun: Type.Optional(Type.Boolean({ description: 'Show what each tenant lacks; apply nothing' })),
    retryFailedOf: Type.Optional(Type.String({ format: 'uuid', description: 'Run only the failed (and skipped) tenants of this run' })),
  },
  { additionalProperties: false }
)
/** The body may be left out: every active and suspended tenant, default concurrency. */
export const RunMigrationsBody = Type.Union([RunMigrationsFields, Type.Null()])
export type RunMigrationsBodyType = Static<typeof RunMigrationsBody>

export const MigrationRunStatusSchema = StringEnum(['pending', 'running', 'succeeded', 'failed'] as const)
export const MigrationRunTenantStatusSchema = StringEnum(['pending', 'running', 'succeeded', 'failed', 'skipped'] as const)
export const MigrationStateSchema = StringEnum(['applied', 'pending', 'drift', 'not_installed', 'error'] as const)

export const RunTotalsSchema = Type.Object({ total: Type.Integer(), succeeded: Type.Integer(), failed: Type.Integer(), skipped: Type.Integer(), pending: Type.Integer() })

const RunFields = {
  id: Type.String({ format: 'uuid' }),
  operationId: Type.Union([Type.String(), Type.Null()]),
  status: MigrationRunStatusSchema,
  dryRun: Type.Boolean(),
  options: Type.Object(
    {
      tenants: Type.Optional(Type.Array(Type.String())),
      tenantIds: Type.Optional(Type.Array(Type.String())),
      concurrency: Type.Integer(),
      canary: Type.Integer(),
      dryRun: Type.Boolean(),
      retryFailedOf: Type.Optional(Type.String()),
    }
  ),
  totals: RunTotalsSchema,
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why the run failed, e.g. "2 of 50 tenants failed: a, b — ..."' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
}

export const MigrationRunSummarySchema = Type.Object(RunFields)

export const MigrationRunTenantSchema = Type.Object({
  tenantId: Type.String(),
  slug: Type.String(),
  status: MigrationRunTenantStatusSchema,
  applied: Type.Array(Type.String(), { description: '"scope/file" applied by this run' }),
  drift: Type.Array(Type.String(), { description: 'applied files whose content changed since (reported, not re-run)' }),
  pending: Type.Array(Type.String(), { description: 'dry runs: what would be applied' }),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
})

export const MigrationRunSchema = Type.Object({ ...RunFields, tenants: Type.Array(MigrationRunTenantSchema) })

export const MigrationStatusQuery = Type.Object(
  {
    tenants: Type.Optional(Type.String({ maxLength: 10_000, description: 'Comma-separated tenant ids or slugs; all active and suspended tenants when absent' })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, default: 4 })),
  },
  { additionalProperties: false }
)

export const MigrationMatrixSchema = Type.Object({
  migrations: Type.Array(Type.String(), { description: 'Every known migration, "scope/file" (base first, then modules in dependency order)' }),
  tenants: Type.Array(
    Type.Object({
      id: Type.String(),
      slug: Type.String(),
      hostName: Type.String(),
      cells: Type.Record(Type.String(), MigrationStateSchema),
      error: Type.Optional(Type.String({ description: 'Why the database could not be read' })),
    })
  ),
  summary: Type.Object({
    tenants: Type.Integer(),
    upToDate: Type.Integer(),
    withPending: Type.Integer(),
    withDrift: Type.Integer(),
    withErrors: Type.Integer(),
    cells: Type.Record(Type.String(), Type.Integer()),
  }),
})
