import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { toOperation, type Operation } from '../../operations/operation-runner.js'
import { requireSuperAdmin } from '../guards.js'
import { errorResponses, Pagination } from '../schemas/common-schemas.js'
import { OperationSchema, OperationStatusSchema } from '../schemas/tenant-schemas.js'

const OperationParams = Type.Object({ id: Type.String({ maxLength: 100 }) })

/** Durable operations: list, show, retry (resume from the recorded step), rollback. */
export async function operationRoutes(app: FastifyInstance): Promise<void> {
  const { operations, tenants, audit, catalog } = app.tenantd

  /** Adds each operation's tenant slug (purged tenants keep theirs in the catalog). */
  const withSlugs = async (ops: Operation[]): Promise<Operation[]> => {
    const ids = [...new Set(ops.map((op) => op.tenantId).filter((id): id is string => id !== null))]
    if (!ids.length) return ops
    const rows = await catalog.db.selectFrom('tenants').select(['id', 'slug']).where('id', 'in', ids).execute()
    const slugs = new Map(rows.map((r) => [r.id, r.slug]))
    return ops.map((op) => ({ ...op, tenantSlug: op.tenantId ? (slugs.get(op.tenantId) ?? null) : null }))
  }

  app.get(
    '/api/admin/operations',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['operations'],
        summary: 'List operations, newest first',
        querystring: Type.Object(
          {
            tenantId: Type.Optional(Type.String({ maxLength: 100, description: 'Tenant id or slug' })),
            status: Type.Optional(OperationStatusSchema),
            kind: Type.Optional(Type.String({ maxLength: 50 })),
            ...Pagination,
          },
          { additionalProperties: false }
        ),
        response: { 200: Type.Object({ items: Type.Array(OperationSchema), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as { tenantId?: string; status?: never; kind?: string; limit?: number; offset?: number }
      const tenantId = query.tenantId ? (await tenants.get(query.tenantId)).id : undefined
      const { items, total } = await operations.list({ ...query, tenantId })
      return { items: await withSlugs(items.map(toOperation)), total }
    }
  )

  app.get(
    '/api/admin/operations/:id',
    { preHandler: requireSuperAdmin, schema: { tags: ['operations'], summary: 'One operation: status, step, progress, error', params: OperationParams, response: { 200: OperationSchema, ...errorResponses } } },
    async (request) => (await withSlugs([toOperation(await operations.get((request.params as { id: string }).id))]))[0]
  )

  app.post(
    '/api/admin/operations/:id/retry',
    {
      preHandler: requireSuperAdmin,
      schema: { tags: ['operations'], summary: 'Resume a failed or abandoned operation from its recorded step', params: OperationParams, response: { 202: Type.Object({ operationId: Type.String(), operation: OperationSchema }), ...errorResponses } },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id
      const before = await operations.get(id)
      const { operation, finished } = await operations.retry(id)
      finished.catch((error) => request.log.error({ err: error }, 'retried operation crashed'))
      await audit.record({ actorType: 'operator', actorId: request.principal?.id, actorEmail: request.principal?.email, ip: request.ip, tenantId: before.tenant_id, action: 'operation.retry', target: id, details: { kind: before.kind, step: before.step } })
      return reply.status(202).send({ operationId: id, operation })
    }
  )

  app.post(
    '/api/admin/operations/:id/rollback',
    {
      preHandler: requireSuperAdmin,
      schema: { tags: ['operations'], summary: 'Undo a failed or abandoned operation (e.g. a half-done provision: drops its database and role)', params: OperationParams, response: { 200: OperationSchema, ...errorResponses } },
    },
    async (request) => {
      const id = (request.params as { id: string }).id
      const op = await operations.rollback(id)
      await audit.record({ actorType: 'operator', actorId: request.principal?.id, actorEmail: request.principal?.email, ip: request.ip, tenantId: op.tenantId, action: 'operation.rollback', target: id, details: { kind: op.kind } })
      return op
    }
  )
}
