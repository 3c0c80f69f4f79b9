import { sql } from 'kysely'
import pg from 'pg'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { TenantRow, TenantStatus } from '../catalog/catalog-schema.js'
import { TenantNotFound } from '../errors.js'
import type { Logger } from '../logger.js'
import { isUuid } from '../uuid.js'

/** A tenant as the catalog knows it, with what serving its traffic needs. */
export interface TenantRecord extends TenantRow {
  plan_pool_size: number
  plan_max_connections: number
  host_name: string
  host_address: string
  host_port: number
  /** Names of the modules installed for this tenant. */
  modules: string[]
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
  limit?: number
  offset?: number
}


/**
 * Reads tenants from the catalog and caches them by id, slug and subdomain. Every change
 * to a tenant row is announced by a trigger on channel `tenantd_tenant_changed`; each
 * replica LISTENs and drops its cached copy, so suspending a tenant takes effect on every
 * replica at once. If the LISTEN connection drops, the whole cache is cleared (a change
 * may have been missed) and the connection is re-established.
 *
 * @example
 *   const tenant = await directory.find('acme')         // by slug, subdomain or id (cached)
 *   directory.toApi(tenant)                              // public fields only
 */
export class TenantDirectory {
  readonly #byKey = new Map<string, { record: TenantRecord | null; at: number }>()
  #listener: pg.Client | undefined
  #closed = false
  #reconnectTimer: NodeJS.Timeout | undefined
  readonly #listeners = new Set<(tenantId: string) => void>()

  constructor(
    private readonly catalog: CatalogDb,
    private readonly log: Logger,
    /** Safety net: cached entries expire even without a notification. */
    private readonly ttlMs = 30_000
  ) {}

  /** Starts listening for tenant changes on the catalog (call once at start). */
  async listen(connectionString: string): Promise<void> {
    if (this.#closed) return
    const client = new pg.Client({ connectionString })
    client.on('notification', (message) => {
      if (message.channel === 'tenantd_tenant_changed' && message.payload) this.invalidate(message.payload)
    })
    client.on('error', (error) => {
      this.log.warn({ err: { message: error.message } }, 'tenant change listener lost its connection; cache cleared')
      this.#byKey.clear()
      this.#listener = undefined
      client.end().catch(() => {})
      this.#scheduleReconnect(connectionString)
    })
    await client.connect()
    await client.query('listen tenantd_tenant_changed')
    this.#listener = client
    // A change may have happened between the last read and LISTEN.
    this.#byKey.clear()
  }

  #scheduleReconnect(connectionString: string): void {
    if (this.#closed || this.#reconnectTimer) return
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      this.listen(connectionString).catch(() => this.#scheduleReconnect(connectionString))
    }, 1_000)
    this.#reconnectTimer.unref()
  }

  /** Called with a tenant id whenever that tenant changed (here or on another replica). */
  onChange(listener: (tenantId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Drops a tenant from the cache (all its keys). */
  invalidate(tenantId: string): void {
    for (const [key, entry] of this.#byKey) {
      if (key === tenantId || entry.record?.id === tenantId || entry.record === null) this.#byKey.delete(key)
    }
    for (const listener of this.#listeners) listener(tenantId)
  }

  /** The cached answer for a key without touching the catalog; undefined when not cached (or stale). */
  peek(key: string): TenantRecord | null | undefined {
    const cached = this.#byKey.get(key) ?? this.#byKey.get(key.trim().toLowerCase())
    return cached && Date.now() - cached.at < this.ttlMs ? cached.record : undefined
  }

  /** Finds a live (not purged) tenant by id, slug or subdomain; null when none. Cached. */
  async find(key: string): Promise<TenantRecord | null> {
    const normalized = key.trim().toLowerCase()
    const cached = this.#byKey.get(normalized)
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.record
    const record = await this.#load(normalized)
    const at = Date.now()
    if (record) {
      for (const k of [record.id, record.slug, record.subdomain]) this.#byKey.set(k, { record, at })
    }
    this.#byKey.set(normalized, { record, at })
    return record
  }

  /** Like find(), but reads the catalog (no cache) and throws TenantNotFound. */
  async get(key: string): Promise<TenantRecord> {
    const record = await this.#load(key.trim().toLowerCase())
    if (!record) throw new TenantNotFound(key.length > 60 ? `${key.slice(0, 57)}...` : key)
    return record
  }

  async #load(key: string): Promise<TenantRecord | null> {
    const row = await this.#select()
      .where('t.purged_at', 'is', null)
      .where((eb) =>
        isUuid(key) ? eb('t.id', '=', key) : eb.or([eb('t.slug', '=', key), eb('t.subdomain', '=', key)])
      )
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
      ])
  }

  async list(query: TenantListQuery): Promise<{ items: TenantRecord[]; total: number }> {
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
    const [items, count] = await Promise.all([
      q.orderBy('t.created_at', 'desc').orderBy('t.id').limit(query.limit ?? 50).offset(query.offset ?? 0).execute(),
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
    this.#byKey.clear()
  }
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString()
}
