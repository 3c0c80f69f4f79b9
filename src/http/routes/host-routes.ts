import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { requireSuperAdmin } from '../guards.js'
import { ErrorSchema, errorResponses } from '../schemas/common-schemas.js'

const HostSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    host: Type.String(),
    port: Type.Integer(),
    adminUser: Type.String(),
    maxTenants: Type.Union([Type.Integer(), Type.Null()]),
    status: Type.String(),
    isDefault: Type.Boolean(),
    tenantCount: Type.Integer(),
    createdAt: Type.String(),
  },
  { $id: 'DatabaseHost' }
)

const RegisterHostBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
    adminUser: Type.String({ minLength: 1, maxLength: 63, description: 'A role with CREATEDB and CREATEROLE' }),
    adminPassword: Type.String({ minLength: 1, maxLength: 1024, description: 'Sealed in the catalog; never returned' }),
    adminDatabase: Type.Optional(Type.String({ maxLength: 63 })),
    maxTenants: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    isDefault: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false }
)

/** The db host registry (API.md): PostgreSQL servers that hold tenant databases. */
export async function hostRoutes(app: FastifyInstance): Promise<void> {
  const { hosts, audit } = app.tenantd
  const Params = Type.Object({ id: Type.String({ maxLength: 100 }) })

  app.get('/api/admin/hosts', { preHandler: requireSuperAdmin, schema: { tags: ['hosts'], summary: 'List db hosts', response: { 200: Type.Object({ items: Type.Array(HostSchema) }), ...errorResponses } } }, async () => ({
    items: await hosts.list(),
  }))

  app.get('/api/admin/hosts/:id', { preHandler: requireSuperAdmin, schema: { tags: ['hosts'], summary: 'One db host', params: Params, response: { 200: HostSchema, ...errorResponses } } }, async (request) =>
    hosts.get((request.params as { id: string }).id)
  )

  app.post(
    '/api/admin/hosts',
    { preHandler: requireSuperAdmin, schema: { tags: ['hosts'], summary: 'Register a db host (its admin role is checked first)', body: RegisterHostBody, response: { 201: HostSchema, ...errorResponses, 503: ErrorSchema } } },
    async (request, reply) => {
      const host = await hosts.register(request.body as never)
      await audit.record({ actorType: 'operator', actorId: request.principal?.id, actorEmail: request.principal?.email, ip: request.ip, action: 'host.register', target: host.name, details: { host: host.host, port: host.port } })
      return reply.status(201).send(host)
    }
  )

  app.post('/api/admin/hosts/:id/drain', { preHandler: requireSuperAdmin, schema: { tags: ['hosts'], summary: 'Stop placing new tenants on a host', params: Params, response: { 200: HostSchema, ...errorResponses } } }, async (request) => {
    const host = await hosts.drain((request.params as { id: string }).id)
    await audit.record({ actorType: 'operator', actorId: request.principal?.id, actorEmail: request.principal?.email, ip: request.ip, action: 'host.drain', target: host.name })
    return host
  })
}
