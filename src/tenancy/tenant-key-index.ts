import type { TenantStatus } from '../catalog/catalog-schema.js'
import type { TenantRecord } from './tenant-directory.js'

/** A custom domain as routing needs it (pending ones only serve their verification token). */
export interface DomainKey {
  domain: string
  token: string
  verified: boolean
}

/** Every name a live (not purged) tenant answers to, and whether it serves traffic. */
export interface TenantKeys {
  id: string
  slug: string
  subdomain: string
  status: TenantStatus
  domains: DomainKey[]
  /**
   * The tenant's full record while the directory caches it (its LRU sets and clears this), so
   * a cached lookup is one Map.get: `at` is when it was read, `touched` when its LRU position
   * was last refreshed.
   */
  cached?: { record: TenantRecord; at: number; touched: number }
}

/** A domain looked up in the index, with the tenant it belongs to. */
export interface DomainEntry extends DomainKey {
  tenant: TenantKeys
}

/**
 * Every routing key of every live tenant (id, slug, subdomain, custom domains), in memory.
 * Its size follows the catalog (tenants and their domains), never the names clients ask
 * for: a lookup of an unknown name changes nothing. The directory keeps it current from
 * change notifications.
 *
 * @example
 *   index.set({ id, slug: 'acme', subdomain: 'acme', status: 'active', domains: [] })
 *   index.bySubdomain('acme')?.id   // id
 */
export class TenantKeyIndex {
  #byId = new Map<string, TenantKeys>()
  #bySlug = new Map<string, TenantKeys>()
  #bySubdomain = new Map<string, TenantKeys>()
  #byDomain = new Map<string, DomainEntry>()

  get tenants(): number {
    return this.#byId.size
  }

  get domains(): number {
    return this.#byDomain.size
  }

  byId(id: string): TenantKeys | undefined {
    return this.#byId.get(id)
  }

  bySubdomain(subdomain: string): TenantKeys | undefined {
    return this.#bySubdomain.get(subdomain)
  }

  byDomain(domain: string): DomainEntry | undefined {
    return this.#byDomain.get(domain)
  }

  /** What X-Tenant-ID and tokens name: a slug, a subdomain or an id (in that order). */
  byKey(key: string): TenantKeys | undefined {
    return this.#bySlug.get(key) ?? this.#bySubdomain.get(key) ?? this.#byId.get(key)
  }

  /** Adds or replaces one tenant's keys. */
  set(keys: TenantKeys): void {
    this.delete(keys.id)
    this.#add(keys)
  }

  /** Forgets one tenant (purged, or gone from the catalog). */
  delete(id: string): void {
    const old = this.#byId.get(id)
    if (!old) return
    this.#byId.delete(id)
    // Another tenant may hold a freed name by now; only remove what still points here.
    if (this.#bySlug.get(old.slug) === old) this.#bySlug.delete(old.slug)
    if (this.#bySubdomain.get(old.subdomain) === old) this.#bySubdomain.delete(old.subdomain)
    for (const d of old.domains) if (this.#byDomain.get(d.domain)?.tenant === old) this.#byDomain.delete(d.domain)
  }

  /** Replaces everything with a full snapshot, except the tenants in `keep` (reloaded since the snapshot was read). */
  replaceAll(snapshot: TenantKeys[], keep: ReadonlySet<string>): void {
    const kept = [...keep].map((id) => this.#byId.get(id)).filter((k): k is TenantKeys => k !== undefined)
    this.#byId = new Map()
    this.#bySlug = new Map()
    this.#bySubdomain = new Map()
    this.#byDomain = new Map()
    for (const keys of snapshot) if (!keep.has(keys.id)) this.#add(keys)
    for (const keys of kept) this.set(keys)
  }

  clear(): void {
    this.replaceAll([], new Set())
  }

  #add(keys: TenantKeys): void {
    this.#byId.set(keys.id, keys)
    this.#bySlug.set(keys.slug, keys)
    this.#bySubdomain.set(keys.subdomain, keys)
    for (const d of keys.domains) this.#byDomain.set(d.domain, { ...d, tenant: keys })
  }
}
