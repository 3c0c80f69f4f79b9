import { randomBytes } from 'node:crypto'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { TenantDomainRow, TenantDomainStatus } from '../catalog/catalog-schema.js'
import { DomainNotFound, DomainNotVerified, DomainTaken, sqlState, SqlState } from '../errors.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { normalizeDomain } from './domain-names.js'
import { verifyDomain, WELL_KNOWN_PREFIX } from './domain-verifier.js'

/** A custom domain as the API shows it. */
export interface TenantDomain {
  domain: string
  status: TenantDomainStatus
  verifiedAt: string | null
  lastCheckedAt: string | null
  lastError: string | null
  createdAt: string
  /** What tenantd fetches to verify the domain (it serves this itself once DNS points at the edge). */
  verification: { url: string; path: string; expectedBody: string }
}

export interface DomainServiceDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  baseDomain: string
  /** TENANTD_DOMAIN_VERIFY_ADDRESS: connect here instead of resolving the domain. */
  verifyAddress?: string
  verifyTimeoutMs?: number
}

/** A tenant with more custom domains than this is almost certainly abuse, not a shop. */
const MAX_DOMAINS_PER_TENANT = 100

/**
 * Custom domains of tenants: add (pending, with a verification token), verify (tenantd
 * fetches the token through the domain, proving it points at this edge), list and remove.
 * A domain belongs to one tenant. Every change reloads the tenant's routing keys here (and,
 * through the table's trigger, on every replica) before it returns.
 *
 * @example
 *   const added = await domains.add(tenant, 'Shop.Example.com')   // { domain: 'shop.example.com', status: 'pending', verification }
 *   await domains.verify(tenant, 'shop.example.com')               // status 'verified', or 422 DomainNotVerified
 */
export class DomainService {
  constructor(private readonly deps: DomainServiceDeps) {}

  /** Validates and normalizes a domain name (400 ValidationError saying what is allowed). */
  normalize(domain: string): string {
    return normalizeDomain(domain, this.deps.baseDomain)
  }

  async list(tenant: TenantRecord): Promise<TenantDomain[]> {
    const rows = await this.deps.catalog.selectFrom('tenant_domains').selectAll().where('tenant_id', '=', tenant.id).orderBy('domain').execute()
    return rows.map(toApi)
  }

  async add(tenant: TenantRecord, input: string): Promise<TenantDomain> {
    const domain = this.normalize(input)
    const { count } = await this.deps.catalog
      .selectFrom('tenant_domains')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('tenant_id', '=', tenant.id)
      .executeTakeFirstOrThrow()
    if (Number(count) >= MAX_DOMAINS_PER_TENANT) {
      throw new DomainTaken(`tenant "${tenant.slug}" already has ${MAX_DOMAINS_PER_TENANT} domains, the most allowed; remove unused ones first`)
    }
    let row: TenantDomainRow
    try {
      row = await this.deps.catalog
        .insertInto('tenant_domains')
        .values({ tenant_id: tenant.id, domain, verification_token: randomBytes(32).toString('base64url') })
        .returningAll()
        .executeTakeFirstOrThrow()
    } catch (error) {
      if (sqlState(error) !== SqlState.uniqueViolation) throw error
      const mine = await this.#find(tenant, domain)
      // Whose it is, is nobody else's business: the message is the same for any other tenant.
      throw new DomainTaken(
        mine
          ? `domain "${domain}" is already added to tenant "${tenant.slug}" (${mine.status}); verify it with \`tenantctl domains verify ${tenant.slug} ${domain}\``
          : `domain "${domain}" is already registered; a domain belongs to one tenant. If it is yours, have it removed where it was added first`,
        { cause: error }
      )
    }
    await this.deps.tenants.refresh(tenant.id)
    return toApi(row)
  }

  /** Fetches the token through the domain; 422 DomainNotVerified says what was seen and what to do. */
  async verify(tenant: TenantRecord, input: string): Promise<TenantDomain> {
    const domain = this.normalize(input)
    const row = await this.#find(tenant, domain)
    if (!row) throw new DomainNotFound(tenant.slug, domain, tenant.slug)
    const result = await verifyDomain(domain, row.verification_token, { connectTo: this.deps.verifyAddress, timeoutMs: this.deps.verifyTimeoutMs })
    const now = new Date()
    const updated = await this.deps.catalog
      .updateTable('tenant_domains')
      .set(
        result.ok
          ? { status: 'verified', verified_at: row.verified_at ?? now, last_checked_at: now, last_error: null, updated_at: now }
          : { last_checked_at: now, last_error: result.seen, updated_at: now }
      )
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirst()
    if (!updated) throw new DomainNotFound(tenant.slug, domain, tenant.slug)
    await this.deps.tenants.refresh(tenant.id)
    if (!result.ok) {
      throw new DomainNotVerified(
        `domain "${domain}" could not be verified: ${result.seen}. ` +
          `Point ${domain} at this edge (a DNS A/AAAA or CNAME record to the address Caddy serves, port 80 open, ` +
          `${WELL_KNOWN_PREFIX} passed to tenantd without a redirect), wait for DNS to update, then verify again: ` +
          `\`tenantctl domains verify ${tenant.slug} ${domain}\`` +
          (row.status === 'verified' ? ' (it stays verified meanwhile)' : '')
      )
    }
    return toApi(updated)
  }

  async remove(tenant: TenantRecord, input: string): Promise<TenantDomain> {
    const domain = this.normalize(input)
    const row = await this.deps.catalog.deleteFrom('tenant_domains').where('tenant_id', '=', tenant.id).where('domain', '=', domain).returningAll().executeTakeFirst()
    if (!row) throw new DomainNotFound(tenant.slug, domain, tenant.slug)
    await this.deps.tenants.refresh(tenant.id)
    return toApi(row)
  }

  /**
   * The body of GET /.well-known/tenantd/<token> on `host`: the token, when host is a
   * pending or verified domain whose token it is; undefined otherwise. From the in-memory
   * index, so a flood of probes reads nothing from the catalog.
   */
  async wellKnownToken(host: string | undefined, token: string): Promise<string | undefined> {
    let name = host?.split(':')[0]?.toLowerCase() ?? ''
    if (name.endsWith('.')) name = name.slice(0, -1)
    if (!name || name.length > 253 || token.length > 100) return undefined
    let entry = this.deps.tenants.domainEntry(name)
    // Added a moment ago (on another replica): its notification may still be on its way in.
    if (!entry) {
      await this.deps.tenants.settled()
      entry = this.deps.tenants.domainEntry(name)
    }
    return entry && entry.token === token ? token : undefined
  }

  async #find(tenant: TenantRecord, domain: string): Promise<TenantDomainRow | undefined> {
    return this.deps.catalog.selectFrom('tenant_domains').selectAll().where('tenant_id', '=', tenant.id).where('domain', '=', domain).executeTakeFirst()
  }
}

function toApi(row: TenantDomainRow): TenantDomain {
  const path = `${WELL_KNOWN_PREFIX}${row.verification_token}`
  return {
    domain: row.domain,
    status: row.status,
    verifiedAt: iso(row.verified_at),
    lastCheckedAt: iso(row.last_checked_at),
    lastError: row.last_error,
    createdAt: iso(row.created_at)!,
    verification: { url: `http://${row.domain}${path}`, path, expectedBody: row.verification_token },
  }
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString()
}
