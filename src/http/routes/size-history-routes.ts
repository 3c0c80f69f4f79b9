import { Type, type Static } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { SIZE_HISTORY_DAYS } from '../../tenancy/tenant-size-history.js'
import { assertCanAdministerTenant, requireOperator, requireSuperAdmin } from '../guards.js'
import { IdParams, StringEnum, errorResponses } from '../schemas/common-schemas.js'

const HistoryQuery = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: SIZE_HISTORY_DAYS, default: 30, description: `how far back (1-${SIZE_HISTORY_DAYS} days)` })) })

/** Database size over time: a tenant's history, and sampling the fleet now. */
export async function sizeHistoryRoutes(app: FastifyInstance): Promise<void> {
  const { sizeHistory, tenants, config } = app.tenantd

  app.get(
    '/api/admin/tenants/:id/size-history',
    {
      preHandler: requireOperator,
      schema: {
        tags: ['tenants'],
        summary: "A tenant database's size over time (hourly points up to 7 days, daily beyond)",
        params: IdParams,
        querystring: HistoryQuery,
        response: {
          200: Type.Object({
            tenantId: Type.String(),
            days: Type.Integer(),
            resolution: StringEnum(['hour', 'day'] as const),
            sampleMinutes: Type.Integer({ description: 'how often tenantd samples (TENANTD_SIZE_SAMPLE_MINUTES; 0: never)' }),
            items: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), bytes: Type.Integer() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const tenant = await tenants.get((request.params as { id: string }).id)
      assertCanAdministerTenant(request, tenant.id)
      const days = (request.query as Static<typeof HistoryQuery>).days ?? 30
      return { tenantId: tenant.id, days, sampleMinutes: config.sizeSampleMinutes, ...(await sizeHistory.history(tenant.id, days)) }
    }
  )

  app.post(
    '/api/admin/size-samples',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: 'Sample every tenant database size now (otherwise every TENANTD_SIZE_SAMPLE_MINUTES)',
        response: { 200: Type.Object({ sampled: Type.Integer({ description: 'tenants sampled; 0 when another replica is sampling' }) }), ...errorResponses },
      },
    },
    async () => ({ sampled: await sizeHistory.sampleDue({ all: true }) })
  )
}
