import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requireSuperAdmin } from '../guards.js'
import { errorResponses, StringEnum } from '../schemas/common-schemas.js'

const OperatorSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    tenantId: Type.Union([Type.String(), Type.Null()]),
    tenantSlug: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    lastLoginAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Operator' }
)

const CreateOperatorBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    password: Type.String({ minLength: 8, maxLength: 256 }),
    role: StringEnum(['super_admin', 'tenant_admin'] as const),
    tenant: Type.Optional(Type.String({ maxLength: 100, description: 'For tenant_admin: the tenant (id or slug) it administers' })),
  },
  { additionalProperties: false }
)
const Params = Type.Object({ id: Type.String({ maxLength: 100 }) })

/** Control-plane accounts: super-admins and tenant admins bound to one tenant (super-admins only). */
export async function operatorRoutes(app: FastifyInstance): Promise<void> {
  const { operators, audit } = app.tenantd
  const actor = (request: FastifyRequest) => ({ actorType: 'operator' as const, actorId: request.principal?.id ?? null, actorEmail: request.principal?.email ?? null, ip: request.ip })

  app.get('/api/admin/operators', { preHandler: requireSuperAdmin, schema: { tags: ['auth'], summary: 'List operators', response: { 200: Type.Object({ items: Type.Array(OperatorSchema) }), ...errorResponses } } }, async () => ({
    items: await operators.list(),
  }))

  app.post(
    '/api/admin/operators',
    { preHandler: requireSuperAdmin, schema: { tags: ['auth'], summary: 'Create an operator: super_admin, or tenant_admin bound to one tenant', body: CreateOperatorBody, response: { 201: OperatorSchema, ...errorResponses } } },
    async (request, reply) => {
      const operator = await operators.create(request.body as never)
      await audit.record({ ...actor(request), tenantId: operator.tenantId, action: 'operator.create', target: operator.email, details: { role: operator.role } })
      return reply.status(201).send(operator)
    }
  )

  app.delete('/api/admin/operators/:id', { preHandler: requireSuperAdmin, schema: { tags: ['auth'], summary: 'Remove an operator (its sessions end)', params: Params, response: { 200: OperatorSchema, ...errorResponses } } }, async (request) => {
    const operator = await operators.remove((request.params as { id: string }).id)
    await audit.record({ ...actor(request), tenantId: operator.tenantId, action: 'operator.remove', target: operator.email })
    return operator
  })

  app.post(
    '/api/admin/operators/:id/revoke-sessions',
    {
      preHandler: requireSuperAdmin,
      schema: { tags: ['auth'], summary: "Revoke every refresh token of an operator (runbook 004: suspected account compromise)", params: Params, response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses } },
    },
    async (request) => {
      const operator = await operators.get((request.params as { id: string }).id)
      const revoked = await operators.revokeSessions(operator.id)
      await audit.record({ ...actor(request), tenantId: operator.tenantId, action: 'operator.revoke_sessions', target: operator.email, details: { revoked } })
      return { revoked }
    }
  )
}
