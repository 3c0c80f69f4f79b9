import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { NotFound } from '../../errors.js'
import { TenantResolver } from '../../tenancy/tenant-resolver.js'
import type { TenantRecord } from '../../tenancy/tenant-directory.js'

declare module 'fastify' {
  interface FastifyInstance {
    tenantResolver: TenantResolver
    /** preHandler for tenant-scoped routes: sets request.tenant or answers 404/403. */
    resolveTenant: (request: FastifyRequest) => Promise<void>
  }
}

/** The resolved tenant of a request on a tenant-scoped route. */
export function tenantOf(request: FastifyRequest): TenantRecord {
  if (!request.tenant) {
    throw new NotFound('This route is tenant-scoped: call it on the tenant\'s host (<subdomain>.<base domain>) or send X-Tenant-ID: <slug>.')
  }
  return request.tenant
}

export const tenantResolverPlugin = fp(
  async (app: FastifyInstance) => {
    const { tenants, audit, config } = app.tenantd
    const resolver = new TenantResolver(tenants, audit, config.baseDomain)
    app.decorate('tenantResolver', resolver)
    app.decorateRequest('tenant', null)
    app.decorate('resolveTenant', async (request: FastifyRequest) => {
      request.tenant =
        (await resolver.resolve({
          host: request.headers.host,
          tenantHeader: headerValue(request.headers['x-tenant-id']),
          principal: request.principal,
          ip: request.ip,
          path: request.url,
        })) ?? null
      if (!request.tenant) tenantOf(request)
    })
  },
  { name: 'tenant-resolver', dependencies: ['auth'] }
)

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
