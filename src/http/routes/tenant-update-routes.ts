import { Type, type Static } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { profileChanges, updateTenantProfile } from '../../tenancy/tenant-profile.js'
import { requireSuperAdmin } from '../guards.js'
import { IdParams, errorResponses } from '../schemas/common-schemas.js'
import { TenantSchema } from '../schemas/tenant-schemas.js'

const UpdateTenantBody = Type.Object(
  {
    subdomain: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'New subdomain: 3-40 lowercase letters, digits and single hyphens; the old address stops answering' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false }
)
type UpdateTenantBodyType = Static<typeof UpdateTenantBody>

/** PATCH /api/admin/tenants/:id: subdomain (a routing change) and display name. */
export async function tenantUpdateRoutes(app: FastifyInstance): Promise<void> {
  const { catalog, tenants, audit } = app.tenantd
  app.patch(
    '/api/admin/tenants/:id',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['tenants'],
        summary: "Change a tenant's subdomain (new address answers, old one stops) or name",
        params: IdParams,
        body: UpdateTenantBody,
        response: { 200: TenantSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body as UpdateTenantBodyType
      const { before, after } = await updateTenantProfile({ catalog: catalog.db, tenants }, (request.params as { id: string }).id, body)
      await audit.record({ actorType: 'operator', actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip, tenantId: after.id, action: 'tenant.update', target: after.slug, details: profileChanges(before, after) })
      return tenants.toApi(after)
    }
  )
}
