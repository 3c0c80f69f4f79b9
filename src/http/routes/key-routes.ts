import type { FastifyInstance } from 'fastify'
import { requireSuperAdmin } from '../guards.js'
import { errorResponses } from '../schemas/common-schemas.js'
import { KeyStatusSchema, RotateKeysDone, RotateKeysQuery, RotateKeysStarted, type RotateKeysQueryType } from '../schemas/key-schemas.js'

/** Master key rotation (issue 9): what each key id seals, and re-sealing under the active id. Ids and counts only, never keys. */
export async function keyRoutes(app: FastifyInstance): Promise<void> {
  const { keys, operations, audit } = app.tenantd

  app.get(
    '/api/admin/keys',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['keys'],
        summary: 'The keyring (ids only, active first) and how many secrets each key id seals, including ids the keyring lacks',
        response: { 200: KeyStatusSchema, ...errorResponses },
      },
    },
    async () => keys.status()
  )

  app.post(
    '/api/admin/keys/rotate',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['keys'],
        summary:
          'Re-seal every secret not sealed by the active (first) key id, in batches, resumably; 202 with the operation id (a rotation already under way is returned, not doubled); ?wait=true answers 200 with the counts',
        querystring: RotateKeysQuery,
        response: { 200: RotateKeysDone, 202: RotateKeysStarted, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { wait = false, batchSize } = request.query as RotateKeysQueryType
      const { operationId, started } = await keys.requestRotation(request.principal?.id, batchSize)
      if (started) {
        await audit.record({
          actorType: 'operator',
          actorId: request.principal?.id ?? null,
          actorEmail: request.principal?.email ?? null,
          ip: request.ip,
          action: 'keys.rotate',
          target: (await keys.status()).activeKeyId,
          details: { operationId },
        })
      }
      const execution = operations.execute(operationId)
      if (wait) {
        const operation = await operations.ended(execution)
        return reply.status(200).send({ operation, resealed: await keys.result(operationId), status: await keys.status() })
      }
      execution.catch((error) => request.log.error({ err: error }, 'key rotation crashed'))
      return reply.status(202).send({ operationId })
    }
  )
}
