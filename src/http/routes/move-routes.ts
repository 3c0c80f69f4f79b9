import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OperationFailed } from '../../errors.js'
import { assertCanAdministerTenant, requireOperator, requireSuperAdmin } from '../guards.js'
import { errorResponses, IdParams } from '../schemas/common-schemas.js'
import { MoveBody, MoveSchema, type MoveBodyType } from '../schemas/move-schemas.js'
import { OperationSchema, WaitQuery } from '../schemas/tenant-schemas.js'

/** Moves of a tenant's database to another db host (issue 9), their rollback and history. */
export async function moveRoutes(app: FastifyInstance): Promise<void> {
  const { moves, operations, audit } = app.tenantd

  const actor = (request: FastifyRequest) => ({ actorType: 'operator' as const, actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip })
  const done = { 200: Type.Object({ operation: OperationSchema, move: Type.Union([MoveSchema, Type.Null()]) }), 202: Type.Object({ operationId: Type.String() }), ...errorResponses }

  /** Runs the operation; with ?wait=true answers once it ended (the move record with it). */
  const runOrWait = async (request: FastifyRequest, operationId: string) => {
    const run = operations.execute(operationId)
    if (!(request.query as { wait?: boolean }).wait) {
      run.catch((error) => request.log.error({ err: error }, 'move operation crashed'))
      return { status: 202 as const, body: { operationId } }
    }
    const finished = await operations.ended(run)
    if (finished.status !== 'succeeded') {
      throw new OperationFailed(`operation ${operationId} ${finished.status} at step ${finished.step ?? '?'}: ${finished.error ?? 'no error recorded'}. Fix the cause, then \`tenantctl ops retry ${operationId}\`.`)
    }
    return { status: 200 as const, body: { operation: finished, move: (await moves.byOperation(operationId)) ?? null } }
  }

  app.post(
    '/api/admin/tenants/:id/move',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: "Move the tenant's database to another db host: copied while writable, a short freeze to move the last changes, verified, switched; the source kept for rollback",
        params: IdParams,
        querystring: WaitQuery,
        body: MoveBody,
        response: done,
      },
    },
    async (request, reply) => {
      const { targetHostId } = request.body as MoveBodyType
      const { tenant, operation } = await moves.requestMove((request.params as { id: string }).id, targetHostId, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'tenant.move_requested', target: tenant.slug, details: { operationId: operation.id, from: tenant.host_name, to: targetHostId } })
      const { status, body } = await runOrWait(request, operation.id)
      return reply.status(status).send(body)
    }
  )

  app.post(
    '/api/admin/tenants/:id/move/rollback',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: 'Return the tenant to the host its last move took it from, with every write made since; 409 MoveNotRollbackable says why not',
        params: IdParams,
        querystring: WaitQuery,
        response: done,
      },
    },
    async (request, reply) => {
      const { tenant, move, operation } = await moves.requestRollback((request.params as { id: string }).id, request.principal?.id)
      await audit.record({ ...actor(request), tenantId: tenant.id, action: 'tenant.move_rollback_requested', target: tenant.slug, details: { operationId: operation.id, moveId: move.id } })
      const { status, body } = await runOrWait(request, operation.id)
      return reply.status(status).send(body)
    }
  )

  app.get(
    '/api/admin/tenants/:id/moves',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['tenants'],
        summary: 'Moves of a tenant, newest first: method used and why, freeze, kept source and its rollback deadline',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(MoveSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenant, items } = await moves.list((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      return { items }
    }
  )
}
