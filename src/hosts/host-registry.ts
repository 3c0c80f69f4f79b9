import pg from 'pg'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { DbHostRow } from '../catalog/catalog-schema.js'
import { Conflict, HostNotFound, HostUnavailable, NoHostAvailable, SqlState, ValidationError, sqlState } from '../errors.js'
import { endPool } from '../pool-shutdown.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { isUuid } from '../uuid.js'

export interface RegisterHostInput {
  name: string
  host: string
  port: number
  adminUser: string
  adminPassword: string
  adminDatabase?: string
  maxTenants?: number | null
  isDefault?: boolean
}

/** A db host as the API shows it: never the password. */
/** GET /api/admin/hosts/usage: a host's connections and the size of its tenants' databases. */
export interface HostUsage {
  id: string
  name: string
  ok: boolean
  error?: string
  /** Client connections now, and how many the host allows (max_connections less the superuser reserve). */
  connections: { used: number; max: number } | null
  tenantDatabases: number
  tenantBytes: number | null
}

export interface DatabaseHost {
  id: string
  name: string
  host: string
  port: number
  adminUser: string
  maxTenants: number | null
  status: 'active' | 'draining' | 'removed'
  isDefault: boolean
  tenantCount: number
  createdAt: string
}


/**
 * The registry of PostgreSQL servers that hold tenant databases. tenantd connects to each
 * with an admin role that has CREATEDB and CREATEROLE (not superuser); that role's
 * password is sealed in the catalog.
 *
 * @example
 *   const host = await hosts.register({ name: 'db2', host: '10.0.0.5', port: 5432, adminUser: 'tenantd', adminPassword })
 *   await hosts.withAdminClient(host.id, (client) => client.query('select 1'))
 */
export class HostRegistry {
  /**
   * A small pool of admin connections per host (to its admin database), reused across
   * provisioning steps: each SCRAM handshake costs ~15 ms. Keyed by everything that makes a
   * connection, so a changed address or password gets a fresh pool.
   */
  readonly #adminPools = new Map<string, pg.Pool>()

  constructor(
    private readonly catalog: CatalogDb,
    private readonly sealer: SecretSealer
  ) {}

  async list(): Promise<DatabaseHost[]> {
    const rows = await this.catalog
      .selectFrom('db_hosts as h')
      .selectAll('h')
      .select((eb) =>
        eb
          .selectFrom('tenants as t')
          .whereRef('t.host_id', '=', 'h.id')
          .where('t.purged_at', 'is', null)
          .select((e) => e.fn.countAll<number>().as('n'))
          .as('tenant_count')
      )
      .where('h.status', '<>', 'removed')
      .orderBy('h.created_at')
      .execute()
    return rows.map((row) => toHost(row, Number(row.tenant_count ?? 0)))
  }

  async get(id: string): Promise<DatabaseHost> {
    const hosts = await this.list()
    const host = hosts.find((h) => h.id === id || h.name === id)
    if (!host) throw new HostNotFound(id)
    return host
  }

  async row(id: string): Promise<DbHostRow> {
    const row = await this.catalog
      .selectFrom('db_hosts')
      .selectAll()
      .where((eb) => {
        // By name: the live host (a removed one's name may be registered again); by id: any.
        const byName = eb.and([eb('name', '=', id), eb('status', '<>', 'removed')])
        return isUuid(id) ? eb.or([eb('id', '=', id), byName]) : byName
      })
      .executeTakeFirst()
    if (!row) throw new HostNotFound(id)
    return row
  }

  /** Registers a host after checking that its admin role can log in and create databases and roles. */
  async register(input: RegisterHostInput, options: { verify?: boolean } = {}): Promise<DatabaseHost> {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(input.name)) {
      throw new ValidationError('host name must be 1-63 letters, digits, _ or -')
    }
    if (options.verify !== false) await verifyAdminRole(input)
    try {
      const row = await this.catalog.transaction().execute(async (trx) => {
        if (input.isDefault) await trx.updateTable('db_hosts').set({ is_default: false }).where('is_default', '=', true).execute()
        return trx
          .insertInto('db_hosts')
          .values({
            name: input.name,
            host: input.host,
            port: input.port,
            admin_user: input.adminUser,
            admin_password_sealed: this.sealer.seal(input.adminPassword),
            admin_database: input.adminDatabase ?? 'postgres',
            max_tenants: input.maxTenants ?? null,
            is_default: input.isDefault ?? false,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
      })
      return toHost(row, 0)
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) throw new Conflict(`a db host named "${input.name}" already exists`)
      throw error
    }
  }

  /** Updates where a host is reached (the embedded server may change port between starts). */
  async updateAddress(id: string, address: { host: string; port: number }): Promise<void> {
    await this.catalog.updateTable('db_hosts').set({ ...address, updated_at: new Date() }).where('id', '=', id).execute()
  }

