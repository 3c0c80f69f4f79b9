import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { requireSuperAdmin } from '../guards.js'
import { errorResponses, Pagination } from '../schemas/common-schemas.js'
import {
  MigrationMatrixSchema,
  MigrationRunSchema,
  MigrationRunSummarySchema,
  MigrationStatusQuery,
  RunMigrationsBody,
  type RunMigrationsBodyType,
} from '../schemas/migration-schemas.js'
import { WaitQuery } from '../schemas/tenant-schemas.js'

const RunParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'Migration run id' }) })

/** Fleet-wide tenant migrations: run (with canary, dry run, retry of failures), follow runs, the status matrix. */
export async function migrationRoutes(app: FastifyInstance): Promise<void> {
  const { migrations, operations, audit } = app.tenantd

  app.post(
    '/api/admin/migrations/run',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['migrations'],
        summary: 'Migrate tenant databases to the current migrations, with bounded concurrency; 202 with the run id (follow GET /api/admin/migrations/runs/:id)',
        body: RunMigrationsBody,
        querystring: WaitQuery,
        response: { 200: MigrationRunSchema, 202: Type.Object({ runId: Type.String(), operationId: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = (request.body as RunMigrationsBodyType | undefined) ?? {}
      const { run, operation } = await migrations.requestRun(body, request.principal?.id)
      await audit.record({
        actorType: 'operator',
        actorId: request.principal?.id ?? null,
        actorEmail: request.principal?.email ?? null,
        ip: request.ip,
        action: 'migrations.run',
        target: run.id,
        details: { operationId: operation.id, ...body },
      })
      const execution = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        await operations.ended(execution)
        return reply.status(200).send(await migrations.getRun(run.id))
      }
      execution.catch((error) => request.log.error({ err: error }, 'migration run crashed'))
      return reply.status(202).send({ runId: run.id, operationId: operation.id })
    }
  )

  app.get(
    '/api/admin/migrations/runs',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['migrations'],
        summary: 'Migration runs, newest first, with their totals',
        querystring: Type.Object(Pagination, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(MigrationRunSummarySchema), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => migrations.listRuns(request.query as { limit?: number; offset?: number })
  )

  app.get(
    '/api/admin/migrations/runs/:id',
    {
      preHandler: requireSuperAdmin,
      schema: { tags: ['migrations'], summary: "One migration run with each tenant's outcome: applied, drift, error, duration", params: RunParams, response: { 200: MigrationRunSchema, ...errorResponses } },
    },
    async (request) => migrations.getRun((request.params as { id: string }).id)
  )

  app.get(
    '/api/admin/migrations/status',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['migrations'],
        summary: 'Tenant × migration matrix: applied, pending, drift, not_installed, or error (database unreachable)',
        querystring: MigrationStatusQuery,
        response: { 200: MigrationMatrixSchema, ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as { tenants?: string; concurrency?: number }
      const tenants = query.tenants?.split(',').map((s) => s.trim()).filter(Boolean)
      return migrations.status({ tenants, concurrency: query.concurrency })
    }
  )
}
