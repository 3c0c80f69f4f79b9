import type { AuditLog } from '../audit/audit-log.js'
import type { Principal } from '../auth/principal.js'
import { CrossTenantAccessBlocked, TenantCanceled, TenantNotActive, TenantNotFound, TenantSuspended } from '../errors.js'
import type { TenantDirectory, TenantRecord } from './tenant-directory.js'

export interface ResolveInput {
  /** The Host header (may carry a port). */
  host: string | undefined
  /** The X-Tenant-ID header: slug or id. */
  tenantHeader: string | undefined
  principal: Principal | null
  ip?: string
  path?: string
}

/**
 * Maps a request to its tenant: the Host subdomain under the base domain, else the
 * X-Tenant-ID header, else the token's tenant claim. A token bound to one tenant used on
 * another is refused (403 CrossTenantAccessBlocked) and audited. Only active tenants serve
 * traffic; the error says why the others do not.
 *
 * @example
 *   const resolver = new TenantResolver(directory, audit, 'example.com')
 *   await resolver.resolve({ host: 'acme.example.com', tenantHeader: undefined, principal: null })
 */
export class TenantResolver {
  readonly #suffix: string

  constructor(
    private readonly directory: TenantDirectory,
    private readonly audit: AuditLog,
    baseDomain: string
  ) {
    this.#suffix = `.${baseDomain}`
  }

  /** The tenant key a request names, without looking it up. */
  tenantKey(input: Pick<ResolveInput, 'host' | 'tenantHeader' | 'principal'>): { key: string; source: 'host' | 'header' | 'token' } | undefined {
    const hostname = input.host?.split(':')[0]?.toLowerCase()
    if (hostname?.endsWith(this.#suffix)) {
      const sub = hostname.slice(0, -this.#suffix.length)
      if (sub && !sub.includes('.')) return { key: sub, source: 'host' }
    }
    const header = input.tenantHeader?.trim()
    if (header) return { key: header, source: 'header' }
    if (input.principal?.tenantId) return { key: input.principal.tenantId, source: 'token' }
    return undefined
  }

  /**
   * The hot path: the tenant straight from the cache, without awaiting anything. Undefined
   * when the request names no tenant, the cache does not know the key, or the token is bound
   * to another tenant (resolve() then looks it up, or audits the attempt). Throws the same
   * errors as resolve() for a cached tenant that does not serve traffic.
   */
  resolveFromCache(input: ResolveInput): TenantRecord | undefined {
    const named = this.tenantKey(input)
    if (!named) return undefined
    const tenant = this.directory.peek(named.key)
    if (!tenant) return undefined
    const boundTo = input.principal?.tenantId
    if (boundTo && boundTo !== tenant.id) return undefined
    assertServing(tenant)
    return tenant
  }

  /** The active tenant of a request, or undefined when the request names none. */
  async resolve(input: ResolveInput): Promise<TenantRecord | undefined> {
    const named = this.tenantKey(input)
    if (!named) return undefined
    const cached = this.directory.peek(named.key)
    const tenant = cached === undefined ? await this.directory.find(named.key) : cached
    if (!tenant) throw new TenantNotFound(shorten(named.key))
    const boundTo = input.principal?.tenantId
    if (boundTo && boundTo !== tenant.id) {
      await this.audit.record({
        actorType: input.principal!.kind,
        actorId: input.principal!.id,
        actorEmail: input.principal!.email,
        tenantId: tenant.id,
        action: 'cross_tenant_access_blocked',
        target: input.path ?? null,
        ip: input.ip ?? null,
        details: { tokenTenantId: boundTo, requestedTenant: tenant.slug, source: named.source },
      })
      throw new CrossTenantAccessBlocked()
    }
    assertServing(tenant)
    return tenant
  }
}

/** Throws the reason a tenant does not serve traffic, if it does not. */
export function assertServing(tenant: TenantRecord): void {
  switch (tenant.status) {
    case 'active':
      return
    case 'suspended':
      throw new TenantSuspended(tenant.slug, tenant.status_reason ?? 'no reason given')
    case 'canceled':
      throw new TenantCanceled(tenant.slug, tenant.status_reason ?? 'the subscription was canceled')
    default:
      throw new TenantNotActive(tenant.slug, tenant.status)
  }
}

/** Keys are echoed in errors; a hostile 5000-character header is not. */
export function shorten(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value
}
