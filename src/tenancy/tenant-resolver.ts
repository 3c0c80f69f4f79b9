import type { AuditLog } from '../audit/audit-log.js'
import type { Principal } from '../auth/principal.js'
import { CrossTenantAccessBlocked, TenantCanceled, TenantFrozen, TenantNotActive, TenantNotFound, TenantSuspended } from '../errors.js'
import type { TenantStatus } from '../catalog/catalog-schema.js'
import type { TenantDirectory, TenantRecord } from './tenant-directory.js'
import type { TenantKeys } from './tenant-key-index.js'

export interface ResolveInput {
  /** The Host header (may carry a port). */
  host: string | undefined
  /** The X-Tenant-ID header: slug or id. */
  tenantHeader: string | undefined
  principal: Principal | null
  ip?: string
  path?: string
}

/** What a request names: where the key came from, and which kind of key it is. */
export interface NamedTenant {
  key: string
  source: 'host' | 'header' | 'token'
  /** subdomain: a Host under the base domain; domain: a Host that is a verified custom domain; key: slug, subdomain or id. */
  via: 'subdomain' | 'domain' | 'key'
}

/**
 * Maps a request to its tenant: the Host (a subdomain under the base domain, or a verified
 * custom domain), else the X-Tenant-ID header, else the token's tenant claim. The control
 * host (127.0.0.1, the bare base domain) names no tenant. A token bound to one tenant used on
 * another is refused (403 CrossTenantAccessBlocked) and audited. Only active tenants serve
 * traffic; the error says why the others do not. A frozen tenant (a restore's database swap)
 * is answered 503 TenantFrozen with Retry-After, from the cached record alone.
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

  /**
   * The tenant key a request names, without looking it up: a Host under the base domain
   * names a subdomain, a Host that is a verified custom domain names that domain; other
   * hosts (the control host, unknown names) name nothing, and X-Tenant-ID or the token's
   * claim decide.
   */
  tenantKey(input: Pick<ResolveInput, 'host' | 'tenantHeader' | 'principal'>): NamedTenant | undefined {
    const hostname = hostnameOf(input.host)
    if (hostname) {
      if (hostname.endsWith(this.#suffix)) {
        const sub = hostname.slice(0, -this.#suffix.length)
        if (sub && !sub.includes('.')) return { key: sub, source: 'host', via: 'subdomain' }
      } else if (this.directory.domainEntry(hostname)?.verified) {
        return { key: hostname, source: 'host', via: 'domain' }
      }
    }
    const header = input.tenantHeader?.trim()
    if (header) return { key: header, source: 'header', via: 'key' }
    if (input.principal?.tenantId) return { key: input.principal.tenantId, source: 'token', via: 'key' }
    return undefined
  }

  /**
   * Whether the edge should serve this address, from the in-memory index only (no catalog
   * query): the tenant whose subdomain address or verified custom domain it is, with its
   * status; undefined for anything else (unknown, pending domain, purged tenant, malformed).
   *
   * @example
   *   resolver.addressOf('acme.example.com')   // { tenantId, slug: 'acme', status: 'active' }
   */
  addressOf(address: string): { tenantId: string; slug: string; status: TenantStatus } | undefined {
    if (address.length === 0 || address.length > 254) return undefined
    let name = address.toLowerCase()
    if (name.endsWith('.')) name = name.slice(0, -1)
    let keys: Readonly<TenantKeys> | undefined
    if (name.endsWith(this.#suffix)) {
      const sub = name.slice(0, -this.#suffix.length)
      if (sub && !sub.includes('.')) keys = this.directory.keysBySubdomain(sub)
    } else {
      const entry = this.directory.domainEntry(name)
      if (entry?.verified) keys = entry.tenant
    }
    return keys ? { tenantId: keys.id, slug: keys.slug, status: keys.status } : undefined
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
    const tenant = this.#peek(named)
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
    // find() also for a known miss: it waits for a key reload in flight (a change just made) before saying no.
    const tenant = this.#peek(named) ?? (await this.#find(named))
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

  #peek(named: NamedTenant): TenantRecord | null | undefined {
    if (named.via === 'subdomain') return this.directory.peekSubdomain(named.key)
    if (named.via === 'domain') return this.directory.peekDomain(named.key)
    return this.directory.peek(named.key)
  }

  #find(named: NamedTenant): Promise<TenantRecord | null> {
    if (named.via === 'subdomain') return this.directory.findBySubdomain(named.key)
    if (named.via === 'domain') return this.directory.findByDomain(named.key)
    return this.directory.find(named.key)
  }
}

/** The hostname of a Host header: lower case, without port or trailing dot. */
function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined
  const colon = host.indexOf(':')
  let hostname = (colon < 0 ? host : host.slice(0, colon)).toLowerCase()
  if (hostname.charCodeAt(hostname.length - 1) === 46 /* . */) hostname = hostname.slice(0, -1)
  return hostname || undefined
}

/** Throws the reason a tenant does not serve traffic, if it does not. */
export function assertServing(tenant: TenantRecord): void {
  switch (tenant.status) {
    case 'active':
      if (tenant.frozen_until !== null) assertNotFrozen(tenant)
      return
    case 'suspended':
      throw new TenantSuspended(tenant.slug, tenant.status_reason ?? 'no reason given')
    case 'canceled':
      throw new TenantCanceled(tenant.slug, tenant.status_reason ?? 'the subscription was canceled')
    default:
      throw new TenantNotActive(tenant.slug, tenant.status)
  }
}

/** What a freeze's reason tells the tenant's users. */
const frozenBecause: Record<string, string> = {
  restore: 'its database is being swapped for one restored from a backup',
  'restore-undo': 'its database is being swapped back to the one before the last restore',
  move: 'its database is being switched to another database server',
}

/**
 * Throws 503 TenantFrozen while the tenant's freeze lasts. The freeze is read from the cached
 * record (the catalog's NOTIFY reloads it on every replica when it is set or cleared); one
 * whose time has passed is ignored, so a restore that crashed mid-swap never leaves a tenant
 * frozen for longer than its bound.
 */
function assertNotFrozen(tenant: TenantRecord): void {
  const left = new Date(tenant.frozen_until!).getTime() - Date.now()
  if (!(left > 0)) return
  const seconds = Math.max(1, Math.ceil(left / 1000))
  const reason = frozenBecause[tenant.frozen_reason ?? ''] ?? `it is under maintenance (${tenant.frozen_reason ?? 'no reason given'})`
  throw Object.assign(new TenantFrozen(tenant.slug, reason, seconds), { retryAfterSeconds: seconds })
}

/** Keys are echoed in errors; a hostile 5000-character header is not. */
export function shorten(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value
}
