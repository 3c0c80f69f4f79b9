import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { NotFound } from '../../errors.js'
import { TenantResolver } from '../../tenancy/tenant-resolver.js'
import type { TenantRecord } from '../../tenancy/tenant-directory.js'

declare module 'fastify' {
  interface FastifyInstance {
    tenantResolver: TenantResolver
    /**
     * preHandler for tenant-scoped routes: sets request.tenant or answers 404/403. Called
     * with (request) it returns a promise; as a hook (request, reply, done) it answers a
     * cached tenant synchronously, with no promise on the hot path.
     */
    resolveTenant: ResolveTenant
  }
}

/** The resolved tenant of a request on a tenant-scoped route. */
export function tenantOf(request: FastifyRequest): TenantRecord {
  if (!request.tenant) {
    throw new NotFound('This route is tenant-scoped: call it on the tenant\'s host (<subdomain>.<base domain>) or send X-Tenant-ID: <slug>.')
  }
  return request.tenant
}

interface ResolveTenant {
  (request: FastifyRequest): Promise<void>
  (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void
}

export const tenantResolverPlugin = fp(
  async (app: FastifyInstance) => {
    const { tenants, audit, config } = app.tenantd
    const resolver = new TenantResolver(tenants, audit, config.baseDomain)
    app.decorate('tenantResolver', resolver)
    app.decorateRequest('tenant', null)
    const input = (request: FastifyRequest) => ({
      host: request.headers.host,
      tenantHeader: headerValue(request.headers['x-tenant-id']),
      principal: request.principal,
      ip: request.ip,
      path: request.url,
    })
    const resolveSlow = async (request: FastifyRequest): Promise<void> => {
      request.tenant = (await resolver.resolve(input(request))) ?? null
      if (!request.tenant) tenantOf(request)
    }
    function resolveTenant(request: FastifyRequest): Promise<void>
    function resolveTenant(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void
    function resolveTenant(request: FastifyRequest, _reply?: FastifyReply, done?: (error?: Error) => void): Promise<void> | void {
      if (!done) return resolveSlow(request)
      let cached: TenantRecord | undefined
      try {
        cached = resolver.resolveFromCache(input(request))
      } catch (error) {
        done(error as Error)
        return
      }
      if (cached) {
        request.tenant = cached
        done()
        return
      }
      resolveSlow(request).then(() => done(), done)
    }
    app.decorate('resolveTenant', resolveTenant)
  },
  { name: 'tenant-resolver', dependencies: ['auth'] }
)

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
