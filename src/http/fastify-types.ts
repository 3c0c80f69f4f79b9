import type { Principal } from '../auth/principal.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import type { Tenantd } from '../tenantd.js'

declare module 'fastify' {
  interface FastifyInstance {
    tenantd: Tenantd
  }
  interface FastifyRequest {
    /** Set by the auth plugin from a valid bearer token; null when there is none. */
    principal: Principal | null
    /** Set by the tenant resolver on tenant-scoped routes. */
    tenant: TenantRecord | null
  }
}

export {}
