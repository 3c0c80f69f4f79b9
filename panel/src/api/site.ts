import type { CurrentTenant } from './api-types.js'
import { ApiError } from './api-error.js'
import { parse, send } from './http.js'

/**
 * Where this panel is served, which decides who signs in here and which pages exist:
 * - `control`: the control host, where operators sign in (the fleet pages);
 * - `tenant`: a tenant's own address (`<subdomain>.<base domain>` or a verified custom
 *   domain), where that tenant's users sign in (their workspace, tenant-side routes only);
 * - `unavailable`: an address that names a tenant which does not serve (unknown, suspended,
 *   deleted), or tenantd did not answer: nothing can be signed in to.
 */
export type Site = { kind: 'control' } | { kind: 'tenant'; tenant: CurrentTenant } | { kind: 'unavailable'; error: ApiError }

/**
 * Asks tenantd once, before sign-in, which tenant this address resolves to:
 * `GET /api/tenants/current` without a token resolves by the Host alone (as the login does),
 * answering the tenant's public fields on a tenant address and `404 NotFound` ("this route
 * is tenant-scoped") where the address names no tenant.
 *
 * Why ask rather than guess: which addresses are tenants' is server configuration (the base
 * domain, custom domains, the control host), so the panel cannot tell from its hostname; and
 * the login answer's `user` comes too late (the sign-in page already names the tenant) and
 * barely differs (a tenant user and a tenant_admin operator both carry a tenantId; only the
 * role names differ). The server's own resolution is also what decides whose users the
 * login authenticates, so the two always agree.
 *
 * An IP literal or bare `localhost` can never be a tenant address (tenants live under the
 * base domain or on custom domain names), so there the panel is the control panel without
 * asking: no request, and no 404 in the console of a local install.
 */
export async function detectSite(hostname = window.location.hostname): Promise<Site> {
  if (!mayBeTenantAddress(hostname)) return { kind: 'control' }
  try {
    const tenant = await parse<CurrentTenant>(await send('GET', '/api/tenants/current'))
    return { kind: 'tenant', tenant }
  } catch (error) {
    // Plain NotFound is the route saying the request named no tenant: the control host.
    // TenantNotFound, TenantSuspended and the like name a tenant that does not serve.
    if (error instanceof ApiError && error.code === 'NotFound') return { kind: 'control' }
    return { kind: 'unavailable', error: error instanceof ApiError ? error : new ApiError(0, 'Unknown', String(error)) }
  }
}

/** False for addresses that cannot name a tenant: IPv4 and IPv6 literals, and `localhost`. */
export function mayBeTenantAddress(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  if (name === '' || name === 'localhost') return false
  if (name.startsWith('[') || name.includes(':')) return false
  return !/^\d{1,3}(\.\d{1,3}){3}$/.test(name)
}
