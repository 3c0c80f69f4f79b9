import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.js'
import { Forbidden, Unauthorized } from '../errors.js'

/** The caller's principal, or 401 with the next step. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new Unauthorized('Log in first: POST /api/auth/login (or `tenantctl login`) and send the token as "Authorization: Bearer <token>".')
  return request.principal
}

/** preHandler: only super-admins. */
export async function requireSuperAdmin(request: FastifyRequest): Promise<void> {
  const principal = requirePrincipal(request)
  if (principal.kind !== 'operator' || principal.role !== 'super_admin') {
    throw new Forbidden('This needs a super-admin operator.')
  }
}

/** preHandler: any operator (super-admin, or tenant admin for its own tenant, checked by the route). */
export async function requireOperator(request: FastifyRequest): Promise<void> {
  const principal = requirePrincipal(request)
  if (principal.kind !== 'operator') throw new Forbidden('This needs an operator account, not a tenant user.')
}

/** Whether the principal may administer the given tenant. */
export function canAdministerTenant(principal: Principal, tenantId: string): boolean {
  if (principal.kind === 'operator') return principal.role === 'super_admin' || principal.tenantId === tenantId
  return principal.role === 'admin' && principal.tenantId === tenantId
}

export function assertCanAdministerTenant(request: FastifyRequest, tenantId: string): Principal {
  const principal = requirePrincipal(request)
  if (!canAdministerTenant(principal, tenantId)) throw new Forbidden('You are not an administrator of this tenant.')
  return principal
}
