import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { requireOperator, requireSuperAdmin } from '../guards.js'
import { errorResponses } from '../schemas/common-schemas.js'
import { BackupScheduleSchema, SlotResultSchema } from '../schemas/backup-schedule-schemas.js'
import { WaitQuery } from '../schemas/tenant-schemas.js'

/** Scheduled backups (issue 8): what runs when, the recent slots, and a fleet backup now. */
export async function backupScheduleRoutes(app: FastifyInstance): Promise<void> {
  const { backupScheduler, audit } = app.tenantd

  app.get(
    '/api/admin/backups/schedule',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['backups'],
        summary: 'The backup schedules in use (default and per plan) with their next run, the bounds, and the latest slots with their failures',
        response: { 200: BackupScheduleSchema, ...errorResponses },
      },
    },
    async () => backupScheduler.status()
  )

  app.post(
    '/api/admin/backups/run-all',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['backups'],
        summary: 'Back up every active tenant now, as a slot of its own (concurrency bounds, retries, test restores, retention). 202 at once; ?wait=true answers 200 when it ended',
        querystring: WaitQuery,
        response: {
          200: SlotResultSchema,
          202: Type.Object({ slotAt: Type.String({ format: 'date-time' }) }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { slotAt, finished } = await backupScheduler.runNow()
      await audit.record({ actorType: 'operator', actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip, action: 'backup.run_all', details: { slotAt: slotAt.toISOString() } })
      if (!(request.query as { wait?: boolean }).wait) return reply.status(202).send({ slotAt: slotAt.toISOString() })
      const result = await finished
      if (!result) return reply.status(202).send({ slotAt: slotAt.toISOString() })
      return { ...result, slotAt: result.slotAt.toISOString() }
    }
  )
}
