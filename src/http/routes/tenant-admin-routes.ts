import { Type, type Static } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { performance } from 'node:perf_hooks'
import { isConnectionFailure, sqlState, TenantDatabaseUnavailable } from '../../errors.js'
import { tenantStats } from '../../tenancy/tenant-stats.js'
import { withTenantClient } from '../../tenancy/tenant-connection.js'
import { assertCanAdministerTenant, requireOperator, requireSuperAdmin } from '../guards.js'
import { ErrorSchema, IdParams, errorResponses } from '../schemas/common-schemas.js'
import {
  CancelBody,
  DeleteBody,
  ListTenantsQuery,
  OperationSchema,
  ProvisionTenantBody,
  type ProvisionTenantBodyType,
  SuspendBody,
  TenantListItemSchema,
  TenantSchema,
  WaitQuery,
} from '../schemas/tenant-schemas.js'

type Body<T> = T | null | undefined

/** Runbook 002's tenant management: provision, list, show, lifecycle, test-connection. */
export async function tenantAdminRoutes(app: FastifyInstance): Promise<void> {
  const { provisioner, operations, tenants, lifecycle, audit, sealer } = app.tenantd

  const actor = (request: FastifyRequest) => ({
    actorType: 'operator' as const,
    actorId: request.principal?.id ?? null,
    actorEmail: request.principal?.email ?? null,
    ip: request.ip,
  })

  app.post(
    '/api/admin/tenants/provision',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: 'Provision a tenant: role, database, base schema, first admin (runbook 002)',
        body: ProvisionTenantBody,
        querystring: WaitQuery,
        response: {
          201: Type.Object({ tenant: TenantSchema, operation: OperationSchema }),
          202: Type.Object({ tenant: TenantSchema, operationId: Type.String() }),
          ...errorResponses,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as ProvisionTenantBodyType
      const { tenant, operation } = await provisioner.request(body, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'tenant.provision', target: tenant.slug, details: { plan: tenant.plan_id, host: tenant.host_name, operationId: operation.id } })
      const run = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        const finished = await operations.ended(run)
        const current = tenants.toApi(await tenants.get(tenant.id).catch(() => tenant))
        return reply.status(finished.status === 'succeeded' ? 201 : 202).send(
          finished.status === 'succeeded' ? { tenant: current, operation: finished } : { tenant: current, operationId: operation.id }
        )
      }
      run.catch((error) => request.log.error({ err: error }, 'provision operation crashed'))
      return reply.status(202).send({ tenant: tenants.toApi(tenant), operationId: operation.id })
    }
  )

  app.get(
    '/api/admin/tenants',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: 'List tenants (filter by status, plan, search; paginated)',
        querystring: ListTenantsQuery,
        response: { 200: Type.Object({ items: Type.Array(TenantListItemSchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as Static<typeof ListTenantsQuery>
      const limit = query.limit ?? 50
      const offset = query.offset ?? 0
      const { items, total } = await tenants.list({ ...query, limit, offset })
      const backups = items.length
        ? await app.tenantd.catalog.db
            .selectFrom('backups')
            .select(['tenant_id', 'id', 'state', 'created_at', 'size_bytes'])
            .distinctOn('tenant_id')
            .where('tenant_id', 'in', items.map((t) => t.id))
            .where('state', 'in', ['completed', 'verified'])
            .orderBy('tenant_id')
            .orderBy('created_at', 'desc')
            .execute()
        : []
      const last = new Map(backups.map((b) => [b.tenant_id, { id: b.id, state: b.state, at: new Date(b.created_at).toISOString(), sizeBytes: b.size_bytes === null ? null : Number(b.size_bytes) }]))
      return { items: items.map((t) => ({ ...tenants.toApi(t), modules: t.modules, sizeBytes: t.size_bytes === null ? null : Number(t.size_bytes), lastBackup: last.get(t.id) ?? null })), total, limit, offset }
    }
  )

  app.get(
    '/api/admin/tenants/:id',
    {
      preHandler: requireOperator,
      schema: { tags: ['tenants'], summary: 'One tenant, by id or slug', params: IdParams, response: { 200: TenantSchema, ...errorResponses } },
    },
    async (request) => {
      const tenant = await tenants.get((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      return tenants.toApi(tenant)
    }
  )

  const transition = (
    path: string,
    summary: string,
    body: typeof SuspendBody | typeof CancelBody,
    run: (key: string, body: Record<string, unknown>) => Promise<Parameters<typeof tenants.toApi>[0]>,
    action: string
  ) =>
    app.post(
      `/api/admin/tenants/:id/${path}`,
      { preHandler: requireSuperAdmin, schema: { tags: ['tenants'], summary, params: IdParams, body, response: { 200: TenantSchema, ...errorResponses } } },
      async (request) => {
        const input = (request.body as Body<Record<string, unknown>>) ?? {}
        const tenant = await run((request.params as { id: string }).id, input)
        await audit.record({ ...actor(request), tenantId: tenant.id, action, target: tenant.slug, details: input })
        return tenants.toApi(tenant)
      }
    )

  transition('suspend', 'Suspend: traffic answers 403 TenantSuspended (runbook 002)', SuspendBody, (key, b) => lifecycle.suspend(key, b.reason as string | undefined), 'tenant.suspend')
  transition('reactivate', 'Reactivate a suspended, canceled or soft-deleted tenant (runbook 002)', SuspendBody, (key) => lifecycle.reactivate(key), 'tenant.reactivate')
  transition('cancel', 'Cancel: traffic refused, database kept for the retention period (runbook 002)', CancelBody, (key, b) => lifecycle.cancel(key, b.retentionDays as number | undefined), 'tenant.cancel')

  app.post(
    '/api/admin/tenants/:id/delete',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: 'Delete: soft keeps the database; hard drops database and role (after cancel + retention, or force) (runbook 002)',
        params: IdParams,
        body: DeleteBody,
        querystring: WaitQuery,
        response: { 200: TenantSchema, 202: Type.Object({ tenant: TenantSchema, operationId: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const input = (request.body as Body<{ hardDelete?: boolean; force?: boolean; skipFinalBackup?: boolean }>) ?? {}
      const key = (request.params as { id: string }).id
      if (!input.hardDelete) {
        const tenant = await lifecycle.softDelete(key)
        await audit.record({ ...actor(request), tenantId: tenant.id, action: 'tenant.delete', target: tenant.slug, details: { hardDelete: false } })
        return tenants.toApi(tenant)
      }
      const skipFinalBackup = input.skipFinalBackup === true
      const { tenant, operation, finalBackup } = await lifecycle.requestHardDelete(key, input.force === true, request.principal?.id, { skipFinalBackup })
      await audit.record({
        ...actor(request),
        tenantId: tenant.id,
        action: 'tenant.hard_delete',
        target: tenant.slug,
        details: { force: input.force === true, finalBackup, ...(skipFinalBackup ? { skipFinalBackup } : {}), operationId: operation.id },
      })
      const run = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        const finished = await operations.ended(run)
        const after = await app.tenantd.catalog.db.selectFrom('tenants').select('id').where('id', '=', tenant.id).executeTakeFirst()
        if (finished.status === 'succeeded' && after) {
          return reply.status(200).send({ ...tenants.toApi(tenant), status: 'deleted', deletedAt: finished.finishedAt })
        }
      } else {
        run.catch((error) => request.log.error({ err: error }, 'delete operation crashed'))
      }
      return reply.status(202).send({ tenant: tenants.toApi(tenant), operationId: operation.id })
    }
  )

  app.get(
    '/api/admin/tenants/:id/stats',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['tenants'],
        summary: "Database size, row counts, active connections and this process's pool (runbook 003 monitor script)",
        params: IdParams,
        response: { 200: TenantStatsSchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request) => {
      const tenant = await tenants.get((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      try {
        return await tenantStats(tenant, sealer, app.tenantd.pools)
      } catch (error) {
        if (isConnectionFailure(error)) throw new TenantDatabaseUnavailable(tenant.slug, tenant.slug, { cause: error })
        throw error
      }
    }
  )

  app.post(
    '/api/admin/tenants/:id/test-connection',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['tenants'],
        summary: 'Connect to the tenant database as the tenant\'s role and run a query (runbook 003)',
        params: IdParams,
        response: {
          200: Type.Object({ ok: Type.Boolean(), latencyMs: Type.Number(), database: Type.String(), host: Type.String(), error: Type.Optional(Type.String()), message: Type.Optional(Type.String()) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const tenant = await tenants.get((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      const started = performance.now()
      const where = { database: tenant.database_name, host: `${tenant.host_name} (${tenant.host_address}:${tenant.host_port})` }
      try {
        await withTenantClient(tenant, sealer, (client) => client.query('select 1'))
        return { ok: true, latencyMs: round(performance.now() - started), ...where }
      } catch (error) {
        const code = sqlState(error)
        const message = isConnectionFailure(error)
          ? `cannot connect to ${where.database} on ${where.host}: ${(error as Error).message}. Check the host is up (GET /api/ready) and the database exists.`
          : `connected but the query failed: ${(error as Error).message}`
        return { ok: false, latencyMs: round(performance.now() - started), ...where, error: code ?? 'ConnectionFailed', message }
      }
    }
  )
}

const TenantStatsSchema = Type.Object(
  {
    tenantId: Type.String(),
    slug: Type.String(),
    database: Type.String(),
    sizeBytes: Type.Integer(),
    size: Type.String(),
    activeConnections: Type.Integer({ description: 'Sessions on the tenant database, besides the one measuring' }),
    connectionLimit: Type.Integer({ description: "The plan's CONNECTION LIMIT of the tenant's role" }),
    tables: Type.Array(Type.Object({ name: Type.String(), rows: Type.Integer(), exact: Type.Boolean({ description: 'false: an estimate (tables over 100 000 rows)' }) })),
    pool: Type.Union([Type.Object({ total: Type.Integer(), idle: Type.Integer(), waiting: Type.Integer(), leases: Type.Integer() }), Type.Null()]),
    measuredAt: Type.String(),
  },
  { $id: 'TenantStats' }
)

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