  /**
   * Removes a host that holds no tenant database any more (moved away, or hard-deleted). 409
   * while any tenant, even a canceled one (its database is kept for retention), is on it.
   * The row stays, marked removed, for the history that names it; its admin password is erased.
   */
  async remove(id: string): Promise<DatabaseHost> {
    const host = await this.get(id)
    const left = await this.catalog
      .selectFrom('tenants')
      .select(['slug', 'status'])
      .where('host_id', '=', host.id)
      .where('purged_at', 'is', null)
      .orderBy('slug')
      .execute()
    if (left.length) {
      const named = left.slice(0, 5).map((t) => `${t.slug} (${t.status})`).join(', ')
      throw new Conflict(
        `db host "${host.name}" still holds ${left.length} tenant${left.length === 1 ? '' : 's'}: ${named}${left.length > 5 ? ', ...' : ''}. ` +
          `Move them first (\`tenantctl hosts drain ${host.name} --move\`); canceled tenants must be hard-deleted or reactivated and moved`
      )
    }
    if (host.isDefault) throw new Conflict(`db host "${host.name}" is the default host; make another host the default first`)
    await this.catalog
      .updateTable('db_hosts')
      .set({ status: 'removed', removed_at: new Date(), admin_password_sealed: '', updated_at: new Date() })
      .where('id', '=', host.id)
      .execute()
    await this.#closeAdminPool(host.id)
    return { ...host, status: 'removed' as DatabaseHost['status'] }
  }

  /** A draining host gets no new tenants; its tenants keep working until moved. */
  async drain(id: string): Promise<DatabaseHost> {
    const row = await this.row(id)
    await this.catalog.updateTable('db_hosts').set({ status: 'draining', updated_at: new Date() }).where('id', '=', row.id).execute()
    return this.get(row.id)
  }

