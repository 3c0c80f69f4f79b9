import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import type { Principal } from '../../auth/principal.js'
import { Forbidden, TenantNotFound } from '../../errors.js'
import type { TenantDirectory } from '../../tenancy/tenant-directory.js'
import { isUuid } from '../../uuid.js'
import { requirePrincipal } from '../guards.js'
import { AuditQuery, AuditRecordSchema } from '../schemas/auth-schemas.js'
import { errorResponses } from '../schemas/common-schemas.js'

/**
 * The audit trail (runbook 002: `GET /api/audit-logs?tenantId=`). Super-admins see every
 * entry; a tenant_admin operator or a tenant admin user sees only its own tenant's.
 */
export async function auditRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { audit, tenants } = app.tenantd

  app.get(
    '/api/audit-logs',
    {
      schema: {
        tags: ['auth'],
        summary: 'Audit trail, newest first',
        querystring: AuditQuery,
        response: { 200: Type.Object({ items: Type.Array(AuditRecordSchema), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request)
      const { action, limit, offset } = request.query
      const tenantId = await visibleTenant(principal, request.query.tenantId, tenants)
      return audit.list({ ...(tenantId ? { tenantId } : {}), ...(action ? { action } : {}), limit: limit ?? 100, offset: offset ?? 0 })
    }
  )
}

/** The tenant filter the principal may use: any (or none) for super-admins, else its own tenant. */
async function visibleTenant(principal: Principal, requested: string | undefined, tenants: TenantDirectory): Promise<string | undefined> {
  const requestedId = requested === undefined ? undefined : await tenantIdOf(requested, tenants)
  if (principal.kind === 'operator' && principal.role === 'super_admin') return requestedId
  const own = principal.tenantId
  const mayRead = principal.kind === 'operator' ? own !== null : principal.role === 'admin'
  if (!own || !mayRead) throw new Forbidden('The audit trail is for super-admins and tenant administrators.')
  if (requestedId !== undefined && requestedId !== own) throw new Forbidden('You can only read the audit trail of your own tenant.')
  return own
}

async function tenantIdOf(key: string, tenants: TenantDirectory): Promise<string> {
  // Ids of purged tenants still name their audit entries, so an id is taken as given.
  if (isUuid(key)) return key.toLowerCase()
  const tenant = await tenants.find(key)
  if (!tenant) throw new TenantNotFound(key)
  return tenant.id
}
