/** Who is making a request, from a verified access token. */
export type Principal =
  | { kind: 'operator'; id: string; email: string; role: 'super_admin' | 'tenant_admin'; tenantId: string | null }
  | { kind: 'tenant_user'; id: string; email: string; role: 'admin' | 'member'; tenantId: string; permissions: string[] }

/** Claims of tenantd's access tokens (JWT, HS256). */
export interface AccessTokenClaims {
  sub: string
  typ: 'operator' | 'tenant_user'
  role: string
  email: string
  /** The tenant the token is bound to (tenant users, tenant admins). */
  tid?: string
  perms?: string[]
}

export function principalFromClaims(claims: AccessTokenClaims): Principal {
  if (claims.typ === 'tenant_user') {
    return { kind: 'tenant_user', id: claims.sub, email: claims.email, role: claims.role === 'admin' ? 'admin' : 'member', tenantId: claims.tid ?? '', permissions: claims.perms ?? [] }
  }
  return { kind: 'operator', id: claims.sub, email: claims.email, role: claims.role === 'super_admin' ? 'super_admin' : 'tenant_admin', tenantId: claims.tid ?? null }
}

export function claimsFromPrincipal(principal: Principal): AccessTokenClaims {
  return {
    sub: principal.id,
    typ: principal.kind,
    role: principal.role,
    email: principal.email,
    ...(principal.tenantId ? { tid: principal.tenantId } : {}),
    ...(principal.kind === 'tenant_user' ? { perms: principal.permissions } : {}),
  }
}