  /**
   * Chooses the host of a new tenant: the requested one, else the default, else the active
   * host with the fewest tenants that still has room.
   */
  async placeTenant(requestedHostId?: string): Promise<DbHostRow> {
    if (requestedHostId !== undefined) {
      const row = await this.row(requestedHostId)
      const host = await this.get(row.id)
      if (host.status !== 'active') throw new Conflict(`db host "${host.name}" is draining and takes no new tenants; choose another with hostId`)
      if (host.maxTenants !== null && host.tenantCount >= host.maxTenants) {
        throw new Conflict(`db host "${host.name}" is full (${host.maxTenants} tenants); choose another with hostId or register one`)
      }
      return row
    }
    const candidates = (await this.list())
      .filter((h) => h.status === 'active' && (h.maxTenants === null || h.tenantCount < h.maxTenants))
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.tenantCount - b.tenantCount)
    const chosen = candidates[0]
    if (!chosen) throw new NoHostAvailable('no active db host has room for a new tenant; register one with `tenantctl hosts add`')
    return this.row(chosen.id)
  }

  /** Connection settings of a host's admin role (password opened from its seal). */
  adminConfig(row: DbHostRow, database = row.admin_database): pg.ClientConfig {
    return {
      host: row.host,
      port: row.port,
      user: row.admin_user,
      password: this.sealer.open(row.admin_password_sealed),
      database,
      connectionTimeoutMillis: 5_000,
    }
  }

  /**
   * Runs fn with an admin connection to the host: pooled for the admin database, fresh for any
   * other database (a session left on a template database would block cloning it). fn must
   * leave the session as it found it (release advisory locks, RESET ROLE).
   */
  async withAdminClient<T>(hostOrId: string | DbHostRow, fn: (client: pg.ClientBase) => Promise<T>, database?: string): Promise<T> {
    const row = typeof hostOrId === 'string' ? await this.row(hostOrId) : hostOrId
    if (database === undefined || database === row.admin_database) return this.#withPooledAdmin(row, fn)
    const client = new pg.Client(this.adminConfig(row, database))
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (cause) {
      throw unreachable(row, cause)
    }
    try {
      return await fn(client)
    } finally {
      await client.end().catch(() => {})
    }
  }

  async #withPooledAdmin<T>(row: DbHostRow, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const key = [row.id, row.host, row.port, row.admin_user, row.admin_database, row.admin_password_sealed].join('|')
    let pool = this.#adminPools.get(key)
    if (!pool) {
      for (const [other, stale] of this.#adminPools) {
        if (other.startsWith(`${row.id}|`)) {
          this.#adminPools.delete(other)
          void stale.end().catch(() => {})
        }
      }
      pool = new pg.Pool({ ...this.adminConfig(row), max: 3, idleTimeoutMillis: 10_000, allowExitOnIdle: true })
      pool.on('error', () => {})
      this.#adminPools.set(key, pool)
    }
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (cause) {
      throw unreachable(row, cause)
    }
    let broken: Error | undefined
    try {
      return await fn(client)
    } catch (error) {
      // Only a plain SQL error (a SQLSTATE outside connection exceptions and shutdowns) leaves
      // the session usable; anything else (socket errors, timeouts) must not go back to the pool.
      const state = sqlState(error)
      if (state === undefined || !/^[0-9A-Z]{5}$/.test(state) || /^(08|57P)/.test(state)) broken = error as Error
      throw error
    } finally {
      client.release(broken)
    }
  }

  async #closeAdminPool(hostId: string): Promise<void> {
    for (const [key, pool] of this.#adminPools) {
      if (!key.startsWith(`${hostId}|`)) continue
      this.#adminPools.delete(key)
      await endPool(pool).catch(() => {})
    }
  }

  /** Closes the pooled admin connections (shutdown). */
  async close(): Promise<void> {
    const pools = [...this.#adminPools.values()]
    this.#adminPools.clear()
    await Promise.all(pools.map((pool) => endPool(pool).catch(() => {})))
  }

  /**
   * What each live host carries right now: client connections against max_connections (less
   * the superuser reserve), and the total size of its tenants' databases; a host that does not
   * answer says why instead.
   */
  async usage(): Promise<HostUsage[]> {
    const rows = await this.catalog.selectFrom('db_hosts').selectAll().where('status', '<>', 'removed').orderBy('name').execute()
    const databases = await this.catalog.selectFrom('tenants').select(['host_id', 'database_name']).where('purged_at', 'is', null).execute()
    return Promise.all(
      rows.map(async (row): Promise<HostUsage> => {
        const names = databases.filter((d) => d.host_id === row.id).map((d) => d.database_name)
        try {
          const result = await this.withAdminClient(row, (c) =>
            c.query<{ used: number; max: number; reserved: number; bytes: string }>(
              `select (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used,
                      current_setting('max_connections')::int as max,
                      current_setting('superuser_reserved_connections')::int as reserved,
                      (select coalesce(sum(pg_database_size(datname)), 0)::text from pg_database where datname = any($1)) as bytes`,
              [names]
            )
          )
          const r = result.rows[0]!
          return { id: row.id, name: row.name, ok: true, connections: { used: r.used, max: r.max - r.reserved }, tenantDatabases: names.length, tenantBytes: Number(r.bytes) }
        } catch (error) {
          return { id: row.id, name: row.name, ok: false, error: (error as Error).message, connections: null, tenantDatabases: names.length, tenantBytes: null }
        }
      })
    )
  }

  /** Whether each host answers; used by /api/ready. */
  async checkAll(): Promise<Array<{ id: string; name: string; ok: boolean; error?: string }>> {
    const rows = await this.catalog.selectFrom('db_hosts').selectAll().where('status', '<>', 'removed').execute()
    return Promise.all(
      rows.map(async (row) => {
        try {
          await this.withAdminClient(row, (c) => c.query('select 1'))
          return { id: row.id, name: row.name, ok: true }
        } catch (error) {
          return { id: row.id, name: row.name, ok: false, error: (error as Error).message }
        }
      })
    )
  }
}

async function verifyAdminRole(input: RegisterHostInput): Promise<void> {
  const client = new pg.Client({
    host: input.host,
    port: input.port,
    user: input.adminUser,
    password: input.adminPassword,
    database: input.adminDatabase ?? 'postgres',
    connectionTimeoutMillis: 5_000,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    const { rows } = await client.query<{ rolcreatedb: boolean; rolcreaterole: boolean; rolsuper: boolean }>(
      'select rolcreatedb, rolcreaterole, rolsuper from pg_roles where rolname = current_user'
    )
    const role = rows[0]
    if (!role || (!role.rolsuper && !(role.rolcreatedb && role.rolcreaterole))) {
      throw new ValidationError(`role "${input.adminUser}" needs CREATEDB and CREATEROLE on ${input.host}:${input.port} (ALTER ROLE ... CREATEDB CREATEROLE)`)
    }
  } catch (error) {
    if (error instanceof ValidationError) throw error
    throw new ValidationError(`cannot log in to ${input.host}:${input.port} as "${input.adminUser}": ${(error as Error).message}`, { cause: error })
  } finally {
    await client.end().catch(() => {})
  }
}

function unreachable(row: DbHostRow, cause: unknown): Error {
  return new HostUnavailable(`db host "${row.name}" (${row.host}:${row.port}) is not reachable: ${(cause as Error).message}`, { cause })
}

function toHost(row: DbHostRow, tenantCount: number): DatabaseHost {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port,
    adminUser: row.admin_user,
    maxTenants: row.max_tenants,
    status: row.status,
    isDefault: row.is_default,
    tenantCount,
    createdAt: new Date(row.created_at).toISOString(),
  }
}
