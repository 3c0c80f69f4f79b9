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

const DrainBody = Type.Object(
  {
    moveTenants: Type.Optional(Type.Boolean({ description: 'move every active or suspended tenant off the host' })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'moves at once (default 2)' })),
  },
  { additionalProperties: false }
)

const DrainResultSchema = Type.Object(
  {
    // The host's fields again (not the named schema: it may appear once per response).
    host: Type.Object(HostSchema.properties),
    moved: Type.Integer(),
    failed: Type.Integer(),
    skipped: Type.Integer({ description: 'tenants not moved (canceled: their database is kept for retention)' }),
    tenants: Type.Array(
      Type.Object({
        tenant: Type.String(),
        status: Type.Union([Type.Literal('moved'), Type.Literal('failed'), Type.Literal('skipped')]),
        to: Type.Union([Type.String(), Type.Null()]),
        operationId: Type.Union([Type.String(), Type.Null()]),
        error: Type.Union([Type.String(), Type.Null()]),
      })
    ),
  },
  { $id: 'HostDrainResult' }
)

/** The db host registry (API.md): PostgreSQL servers that hold tenant databases. */
export async function hostRoutes(app: FastifyInstance): Promise<void> {
  const { hosts, audit, hostDrain } = app.tenantd
  const Params = Type.Object({ id: Type.String({ maxLength: 100 }) })

  app.get('/api/admin/hosts', { preHandler: requireSuperAdmin, schema: { tags: ['hosts'], summary: 'List db hosts', response: { 200: Type.Object({ items: Type.Array(HostSchema) }), ...errorResponses } } }, async () => ({
    items: await hosts.list(),
  }))

  app.get(
    '/api/admin/hosts/usage',
    {
      preHandler: requireSuperAdmin,
      schema: {
        tags: ['hosts'],
        summary: "Each live host's client connections against what it allows, and the size of its tenants' databases",
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                name: Type.String(),
                ok: Type.Boolean(),
                error: Type.Optional(Type.String()),
                connections: Type.Union([Type.Object({ used: Type.Integer(), max: Type.Integer({ description: 'max_connections less superuser_reserved_connections' }) }), Type.Null()]),
                tenantDatabases: Type.Integer(),
                tenantBytes: Type.Union([Type.Integer(), Type.Null()]),
              })
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async () => ({ items: await hosts.usage() })
  )

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

  app.post(
    '/api/admin/hosts/:id/drain',
    {
      preHandler: requireSuperAdmin,
      // No body at all is the plain drain (as before the move option existed).
      preValidation: async (request) => {
        request.body ??= {}
      },
      schema: {
        tags: ['hosts'],
        summary:
          'Stop placing new tenants on a host. With {moveTenants: true}: also move every active or suspended tenant off it (one move each, `concurrency` at once) and answer, when all ended, with what moved and what did not',
        params: Params,
        body: DrainBody,
        response: { 200: Type.Union([DrainResultSchema, HostSchema]), ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const body = (request.body ?? {}) as { moveTenants?: boolean; concurrency?: number }
      if (body.moveTenants) return hostDrain.drainAndMove(id, { concurrency: body.concurrency, createdBy: request.principal?.id ?? null })
      const host = await hosts.drain(id)
      await audit.record({ actorType: 'operator', actorId: request.principal?.id, actorEmail: request.principal?.email, ip: request.ip, action: 'host.drain', target: host.name })
      return host
    }
  )

  app.delete(
    '/api/admin/hosts/:id',
    {
      preHandler: requireSuperAdmin,
      schema: { tags: ['hosts'], summary: 'Remove a db host that holds no tenant (409 naming those it still holds)', params: Params, response: { 200: HostSchema, ...errorResponses } },
    },
    async (request) => {
      const host = await hosts.remove((request.params as { id: string }).id)
      await audit.record({ actorType: 'operator', actorId: request.principal?.id, actorEmail: request.principal?.email, ip: request.ip, action: 'host.remove', target: host.name })
      return host
    }
  )
}
