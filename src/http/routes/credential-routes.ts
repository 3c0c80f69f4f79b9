import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { OperationFailed } from '../../errors.js'
import { requireSuperAdmin } from '../guards.js'
import { errorResponses, IdParams } from '../schemas/common-schemas.js'
import { OperationSchema, WaitQuery } from '../schemas/tenant-schemas.js'

/** Credential rotation of a tenant's database role (issue 9): a new password, no failed request on any replica. */
export async function credentialRoutes(app: FastifyInstance): Promise<void> {
  const { credentialRotation, operations, audit } = app.tenantd

  app.post(
    '/api/admin/tenants/:id/rotate-credentials',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: "Rotate the tenant database's credential: new login role password, pools switch and drain, then the old one stops working",
        params: IdParams,
        querystring: WaitQuery,
        response: {
          200: Type.Object({ operation: OperationSchema }),
          202: Type.Object({ operationId: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { tenant, operation } = await credentialRotation.request((request.params as { id: string }).id, request.principal?.id)
      await audit.record({
        actorType: 'operator',
        actorId: request.principal?.id ?? null,
        actorEmail: request.principal?.email ?? null,
        ip: request.ip,
        tenantId: tenant.id,
        action: 'tenant.credentials_rotation_requested',
        target: tenant.slug,
        details: { operationId: operation.id },
      })
      const run = operations.execute(operation.id)
      if ((request.query as { wait?: boolean }).wait) {
        const done = await operations.ended(run)
        if (done.status !== 'succeeded') {
          throw new OperationFailed(
            `operation ${operation.id} ${done.status} at step ${done.step ?? '?'}: ${done.error ?? 'no error recorded'}. Fix the cause, then \`tenantctl ops retry ${operation.id}\`.`
          )
        }
        return reply.status(200).send({ operation: done })
      }
      run.catch((error) => request.log.error({ err: error }, 'credential rotation crashed'))
      return reply.status(202).send({ operationId: operation.id })
    }
  )
}
