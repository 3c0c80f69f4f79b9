import { Kysely, PostgresDialect } from 'kysely'
import { LRUCache } from 'lru-cache'
import pg from 'pg'
import { isConnectionFailure, PoolExhausted, SqlState, sqlState, TenantDatabaseUnavailable } from '../errors.js'
import type { Logger } from '../logger.js'
import { ConnectionBudget, type ReleasePermit } from './connection-budget.js'
import type { TenantDatabase } from './tenant-schema.js'

export interface TenantConnectionInfo {
  tenantId: string
  host: string
  port: number
  database: string
  user: string
  password: string
  /** Most connections this tenant's pool opens. */
  poolSize: number
}

export interface TenantPoolCacheOptions {
  /** Most pools kept open at once (LRU by last use). */
  maxTenants: number
  /** Most server connections across all pools of this process; never exceeded. */
  connectionBudget: number
  /** A pool unused this long is closed; an idle connection inside a pool closes after this too. */
  idleMs: number
  /** How long a query waits for a connection (budget permit or a busy pool) before PoolExhausted. Default 5000. */
  acquireTimeoutMs?: number
  /** How long opening one connection (TCP + authentication) may take. Default 3000. */
  connectTimeoutMs?: number
  log: Logger
  /**
   * Current (decrypted) credentials of a tenant's database; called when a pool is created.
   * `fresh`: read past any cache (a connection was refused with settings the cache still has:
   * the change's notification may not have reached this replica yet).
   */
  connectionInfo(tenantId: string, options?: { fresh?: boolean }): Promise<TenantConnectionInfo>
}

export interface TenantLease {
  db: Kysely<TenantDatabase>
  /** Ends the lease; calling it again does nothing. */
  release(): void
}

export interface TenantPoolStats {
  pools: number
  connections: number
  idle: number
  waiting: number
  budget: number
  maxTenants: number
  tenants: Array<{ tenantId: string; total: number; idle: number; waiting: number; leases: number }>
}

/** One tenant's pool and the bookkeeping that decides when it may close. */
interface PoolEntry {
  tenantId: string
  /** The connection settings this pool was made with (never logged: it holds the password). */
  info: TenantConnectionInfo
  pool: pg.Pool
  db: Kysely<TenantDatabase>
  /** Leases handed out and not yet released; the pool ends only when this is 0. */
  leases: number
  /** Connections of this pool waiting for a budget permit. */
  permitWaits: number
  /** Clients of this pool holding a permit (socket open or opening). */
  open: number
  /** Out of the LRU (evicted, expired, replaced): no new leases, closes at leases === 0. */
  retired: boolean
  closing: boolean
  /** When the last lease was taken or released (ms); idle expiry counts from here. */
  lastUsed: number
  /** pool.end() has resolved (its clients were told to end; their sockets may still close). */
  ended: boolean
  /** Resolves when the pool has ended and every socket of it has closed. */
  closed: Promise<void>
  markClosed(): void
}

/**
 * Errors without a SQLSTATE that node-postgres raises when a connection cannot be opened
 * or dies. pg gives them no code, so the message is all there is to match on.
 */
const CONNECTION_FAILURE_MESSAGES = new Set([
  'timeout expired',
  'Connection terminated due to connection timeout',
  'Connection terminated unexpectedly',
])
/** pg-pool's error when a checkout waited connectionTimeoutMillis in a full pool. */
const CHECKOUT_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect'

/**
 * Refusals a server gives while a connection is being opened, before any query: the
 * password or login role is no longer valid (a credential rotation took it away), or the
 * database is gone or closed to connections (a move's cutover). When the tenant's current
 * connection settings differ from the pool's, they mean the pool is stale, not that the
 * database is down.
 */
const STALE_SETTINGS_REFUSALS = new Set<string>([SqlState.invalidPassword, SqlState.invalidAuthorization, SqlState.invalidCatalogName, SqlState.objectNotInPrerequisiteState])

function sameSettings(a: TenantConnectionInfo, b: TenantConnectionInfo): boolean {
  return a.host === b.host && a.port === b.port && a.database === b.database && a.user === b.user && a.password === b.password
}

