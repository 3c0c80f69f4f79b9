import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { validCron } from '../../backups/backup-schedule-times.js'
import { ValidationError } from '../../errors.js'
import type { PlanChanges } from '../../plans/plan-catalog.js'
import { requireOperator, requireSuperAdmin } from '../guards.js'
import { errorResponses } from '../schemas/common-schemas.js'
import { PlanSchema, UpdatePlanBody } from '../schemas/plan-schemas.js'

/** Plans (API.md): their limits and backup policy (schedule, retention). */
export async function planRoutes(app: FastifyInstance): Promise<void> {
  const { plans, backupScheduler, audit } = app.tenantd
  const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 60 }) })

  app.get(
    '/api/admin/plans',
    { preHandler: requireOperator, schema: { tags: ['plans'], summary: 'Plans with their limits, backup policy and tenant count', response: { 200: Type.Object({ items: Type.Array(PlanSchema) }), ...errorResponses } } },
    async () => ({ items: await plans.list() })
  )

  app.get(
    '/api/admin/plans/:id',
    { preHandler: requireOperator, schema: { tags: ['plans'], summary: 'One plan', params: Params, response: { 200: PlanSchema, ...errorResponses } } },
    async (request) => plans.get((request.params as { id: string }).id)
  )

  app.patch(
    '/api/admin/plans/:id',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['plans'],
        summary: "Change a plan's limits or backup policy. A new schedule applies on this replica at once, on the others within 5 minutes",
        params: Params,
        body: UpdatePlanBody,
        response: { 200: PlanSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const changes = request.body as PlanChanges
      if (typeof changes.backupSchedule === 'string' && !validCron(changes.backupSchedule)) {
        throw new ValidationError(`backupSchedule: "${changes.backupSchedule.slice(0, 60)}" is not a cron expression; give five fields (minute hour day month weekday), e.g. "0 3 * * *" for 03:00 daily, or null for the default schedule`)
      }
      const plan = await plans.update(id, changes)
      await audit.record({ actorType: 'operator', actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip, action: 'plan.update', target: id, details: { changes } })
      if (changes.backupSchedule !== undefined) await backupScheduler.refresh()
      return plan
    }
  )
}
