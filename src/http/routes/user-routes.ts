import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { assertCanAdministerTenant } from '../guards.js'
import { tenantOf } from '../plugins/tenant-resolver-plugin.js'
import { CreateUserBody, TenantUserSchema } from '../schemas/auth-schemas.js'
import { ErrorSchema, errorResponses } from '../schemas/common-schemas.js'

/**
 * The resolved tenant's own users (tenant side, API.md): tenant admins of that tenant,
 * its tenant_admin operators and super-admins. Password hashes never leave the database.
 */
export async function userRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { auth } = app.tenantd
  const unavailable = { 503: ErrorSchema }

  app.get(
    '/api/users',
    {
      preHandler: app.resolveTenant,
      schema: {
        tags: ['tenant'],
        summary: "List the tenant's users",
        response: { 200: Type.Object({ items: Type.Array(TenantUserSchema), total: Type.Integer() }), ...errorResponses, ...unavailable },
      },
    },
    async (request) => {
      const tenant = tenantOf(request)
      assertCanAdministerTenant(request, tenant.id)
      const items = await auth.listUsers(tenant.id)
      return { items, total: items.length }
    }
  )

  app.post(
    '/api/users',
    {
      preHandler: app.resolveTenant,
      schema: {
        tags: ['tenant'],
        summary: 'Add a user to the tenant',
        body: CreateUserBody,
        response: { 201: TenantUserSchema, ...errorResponses, ...unavailable },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request)
      const principal = assertCanAdministerTenant(request, tenant.id)
      const user = await auth.createUser(tenant.id, request.body, { principal, ip: request.ip })
      return reply.status(201).send(user)
    }
  )
}
