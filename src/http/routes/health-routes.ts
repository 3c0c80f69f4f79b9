import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { tenantOf } from '../plugins/tenant-resolver-plugin.js'
import { ErrorSchema, errorResponses } from '../schemas/common-schemas.js'

/** Liveness, readiness, and the resolved tenant (runbook 000). */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { catalog, hosts, tenants } = app.tenantd

  app.get('/api/health', { schema: { tags: ['health'], summary: 'Liveness (runbook 002)', response: { 200: Type.Object({ status: Type.String(), uptimeSeconds: Type.Number() }) } } }, async () => ({
    status: 'ok',
    uptimeSeconds: Math.round(process.uptime()),
  }))

  app.get(
    '/api/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: the catalog and every db host reachable; 503 names what is not',
        response: {
          '2xx': Type.Object({ status: Type.String(), catalog: Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }), hosts: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), ok: Type.Boolean(), error: Type.Optional(Type.String()) })) }),
          503: Type.Object({ status: Type.String(), error: Type.String(), message: Type.String(), catalog: Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }), hosts: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), ok: Type.Boolean(), error: Type.Optional(Type.String()) })) }),
        },
      },
    },
    async (_request, reply) => {
      let catalogState: { ok: boolean; error?: string } = { ok: true }
      let hostStates: Awaited<ReturnType<typeof hosts.checkAll>> = []
      try {
        await sql`select 1`.execute(catalog.db)
        hostStates = await hosts.checkAll()
      } catch (error) {
        catalogState = { ok: false, error: (error as Error).message }
      }
      const down = [...(catalogState.ok ? [] : ['catalog']), ...hostStates.filter((h) => !h.ok).map((h) => `db host ${h.name}`)]
      if (down.length) {
        reply.header('Retry-After', '5')
        return reply.status(503).send({ status: 'unavailable', error: 'NotReady', message: `not reachable: ${down.join(', ')}`, catalog: catalogState, hosts: hostStates })
      }
      return { status: 'ready', catalog: catalogState, hosts: hostStates }
    }
  )

  app.get(
    '/api/tenants/current',
    {
      preHandler: app.resolveTenant,
      schema: {
        tags: ['tenant'],
        summary: 'The tenant this request resolves to: Host subdomain, X-Tenant-ID, or token (runbook 000)',
        response: {
          200: Type.Object({
            id: Type.String(),
            slug: Type.String(),
            subdomain: Type.String(),
            name: Type.String(),
            plan: Type.String(),
            status: Type.String(),
            logoUrl: Type.Union([Type.String(), Type.Null()], { description: 'the logo on this address (changes with the image), or null' }),
          }),
          ...errorResponses,
          503: ErrorSchema,
        },
      },
    },
    async (request) => {
      const tenant = tenantOf(request)
      const { id, slug, subdomain, name, plan, status } = tenants.toApi(tenant)
      return { id, slug, subdomain, name, plan, status, logoUrl: tenant.logo_sha256 ? `/api/tenants/current/logo?v=${tenant.logo_sha256.slice(0, 12)}` : null }
    }
  )
}