/** Whether `error` means the tenant's database could not be reached (vs. a query error). */
export function isTenantConnectionFailure(error: unknown): boolean {
  if (isConnectionFailure(error)) return true
  return error instanceof Error && sqlState(error) === undefined && CONNECTION_FAILURE_MESSAGES.has(error.message)
}

/**
 * What is logged of a driver error: message and code only. pg-pool hangs the whole client
 * (connection parameters included) on errors it emits, which must not reach a log line.
 */
function describeError(error: unknown): { message: string; code: string | undefined } {
  return { message: error instanceof Error ? error.message : String(error), code: sqlState(error) }
}

/** What a pooled client of one tenant needs: its settings and its pool's bookkeeping. */
interface ClientContext {
  tenantId: string
  info: TenantConnectionInfo
  entryOf: () => PoolEntry
}

/** The parts of pg-pool's internals used to close one idle client (see #closeOneIdle). */
interface PoolInternals {
  _idle?: Array<{ client: pg.Client }>
  _remove?: (client: pg.Client, callback: () => void) => void
  _pulseQueue?: () => void
}

/**
 * Kysely pools for tenant databases, one per tenant, kept in an LRU by tenant id with a
 * bounded count, idle expiry and one process-wide connection budget that is never exceeded
 * (every pg client takes a budget permit before it opens a socket and gives it back when
 * the socket has closed).
 *
 * `acquire()` does not pre-connect (that would cost a round trip per request). Connection
 * failures surface from the first query; `run()` turns them into TenantDatabaseUnavailable
 * and evicts the tenant's pool so the next request starts fresh with current credentials.
 *
 * A pool pushed out of the LRU while leases are out keeps serving them and ends with the
 * last one, so for a moment more than `maxTenants` pools can be open; the connection
 * budget, not the pool count, is the hard limit.
 *
 * @example
 *   const pools = new TenantPoolCache({ maxTenants: 200, connectionBudget: 80, idleMs: 30_000, log, connectionInfo })
 *   const users = await pools.run('acme', (db) => db.selectFrom('users').selectAll().execute())
 *   await pools.evict('acme')   // after rotating acme's password
 *   await pools.destroy()       // shutdown
 */
export class TenantPoolCache {
  readonly #options: Required<Omit<TenantPoolCacheOptions, 'log' | 'connectionInfo'>>
  readonly #log: Logger
  readonly #connectionInfo: TenantPoolCacheOptions['connectionInfo']
  readonly #budget: ConnectionBudget
  readonly #cache: LRUCache<string, PoolEntry>
  /** Every pool not yet closed: the cached ones and the retired ones still draining leases. */
  readonly #live = new Set<PoolEntry>()
  /** Pool creations in flight, shared by concurrent first callers (one pool per tenant). */
  readonly #creating = new Map<string, Promise<PoolEntry | undefined>>()
  /** Idle clients closed to free a permit whose permits have not come back yet. */
  #reclaiming = 0
  #reclaimScheduled = false
  #destroyed = false
  /** Closes pools unused for idleMs (a sweep instead of one LRU timer per request). */
  readonly #idleSweep: NodeJS.Timeout
  /** Per-pool client settings, keyed by the pool's options object (see #BudgetedClient). */
  readonly #clientContexts = new WeakMap<object, ClientContext>()
  readonly #BudgetedClient: new (poolOptions: object) => pg.Client

