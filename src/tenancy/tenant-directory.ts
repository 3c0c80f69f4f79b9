import { sql } from 'kysely'
import { LRUCache } from 'lru-cache'
import pg from 'pg'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { TenantRow, TenantStatus } from '../catalog/catalog-schema.js'
import { TenantNotFound } from '../errors.js'
import type { Logger } from '../logger.js'
import { isUuid } from '../uuid.js'
import { latestSizeBytes } from './tenant-size-history.js'
import { TenantKeyIndex, type DomainEntry, type DomainKey, type TenantKeys } from './tenant-key-index.js'

/** A tenant as the catalog knows it, with what serving its traffic needs. */
export interface TenantRecord extends TenantRow {
  plan_pool_size: number
  plan_max_connections: number
  host_name: string
  host_address: string
  host_port: number
  /** Names of the modules installed for this tenant. */
  modules: string[]
  /** The checksum of its logo (tenant-branding.ts), or null: the logo's version in URLs. */
  logo_sha256: string | null
}

/** A tenant as the API shows it: no credentials. */
export interface Tenant {
  id: string
  slug: string
  subdomain: string
  name: string
  contactEmail: string
  plan: string
  status: TenantStatus
  statusReason: string | null
  hostId: string
  hostName: string
  database: string
  retentionDays: number
  canceledAt: string | null
  deletedAt: string | null
  createdAt: string
  updatedAt: string
}

export interface TenantListQuery {
  status?: TenantStatus
  search?: string
  plan?: string
  hostId?: string
  sort?: 'created' | 'name' | 'slug' | 'status' | 'plan' | 'host' | 'lastBackup' | 'size'
  order?: 'asc' | 'desc'
  limit?: number
  offset?: number
}

/** The newest usable (completed or verified) backup of a tenant, for listings. */
const lastBackupAt = sql<Date | null>`(select max(b.created_at) from backups b where b.tenant_id = t.id and b.state in ('completed', 'verified'))`


/** How a name is looked up: X-Tenant-ID and tokens name any key; a Host names a subdomain or a domain. */
type KeyKind = 'key' | 'subdomain' | 'domain'

export interface TenantDirectoryOptions {
  /** Safety net: a cached record is re-read after this long even without a notification. */
  ttlMs?: number
  /** Most tenant records kept in memory (least recently used go first). */
  maxRecords?: number
}

/**
 * Finds tenants by id, slug, subdomain or verified custom domain.
 *
 * Two layers keep it cheap and bounded. An index of every routing key of every live tenant
 * (tenant-key-index.ts) is loaded at listen() and kept current from the trigger-fed channel
 * `tenantd_tenant_changed` (tenants, tenant_modules, tenant_domains, tenant_logos): a notification reloads
 * that one tenant's keys, a reconnect of the LISTEN connection reloads them all. A name the
 * index does not know is answered "not found" without reading the catalog and without being
 * remembered, so a flood of random Host headers costs neither queries nor memory. Full
 * records of tenants actually asked for live in a bounded LRU, read from the catalog once
 * (concurrent first requests share one read) and dropped on a notification, on every replica.
 *
 * @example
 *   await directory.listen(catalogUrl)
 *   const tenant = await directory.find('acme')        // by slug, subdomain or id (cached)
 *   directory.peekSubdomain('acme')                      // synchronous: record, null (no such tenant) or undefined (ask find)
 *   directory.toApi(tenant!)                             // public fields only
 */
export class TenantDirectory {
  readonly #index = new TenantKeyIndex()
  /** Which tenants' records are cached (in their index entries), least recently used first out. */
  readonly #records: LRUCache<string, TenantKeys>
  /** One catalog read per tenant at a time; a notification drops the entry so a stale read is not cached. */
  readonly #loading = new Map<string, Promise<TenantRecord | null>>()
  /** Per-tenant key reloads in flight; `again` makes the running one read once more. */
  readonly #reloads = new Map<string, { again: boolean; done: Promise<void> }>()
  /** Set while a full reload runs: tenants reloaded one by one meanwhile keep their newer keys. */
  #touchedDuringFull: Set<string> | undefined
  #fullLoad: Promise<void> | undefined
  /** True while the index is known complete: unknown names are then answered without the catalog. */
  #authoritative = false
  #listener: pg.Client | undefined
  #connectionString: string | undefined
  #closed = false
  #reconnectTimer: NodeJS.Timeout | undefined
  readonly #listeners = new Set<(tenantId: string) => void>()
  readonly #ttlMs: number