  constructor(options: TenantPoolCacheOptions) {
    this.#options = {
      maxTenants: options.maxTenants,
      connectionBudget: options.connectionBudget,
      idleMs: options.idleMs,
      acquireTimeoutMs: options.acquireTimeoutMs ?? 5000,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
    }
    this.#log = options.log
    this.#connectionInfo = options.connectionInfo
    this.#budget = new ConnectionBudget(options.connectionBudget)
    this.#cache = new LRUCache<string, PoolEntry>({
      max: options.maxTenants,
      // Whatever the reason (LRU pressure, idle expiry, evict(), clear()), a pool leaving the
      // cache stops taking leases and ends once its in-flight leases are released.
      dispose: (entry) => this.#retire(entry),
    })
    this.#BudgetedClient = this.#clientClass()
    // Idle expiry by sweeping: lru-cache's own ttl would reset a timer on every request.
    this.#idleSweep = setInterval(() => this.#expireIdle(), Math.max(50, Math.min(options.idleMs / 4, 10_000)))
    this.#idleSweep.unref()
  }

  #expireIdle(): void {
    const cutoff = Date.now() - this.#options.idleMs
    for (const [tenantId, entry] of this.#cache.entries()) {
      if (entry.leases === 0 && entry.lastUsed < cutoff) this.#cache.delete(tenantId)
    }
  }

  /**
   * A lease on the tenant's Kysely instance. Release it when the request is done; the pool
   * stays open while any lease is out, even if it is evicted meanwhile.
   */
  async acquire(tenantId: string): Promise<TenantLease> {
    return this.#leaseCached(tenantId) ?? this.#acquireSlow(tenantId)
  }

  /** A lease on an already open pool, without a promise hop (the hot path of every request). */
  #leaseCached(tenantId: string): TenantLease | undefined {
    this.#assertOpen()
    const cached = this.#cache.get(tenantId)
    return cached && !cached.retired ? this.#lease(cached) : undefined
  }

  async #acquireSlow(tenantId: string): Promise<TenantLease> {
    return (await this.#leaseCurrent(tenantId)).lease
  }

  /**
   * A lease on the tenant's pool in the cache, created (once, however many callers wait) if
   * missing. The lease is taken in the same tick the pool is found: a pool found and leased
   * a tick later could have been pushed out of the LRU and closed in between.
   */
  async #leaseCurrent(tenantId: string): Promise<{ entry: PoolEntry; lease: TenantLease }> {
    for (;;) {
      this.#assertOpen()
      const cached = this.#cache.get(tenantId)
      if (cached) return { entry: cached, lease: this.#lease(cached) }
      let creating = this.#creating.get(tenantId)
      if (!creating) {
        // Only this creation may add its pool: once evict() dropped it, a later caller's
        // creation (with settings read after the change) is the one that counts.
        const isCurrent = (): boolean => this.#creating.get(tenantId) === token
        const token: Promise<PoolEntry | undefined> = this.#create(tenantId, isCurrent).finally(() => {
          if (isCurrent()) this.#creating.delete(tenantId)
        })
        creating = token
        this.#creating.set(tenantId, creating)
      }
      const entry = await creating
      // undefined: evict() overtook the creation (credentials may be stale); an entry
      // already retired was pushed out of the LRU before this caller resumed. Either way,
      // look again rather than lease a pool that is going away.
      if (entry && !entry.retired) return { entry, lease: this.#lease(entry) }
    }
  }

  /**
   * Runs `fn` with the tenant's database and releases the lease afterwards. A failure to
   * reach the database becomes TenantDatabaseUnavailable (the pool is evicted); waiting too
   * long for a connection becomes PoolExhausted.
   */
  run<T>(tenantId: string, fn: (db: Kysely<TenantDatabase>) => Promise<T>): Promise<T> {
    let lease: TenantLease | undefined
    try {
      lease = this.#leaseCached(tenantId)
    } catch (error) {
      return Promise.reject(error)
    }
    if (lease) return this.#runLeased(tenantId, lease, fn)
    return this.#acquireSlow(tenantId).then((slow) => this.#runLeased(tenantId, slow, fn))
  }

  async #runLeased<T>(tenantId: string, lease: TenantLease, fn: (db: Kysely<TenantDatabase>) => Promise<T>): Promise<T> {
    try {
      return await fn(lease.db)
    } catch (error) {
      if (isTenantConnectionFailure(error)) {
        this.#log.warn({ tenantId, error: describeError(error) }, 'tenant database unreachable; evicting its pool')
        this.#evictPool(tenantId, lease.db)
        throw new TenantDatabaseUnavailable(tenantId, tenantId, { cause: error })
      }
      if (error instanceof Error && sqlState(error) === undefined && error.message === CHECKOUT_TIMEOUT_MESSAGE) {
        throw new PoolExhausted({ cause: error })
      }
      throw error
    } finally {
      lease.release()
    }
  }

  /**
   * Closes the tenant's pool: no new leases, a later acquire() builds a fresh pool with
   * fresh credentials. Resolves once the old pool has ended, which waits for its in-flight
   * leases, so do not await it while holding a lease of that tenant.
   */
  async evict(tenantId: string): Promise<void> {
    this.#creating.delete(tenantId)
    this.#cache.delete(tenantId)
    await Promise.all([...this.#live].filter((entry) => entry.tenantId === tenantId).map((entry) => entry.closed))
  }

  /**
   * Whether the tenant has a cached pool or one being created (does not refresh its age).
   * A creation in flight counts: it may have read credentials that a change just replaced,
   * so a change listener must evict it too.
   */
  has(tenantId: string): boolean {
    return this.#cache.has(tenantId) || this.#creating.has(tenantId)
  }

  stats(): TenantPoolStats {
    const tenants = [...this.#live].map((entry) => ({
      tenantId: entry.tenantId,
      total: entry.pool.totalCount - entry.permitWaits,
      idle: entry.pool.idleCount,
      waiting: entry.pool.waitingCount + entry.permitWaits,
      leases: entry.leases,
    }))
    return {
      pools: this.#live.size,
      connections: this.#budget.inUse,
      idle: tenants.reduce((sum, t) => sum + t.idle, 0),
      waiting: tenants.reduce((sum, t) => sum + t.waiting, 0),
      budget: this.#options.connectionBudget,
      maxTenants: this.#options.maxTenants,
      tenants,
    }
  }

  /**
   * Shutdown: ends every pool now (queries running finish first, pg-pool waits for them)
   * and resolves when all connections are closed. acquire() rejects afterwards.
   */
  async destroy(): Promise<void> {
    this.#destroyed = true
    clearInterval(this.#idleSweep)
    this.#budget.close(new Error('the tenant pool cache is shut down'))
    this.#creating.clear()
    this.#cache.clear()
    for (const entry of this.#live) this.#close(entry)
    await Promise.all([...this.#live].map((entry) => entry.closed))
  }

  #assertOpen(): void {
    if (this.#destroyed) throw new Error('the tenant pool cache is shut down; no new tenant connections')
  }

  async #create(tenantId: string, isCurrent: () => boolean): Promise<PoolEntry | undefined> {
    const info = await this.#connectionInfo(tenantId)
    this.#assertOpen()
    // evict() during the await: these credentials may be the ones just rotated out.
    if (!isCurrent()) return undefined
    const entry = this.#newEntry(tenantId, info)
    this.#live.add(entry)
    this.#cache.set(tenantId, entry)
    this.#log.debug({ tenantId, host: info.host, port: info.port, database: info.database, poolSize: info.poolSize }, 'tenant pool opened')
    return entry
  }

  #newEntry(tenantId: string, info: TenantConnectionInfo): PoolEntry {
    let markClosed!: () => void
    const closed = new Promise<void>((resolve) => (markClosed = resolve))
    const { connectTimeoutMs, acquireTimeoutMs, idleMs } = this.#options
    const pool: pg.Pool = new pg.Pool({
      max: info.poolSize,
      idleTimeoutMillis: idleMs,
      // pg-pool uses this both for a checkout waiting in a full pool and as an outer bound on
      // opening a client. Opening = waiting for a permit (acquireTimeoutMs) + the handshake
      // (connectTimeoutMs, enforced by the client itself); the margin lets those inner
      // timers fire first with their precise errors.
      connectionTimeoutMillis: acquireTimeoutMs + connectTimeoutMs + 1000,
      allowExitOnIdle: true,
      Client: this.#BudgetedClient as unknown as typeof pg.Client,
    })
    // The credentials live only in this WeakMap entry, never in pool.options (which pg-pool
    // hands to `new Client(options)`; the shared client class looks them up by it).
    this.#clientContexts.set(pool.options, { tenantId, info, entryOf: () => entry })
    const entry: PoolEntry = {
      tenantId,
      info,
      pool,
      // Kysely checks out through #checkout, which survives settings changed under the pool.
      db: new Kysely<TenantDatabase>({ dialect: new PostgresDialect({ pool: { connect: () => this.#checkout(entry), end: () => pool.end() } }) }),
      leases: 0,
      permitWaits: 0,
      open: 0,
      retired: false,
      closing: false,
      lastUsed: Date.now(),
      ended: false,
      closed,
      markClosed,
    }
    // An idle client whose server went away (restart, pg_terminate_backend) is reported
    // here; without a listener it would crash the process.
    pool.on('error', (error) => {
      this.#log.warn({ tenantId, host: info.host, port: info.port, database: info.database, error: describeError(error) }, 'idle tenant connection failed')
    })
    // A client going idle while others wait for a permit is a permit to hand over.
    pool.on('release', () => {
      if (this.#budget.waiting > 0) this.#scheduleReclaim()
    })
    return entry
  }

  /**
   * The pg.Client subclass of every tenant pool: connect() takes a budget permit first and
   * the permit comes back exactly once, when the socket has closed ('end') or the connect
   * failed. One class for all pools (not one per tenant) keeps pg's hot paths monomorphic;
   * each client finds its tenant's settings by its pool's options object.
   */
  #clientClass(): new (poolOptions: object) => pg.Client {
    const cache = this
    const contexts = this.#clientContexts
    const budget = this.#budget
    const { acquireTimeoutMs, connectTimeoutMs } = this.#options
    const log = this.#log
    return class BudgetedClient extends pg.Client {
      readonly #context: ClientContext

      constructor(poolOptions: object) {
        const context = contexts.get(poolOptions)
        if (!context) throw new Error('tenant pool client created outside TenantPoolCache')
        const { info } = context
        super({
          host: info.host,
          port: info.port,
          database: info.database,
          user: info.user,
          password: info.password,
          // Starts inside super.connect(), i.e. after the permit: waiting for the budget is
          // bounded by acquireTimeoutMs, the handshake by this.
          connectionTimeoutMillis: connectTimeoutMs,
          application_name: 'tenantd',
        })
        this.#context = context
        // Errors of a checked-out client between queries reach no pool listener.
        this.on('error', (error) => log.debug({ tenantId: context.tenantId, error: describeError(error) }, 'tenant connection error'))
      }

      override connect(): Promise<pg.Client>
      override connect(callback: (err: Error | null) => void): void
      override connect(callback?: (err: Error | null) => void): Promise<pg.Client> | void {
        const connected = this.#connectWithinBudget()
        if (!callback) return connected
        connected.then(() => callback(null), (error: Error) => callback(error))
      }

      async #connectWithinBudget(): Promise<pg.Client> {
        const entry = this.#context.entryOf()
        entry.permitWaits++
        let permit: ReleasePermit
        try {
          permit = await budget.take(acquireTimeoutMs, () => cache.#scheduleReclaim())
        } finally {
          entry.permitWaits--
        }
        entry.open++
        let released = false
        const release = (): void => {
          if (released) return
          released = true
          permit()
          entry.open--
          cache.#settle(entry)
        }
        // 'end' fires after the socket's 'close': the server has let the connection go, so
        // the permit is free for real (pg_stat_activity never shows more than the budget).
        this.once('end', release)
        try {
          return await super.connect()
        } catch (error) {
          this.connection.stream.destroy()
          release()
          throw error
        }
      }
    }
  }

  /** A connection of the entry's pool for one query (or transaction) of Kysely. */
  #checkout(entry: PoolEntry): Promise<pg.PoolClient> {
    return entry.pool.connect().catch((error: unknown) => this.#checkoutCurrent(entry, error))
  }

  /**
   * A connection of `stale`'s pool was refused while opening (see STALE_SETTINGS_REFUSALS).
   * If the tenant's settings changed since that pool was made (its credential rotated, its
   * database moved) and this replica has not yet replaced the pool (the change's
   * notification is late, so the settings are read again past the cache; or the pool is
   * retired and finishing a request), the connection
   * comes from a pool with the current settings instead. No query was sent, so nothing runs
   * twice and the request does not fail. Otherwise the refusal stands.
   */
  async #checkoutCurrent(stale: PoolEntry, error: unknown): Promise<pg.PoolClient> {
    const code = sqlState(error)
    if (code === undefined || !STALE_SETTINGS_REFUSALS.has(code) || this.#destroyed) throw error
    let current = await this.#connectionInfo(stale.tenantId).catch(() => undefined)
    // What this replica knows is what the pool has: the catalog may know better already.
    if (current && sameSettings(current, stale.info)) current = await this.#connectionInfo(stale.tenantId, { fresh: true }).catch(() => undefined)
    if (!current || sameSettings(current, stale.info)) throw error
    this.#log.info({ tenantId: stale.tenantId, code }, 'tenant connection settings changed under a pool; connecting with the current ones')
    this.#evictPool(stale.tenantId, stale.db)
    // The lease keeps the new pool open until this connection is given back.
    const { entry, lease } = await this.#leaseCurrent(stale.tenantId)
    if (sameSettings(entry.info, stale.info)) {
      lease.release()
      throw error
    }
    let client: pg.PoolClient
    try {
      client = await entry.pool.connect()
    } catch (refused) {
      lease.release()
      throw refused
    }
    // pg-pool sets release() afresh on every checkout, so wrapping this one is local to it.
    const release = client.release
    client.release = (err?: Error | boolean) => {
      release.call(client, err)
      lease.release()
    }
    return client
  }

  #lease(entry: PoolEntry): TenantLease {
    entry.leases++
    entry.lastUsed = Date.now()
    let released = false
    return {
      db: entry.db,
      release: () => {
        if (released) return
        released = true
        entry.leases--
        // The idle clock runs from the last use, not from the acquire.
        entry.lastUsed = Date.now()
        if (entry.retired && entry.leases === 0) this.#close(entry)
      },
    }
  }

  /** Evicts the pool behind `db` if it is still the tenant's current one. */
  #evictPool(tenantId: string, db: Kysely<TenantDatabase>): void {
    const entry = this.#cache.peek(tenantId)
    if (entry?.db === db) this.#cache.delete(tenantId)
  }

  #retire(entry: PoolEntry): void {
    if (entry.retired) return
    entry.retired = true
    if (entry.leases === 0) this.#close(entry)
  }

  #close(entry: PoolEntry): void {
    if (entry.closing) return
    entry.closing = true
    entry.retired = true
    entry.pool
      .end()
      .catch((error: unknown) => this.#log.warn({ tenantId: entry.tenantId, error: describeError(error) }, 'closing tenant pool failed'))
      .finally(() => {
        entry.ended = true
        this.#settle(entry)
      })
  }

  /**
   * Marks a pool closed once it has ended and its last socket has closed. pool.end()
   * resolves as soon as it has asked its clients to end, before their sockets close, so
   * waiting for it alone would let evict()/destroy() return with connections still open.
   */
  #settle(entry: PoolEntry): void {
    if (!entry.ended || entry.open > 0 || !this.#live.has(entry)) return
    this.#live.delete(entry)
    entry.markClosed()
    this.#log.debug({ tenantId: entry.tenantId }, 'tenant pool closed')
  }

  #scheduleReclaim(): void {
    if (this.#reclaimScheduled) return
    this.#reclaimScheduled = true
    // After the current tick: a released client is pushed to the idle list (or handed to
    // a waiter of its own pool) only after the 'release' event.
    process.nextTick(() => {
      this.#reclaimScheduled = false
      this.#reclaim()
    })
  }

  /**
   * Frees permits for waiters by closing idle clients, least recently used pools first
   * (retired pools before cached ones). At most one close per waiter not yet covered by a
   * close in progress, so a burst does not tear down more connections than it needs.
   */
  #reclaim(): void {
    let wanted = this.#budget.waiting - this.#reclaiming
    if (wanted <= 0) return
    const retired = [...this.#live].filter((entry) => entry.retired)
    for (const entry of [...retired, ...this.#cache.rvalues()]) {
      if (!entry) continue
      while (wanted > 0 && this.#closeOneIdle(entry.pool)) wanted--
      if (wanted <= 0) return
    }
  }

  /**
   * Closes one idle client of `pool` the way pg-pool's own idle timeout does. pg-pool has
   * no public call for this; the internals used are checked and, if missing, skipped.
   */
  #closeOneIdle(pool: pg.Pool): boolean {
    const internals = pool as unknown as PoolInternals
    const item = internals._idle?.[0]
    if (!item || typeof internals._remove !== 'function' || typeof internals._pulseQueue !== 'function') return false
    this.#reclaiming++
    item.client.once('end', () => this.#reclaiming--)
    internals._remove.call(pool, item.client, () => internals._pulseQueue?.call(pool))
    return true
  }
}