  constructor(
    private readonly catalog: CatalogDb,
    private readonly log: Logger,
    options: TenantDirectoryOptions | number = {}
  ) {
    const opts = typeof options === 'number' ? { ttlMs: options } : options
    this.#ttlMs = opts.ttlMs ?? 30_000
    this.#records = new LRUCache<string, TenantKeys>({
      max: opts.maxRecords ?? 10_000,
      dispose: (keys) => {
        keys.cached = undefined
      },
    })
  }

  /** Starts listening for tenant changes on the catalog and loads the key index (call once at start). */
  async listen(connectionString: string): Promise<void> {
    if (this.#closed) return
    this.#connectionString = connectionString
    const client = new pg.Client({ connectionString })
    client.on('notification', (message) => {
      if (message.channel === 'tenantd_tenant_changed' && message.payload) this.invalidate(message.payload)
    })
    client.on('error', (error) => {
      this.log.warn({ err: { message: error.message } }, 'tenant change listener lost its connection; reloading the tenant index when it is back')
      // Notifications may be missed from now on: stop trusting the index for misses and
      // drop cached records, until the reconnect reloads everything.
      this.#authoritative = false
      this.#records.clear()
      if (this.#listener === client) this.#listener = undefined
      client.end().catch(() => {})
      this.#scheduleReconnect()
    })
    try {
      await client.connect()
      await client.query('listen tenantd_tenant_changed')
      if (this.#closed) throw new Error('directory closed')
      this.#listener = client
      // A change may have happened between the last read and LISTEN.
      this.#records.clear()
      await this.#loadAll()
    } catch (error) {
      if (this.#listener === client) this.#listener = undefined
      await client.end().catch(() => {})
      throw error
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer || !this.#connectionString) return
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      const reload = this.#listener ? this.#loadAll() : this.listen(this.#connectionString!)
      reload.catch((error: Error) => {
        this.log.warn({ err: { message: error.message } }, 'tenant index reload failed; retrying')
        this.#scheduleReconnect()
      })
    }, 1_000)
    this.#reconnectTimer.unref()
  }

  /** Called with a tenant id whenever that tenant changed (here or on another replica). */
  onChange(listener: (tenantId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Drops a tenant's cached record and reloads its keys (in the background; refresh() to wait). */
  invalidate(tenantId: string): void {
    const id = tenantId.trim().toLowerCase()
    void this.refresh(id)
    for (const listener of this.#listeners) listener(tenantId)
  }

  /**
   * Reloads one tenant's keys (subdomain, status, domains) from the catalog; resolves once
   * the index reflects the catalog as of this call. Writers await it so their own next
   * request already sees the change.
   */
  refresh(tenantId: string): Promise<void> {
    const id = tenantId.trim().toLowerCase()
    if (!isUuid(id)) return Promise.resolve()
    this.#records.delete(id)
    this.#loading.delete(id)
    this.#touchedDuringFull?.add(id)
    const running = this.#reloads.get(id)
    if (running) {
      running.again = true
      return running.done
    }
    const state = { again: false, done: Promise.resolve() }
    state.done = (async () => {
      do {
        state.again = false
        const [keys] = await this.#selectKeys(id)
        if (keys) this.#index.set(keys)
        else this.#index.delete(id)
      } while (state.again)
    })()
      .catch((error: Error) => {
        // The index may now be wrong about this tenant: answer misses from the catalog
        // until a full reload succeeds.
        this.log.warn({ err: { message: error.message }, tenantId: id }, 'could not reload a tenant\'s keys; reloading the whole index')
        this.#authoritative = false
        this.#scheduleReconnect()
      })
      .finally(() => this.#reloads.delete(id))
    this.#reloads.set(id, state)
    return state.done
  }

  /** Resolves when no key reload is in flight. */
  async settled(): Promise<void> {
    while (this.#reloads.size > 0 || this.#fullLoad) {
      // A failed full reload is reported by whoever started it; waiting ends either way.
      await Promise.all([...[...this.#reloads.values()].map((r) => r.done), this.#fullLoad?.catch(() => {})])
    }
  }

  async #loadAll(): Promise<void> {
    const touched = new Set<string>()
    this.#touchedDuringFull = touched
    const load = (async () => {
      const snapshot = await this.#selectKeys()
      this.#index.replaceAll(snapshot, touched)
      // Records cached in the replaced entries are gone with them.
      this.#records.clear()
      this.#authoritative = true
    })()
    this.#fullLoad = load
    try {
      await load
    } finally {
      if (this.#fullLoad === load) {
        this.#fullLoad = undefined
        this.#touchedDuringFull = undefined
      }
    }
  }

  async #selectKeys(id?: string): Promise<TenantKeys[]> {
    let q = this.catalog
      .selectFrom('tenants as t')
      .select([
        't.id',
        't.slug',
        't.subdomain',
        't.status',
        sql<DomainKey[]>`coalesce((select json_agg(json_build_object('domain', d.domain, 'token', d.verification_token, 'verified', d.status = 'verified')) from tenant_domains d where d.tenant_id = t.id), '[]'::json)`.as('domains'),
      ])
      .where('t.purged_at', 'is', null)
    if (id) q = q.where('t.id', '=', id)
    return q.execute()
  }

  /** The cached answer for a slug, subdomain or id, without touching the catalog: a record, null (no such tenant) or undefined (not cached; call find). */
  peek(key: string): TenantRecord | null | undefined {
    return this.#cached(this.#index.byKey(key) ?? this.#index.byKey(key.trim().toLowerCase()))
  }

  /** peek() for a Host's subdomain label (lower case), which names subdomains only. */
  peekSubdomain(subdomain: string): TenantRecord | null | undefined {
    return this.#cached(this.#index.bySubdomain(subdomain))
  }

  /** peek() for a Host that is a custom domain (lower case); only verified domains name a tenant. */
  peekDomain(domain: string): TenantRecord | null | undefined {
    const entry = this.#index.byDomain(domain)
    return this.#cached(entry?.verified ? entry.tenant : undefined)
  }

  #cached(keys: TenantKeys | undefined): TenantRecord | null | undefined {
    if (keys === undefined) return this.#authoritative ? null : undefined
    const cached = keys.cached
    if (cached === undefined) return undefined
    const now = Date.now()
    if (now - cached.at >= this.#ttlMs) return undefined
    // LRU order to the second is enough, and keeps the hot path free of list updates.
    if (now - cached.touched > 1_000) {
      cached.touched = now
      this.#records.get(keys.id)
    }
    return cached.record
  }

  /** Caches a record in its tenant's index entry (nowhere, if the index does not know it). */
  #store(record: TenantRecord): void {
    const keys = this.#index.byId(record.id)
    if (!keys) return
    const now = Date.now()
    keys.cached = { record, at: now, touched: now }
    this.#records.set(record.id, keys)
  }

  /** Finds a live (not purged) tenant by id, slug or subdomain; null when none. Cached. */
  find(key: string): Promise<TenantRecord | null> {
    return this.#find('key', key.trim().toLowerCase())
  }

  /** Finds the tenant whose subdomain this is; null when none. Cached. */
  findBySubdomain(subdomain: string): Promise<TenantRecord | null> {
    return this.#find('subdomain', subdomain.trim().toLowerCase())
  }

  /** Finds the tenant whose verified custom domain this is; null when none. Cached. */
  findByDomain(domain: string): Promise<TenantRecord | null> {
    return this.#find('domain', domain.trim().toLowerCase())
  }

  /** Index only, no catalog: the tenant a subdomain label names. */
  keysBySubdomain(subdomain: string): Readonly<TenantKeys> | undefined {
    return this.#index.bySubdomain(subdomain)
  }

  /** Index only, no catalog: a custom domain (pending or verified) and its tenant. */
  domainEntry(domain: string): Readonly<DomainEntry> | undefined {
    return this.#index.byDomain(domain)
  }

  /** Sizes, for status pages and tests: tenants and domains indexed, records cached. */
  stats(): { tenants: number; domains: number; records: number; authoritative: boolean } {
    return { tenants: this.#index.tenants, domains: this.#index.domains, records: this.#records.size, authoritative: this.#authoritative }
  }

  #lookup(kind: KeyKind, key: string): TenantKeys | undefined {
    if (kind === 'subdomain') return this.#index.bySubdomain(key)
    if (kind === 'domain') {
      const entry = this.#index.byDomain(key)
      return entry?.verified ? entry.tenant : undefined
    }
    return this.#index.byKey(key)
  }

  async #find(kind: KeyKind, key: string): Promise<TenantRecord | null> {
    let keys = this.#lookup(kind, key)
    if (keys === undefined && (this.#reloads.size > 0 || this.#fullLoad)) {
      // A change being applied right now may add this name.
      await this.settled()
      keys = this.#lookup(kind, key)
    }
    if (keys !== undefined) return this.#cached(keys) ?? this.#loadRecord(keys.id)
    if (this.#authoritative) return null
    // The index may be behind (LISTEN down): ask the catalog, remember only hits.
    const record = await this.#selectRecord(kind, key)
    if (record && !this.#loading.has(record.id)) this.#store(record)
    return record
  }

  #loadRecord(id: string): Promise<TenantRecord | null> {
    const inFlight = this.#loading.get(id)
    if (inFlight) return inFlight
    const load = this.#selectRecord('key', id).then(
      (record) => {
        // Not cached when a notification arrived meanwhile (invalidate removed this load).
        if (this.#loading.get(id) === load) {
          this.#loading.delete(id)
          if (record) this.#store(record)
        }
        if (!record) void this.refresh(id)
        return record
      },
      (error: unknown) => {
        if (this.#loading.get(id) === load) this.#loading.delete(id)
        throw error
      }
    )
    this.#loading.set(id, load)
    return load
  }

  /** Like find(), but reads the catalog (no cache) and throws TenantNotFound. */
  async get(key: string): Promise<TenantRecord> {
    const record = await this.#selectRecord('key', key.trim().toLowerCase())
    if (!record) throw new TenantNotFound(key.length > 60 ? `${key.slice(0, 57)}...` : key)
    return record
  }

  async #selectRecord(kind: KeyKind, key: string): Promise<TenantRecord | null> {
    const row = await this.#select()
      .where('t.purged_at', 'is', null)
      .where((eb) => {
        if (kind === 'subdomain') return eb('t.subdomain', '=', key)
        if (kind === 'domain') {
          return eb.exists(
            eb.selectFrom('tenant_domains as d').select('d.id').whereRef('d.tenant_id', '=', 't.id').where('d.domain', '=', key).where('d.status', '=', 'verified')
          )
        }
        return isUuid(key) ? eb('t.id', '=', key) : eb.or([eb('t.slug', '=', key), eb('t.subdomain', '=', key)])
      })
      .executeTakeFirst()
    return row ?? null
  }

  #select() {
    return this.catalog
      .selectFrom('tenants as t')
      .innerJoin('plans as p', 'p.id', 't.plan_id')
      .innerJoin('db_hosts as h', 'h.id', 't.host_id')
      .selectAll('t')
      .select([
        'p.pool_size as plan_pool_size',
        'p.max_connections as plan_max_connections',
        'h.name as host_name',
        'h.host as host_address',
        'h.port as host_port',
        sql<string[]>`coalesce((select array_agg(m.module order by m.module) from tenant_modules m where m.tenant_id = t.id), '{}')`.as('modules'),
        sql<string | null>`(select l.sha256 from tenant_logos l where l.tenant_id = t.id)`.as('logo_sha256'),
      ])
  }

  async list(query: TenantListQuery): Promise<{ items: Array<TenantRecord & { size_bytes: string | null }>; total: number }> {
    let q = this.#select().where('t.purged_at', 'is', null)
    if (query.status) q = q.where('t.status', '=', query.status)
    if (query.plan) q = q.where('t.plan_id', '=', query.plan)
    if (query.hostId) q = q.where('t.host_id', '=', query.hostId)
    if (query.search) {
      const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      q = q.where((eb) =>
        eb.or([eb('t.slug', 'ilike', pattern), eb('t.name', 'ilike', pattern), eb('t.subdomain', 'ilike', pattern), eb('t.contact_email', 'ilike', pattern)])
      )
    }
    const sort = query.sort ?? 'created'
    const order = query.order ?? (sort === 'created' || sort === 'lastBackup' || sort === 'size' ? 'desc' : 'asc')
    const column = {
      created: sql`t.created_at`,
      name: sql`lower(t.name)`,
      slug: sql`t.slug`,
      status: sql`t.status`,
      plan: sql`t.plan_id`,
      host: sql`(select h.name from db_hosts h where h.id = t.host_id)`,
      lastBackup: lastBackupAt,
      size: latestSizeBytes,
    }[sort]
    const [items, count] = await Promise.all([
      q
        .select(latestSizeBytes.as('size_bytes'))
        .orderBy(sql`${column} ${sql.raw(order)} nulls last`)
        .orderBy('t.id')
        .limit(query.limit ?? 50)
        .offset(query.offset ?? 0)
        .execute(),
      q.clearSelect().select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    ])
    return { items, total: count.n }
  }

  toApi(record: TenantRecord): Tenant {
    return {
      id: record.id,
      slug: record.slug,
      subdomain: record.subdomain,
      name: record.name,
      contactEmail: record.contact_email,
      plan: record.plan_id,
      status: record.status,
      statusReason: record.status_reason,
      hostId: record.host_id,
      hostName: record.host_name,
      database: record.database_name,
      retentionDays: record.retention_days,
      canceledAt: iso(record.canceled_at),
      deletedAt: iso(record.deleted_at),
      createdAt: iso(record.created_at)!,
      updatedAt: iso(record.updated_at)!,
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    await this.#listener?.end().catch(() => {})
    this.#listener = undefined
    await this.settled().catch(() => {})
    this.#records.clear()
    this.#index.clear()
    this.#authoritative = false
  }
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString()
}
