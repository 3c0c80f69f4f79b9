import { readFile } from 'node:fs/promises'
import { sql } from 'kysely'
import pg from 'pg'
import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Logger } from '../logger.js'
import { CaddyClient, CaddyError, type CaddyApplyMode } from './caddy-client.js'
import { parseTemplate, renderTemplate, TemplateError } from './caddyfile-template.js'
import { readCaddyfile, stageCaddyfile, type StagedCaddyfile } from './caddyfile-writer.js'
import { readEdgeSnapshot, type EdgeSnapshot } from './edge-addresses.js'
import type { EdgeConfig } from './edge-config.js'

/** Everything `GET /api/admin/edge` shows. */
export interface EdgeStatus {
  apply: CaddyApplyMode
  mode: 'blocks' | 'on-demand'
  file: string
  template: string
  caddy: { found: boolean; version: string | null; admin: string; reloads: 'on' | 'off' }
  generation: { current: number; rendered: number; applied: number }
  upToDate: boolean
  reloads: number
  addresses: number | null
  lastRenderAt: string | null
  lastReloadAt: string | null
  lastError: string | null
  lastErrorAt: string | null
}

export interface SyncResult {
  generation: number
  /** The file was written with a new render. */
  written: boolean
  /** Caddy runs this generation now (false when reloads are off or failed). */
  applied: boolean
}

/** A render Caddy or the template refused: the good file was kept. */
export class EdgeRenderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EdgeRenderError'
  }
}

const LOCK_KEY = sql`hashtext('tenantd.edge')`
/** Routing changes arrive in bursts (a script suspending 100 tenants): one sync once none came for this long... */
const QUIET_MS = 100
/** ...but a steady stream is still applied this often, so a change waits at most this plus one sync (≤ 2 s live at 1,000 tenants). */
const MAX_GATHER_MS = 1_000
/** A failed reload is retried after 1 s, 2 s, 4 s ... at most this. */
const MAX_BACKOFF_MS = 30_000
/** Safety net for a missed notification (while the listener reconnects) or a Caddyfile removed by hand. */
const RECHECK_MS = 30_000

/**
 * Keeps Caddy's config equal to the catalog's routing. Every routing change bumps
 * `edge_generation` in its own transaction and NOTIFYs `tenantd_edge_changed`; every replica
 * listens, and a sync runs under one advisory lock across replicas: it reads the generation
 * and the addresses in one snapshot, renders Caddyfile.tmpl into a temporary file, hands it to
 * Caddy (`caddy reload` or the admin API) only when the generation is newer than the one
 * applied, and renames it over the Caddyfile once Caddy took it (or, when Caddy cannot take
 * it, once `caddy validate` accepted it). Bursts coalesce: notifications during a sync cause one more
 * sync, not one each, and a long burst is applied about once a second. A failed apply is
 * retried with backoff until Caddy takes it.
 *
 * @example
 *   const edge = new EdgeSync({ catalog, catalogUrl, audit, log, config })
 *   await edge.start()
 *   await edge.syncNow()        // the provisioning step writeCaddyfile
 *   await edge.status()
 */
export class EdgeSync {
  readonly caddy: CaddyClient
  #listener: pg.Client | undefined
  #timer: NodeJS.Timeout | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #backoffMs = 1_000
  #running: Promise<unknown> | undefined
  #dirty = false
  /** When the oldest request not yet covered by a sync came, and the newest. */
  #pendingSince: number | undefined
  #lastRequestAt = 0
  #wake: (() => void) | undefined
  #closed = false
  #lastAudited: string | undefined
  #lastAddresses: number | null = null

  constructor(
    private readonly deps: { catalog: CatalogDb; catalogUrl: string; audit: AuditLog; log: Logger; config: EdgeConfig }
  ) {
    this.caddy = new CaddyClient({ bin: deps.config.caddyBin, admin: deps.config.caddyAdmin })
  }

  get config(): EdgeConfig {
    return this.deps.config
  }

  /**
   * Listens for routing changes, syncs once before returning (so the Caddyfile exists by the
   * time tenantd serves, and `caddy run --config` on it works right away), and re-checks
   * periodically. A refused render does not stop the start: the status and log say why.
   */
  async start(): Promise<void> {
    await this.#listen()
    this.#timer = setInterval(() => this.requestSync(), RECHECK_MS)
    this.#timer.unref()
    await this.syncNow().catch((error) => this.deps.log.warn({ err: { message: (error as Error).message } }, 'first Caddyfile render refused; fix the template'))
  }

  async #listen(): Promise<void> {
    if (this.#closed) return
    const client = new pg.Client({ connectionString: this.deps.catalogUrl })
    client.on('notification', () => this.requestSync())
    client.on('error', (error) => {
      this.deps.log.warn({ err: { message: error.message } }, 'edge change listener lost its connection; reconnecting')
      this.#listener = undefined
      client.end().catch(() => {})
      if (!this.#closed) setTimeout(() => this.#listen().then(() => this.requestSync(), () => {}), 1_000).unref()
    })
    await client.connect()
    await client.query('listen tenantd_edge_changed')
    this.#listener = client
  }

  /**
   * Asks for a sync soon. Requests are gathered until none came for QUIET_MS (at most
   * MAX_GATHER_MS after the first), so a burst costs a reload per second at most, however fast
   * the sync itself; requests while a sync runs cause one more run, not one each.
   */
  requestSync(): void {
    if (this.#closed) return
    const now = Date.now()
    this.#lastRequestAt = now
    this.#pendingSince ??= now
    if (this.#running) {
      this.#dirty = true
      return
    }
    this.#run()
  }

  #run(): void {
    this.#running = this.#gather()
      .then(() => (this.#closed ? undefined : this.syncNow()))
      .catch((error) => this.deps.log.debug({ err: { message: (error as Error).message } }, 'background edge sync did not complete'))
      .finally(() => {
        this.#running = undefined
        // Requests that came during the sync: their own times decide the wait, so one that is
        // already quiet for QUIET_MS syncs right away.
        if (this.#dirty && !this.#closed) this.#run()
      })
  }

  async #gather(): Promise<void> {
    for (;;) {
      const due = Math.min(this.#lastRequestAt + QUIET_MS, (this.#pendingSince ?? Date.now()) + MAX_GATHER_MS)
      const wait = due - Date.now()
      if (wait <= 0 || this.#closed) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    this.#wake = undefined
    // The sync that follows reads the catalog after this point: it covers every request so far.
    this.#pendingSince = undefined
    this.#dirty = false
  }

  /**
   * Syncs now (waiting for another replica's sync to end first). Throws EdgeRenderError when
   * the template or Caddy refuses the render; a failed apply does not throw (the file is
   * right, Caddy will get it on retry) but shows in the result and the status.
   */
  async syncNow(options: { forceApply?: boolean } = {}): Promise<SyncResult> {
    return this.deps.catalog.connection().execute(async (db) => {
      await sql`select pg_advisory_lock(${LOCK_KEY})`.execute(db)
      try {
        return await this.#syncLocked(db, options.forceApply ?? false)
      } finally {
        await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(db)
      }
    })
  }

  /** One sync on the connection that holds the edge lock (one pooled connection per sync, however busy the pool). */
  async #syncLocked(db: CatalogDb, forceApply: boolean): Promise<SyncResult> {
    const { config, log } = this.deps
    // The catalog, the template and the file on disk are read at once (each is a wait of its own).
    const [snapshot, template, current] = await Promise.all([
      readEdgeSnapshot(db, config.baseDomain),
      this.#readTemplate().then((source) => ({ source }), (error: unknown) => ({ error })),
      readCaddyfile(config.file),
    ])
    const { generation } = snapshot
    this.#lastAddresses = snapshot.addresses.length
    const caddyFound = (await this.caddy.version()) !== undefined
    const apply = config.apply === 'off' || !caddyFound ? undefined : config.apply
    const reloadsOn = apply !== undefined

    let staged: StagedCaddyfile
    try {
      if ('error' in template) throw template.error
      staged = await stageCaddyfile(config.file, this.#renderWith(template.source, snapshot), current)
    } catch (error) {
      throw await this.#refuseRender(error, generation)
    }
    const behind = generation > snapshot.appliedGeneration || staged.changed || snapshot.failing
    let applied = false
    let applyError: unknown
    if (apply && (behind || forceApply)) {
      // Caddy gets the staged render before it replaces the good file: its load adapts and
      // provisions the config and keeps the running one if that fails, which is the check
      // `caddy validate` would make, so a render Caddy takes needs no second, equally costly check.
      // The temporary file's fsync runs while Caddy loads it (from the page cache).
      staged.flush().catch(() => {})
      try {
        await this.caddy.apply(apply, staged.path)
        applied = true
      } catch (error) {
        applyError = error
      }
    }
    try {
      // Not taken by Caddy (reloads off, Caddy down, or Caddy refusing it): the file on disk
      // must still be a render Caddy accepts before it replaces the good one.
      if (staged.changed && !applied && caddyFound) await this.caddy.validate(staged.path)
      await staged.commit()
    } catch (error) {
      await staged.discard()
      throw await this.#refuseRender(error, generation)
    }

    const now = new Date()
    await db
      .updateTable('edge_state')
      .set((eb) => ({
        rendered_generation: generation,
        file_sha256: staged.sha256,
        updated_at: now,
        ...(staged.changed ? { last_render_at: now } : {}),
        ...(applied ? { applied_generation: generation, reloads: eb('reloads', '+', 1), last_reload_at: now } : {}),
        // Rendered, and applied if reloads are on: whatever failed before is over.
        ...(applyError === undefined ? { last_error: null, last_error_at: null } : {}),
      }))
      .execute()
    if (staged.changed) log.info({ generation, addresses: snapshot.addresses.length, file: config.file }, 'Caddyfile rendered')
    if (applyError !== undefined) {
      await this.#recordError(`${(applyError as Error).message}; tenantd retries on its own`, 'edge.reload_failed', generation)
      this.#scheduleRetry()
      return { generation, written: staged.changed, applied: false }
    }
    this.#recovered(generation, applied)
    if (applied) log.info({ generation, mode: config.apply }, 'Caddy reloaded')
    // Reloads on and nothing to apply: Caddy already runs this generation.
    return { generation, written: staged.changed, applied: applied || (reloadsOn && !behind) }
  }

  /** Records a render that the template or Caddy refused (the good file keeps serving) and returns the error to throw. */
  async #refuseRender(error: unknown, generation: number): Promise<EdgeRenderError> {
    const { config } = this.deps
    const message = error instanceof TemplateError || error instanceof CaddyError ? error.message : `the Caddyfile could not be written: ${(error as Error).message}`
    await this.#recordError(`${message}; the previous Caddyfile keeps serving. Fix ${error instanceof TemplateError ? config.template : 'the template'} and run \`tenantctl edge render\``, 'edge.render_failed', generation)
    return new EdgeRenderError(message, { cause: error })
  }

  /** The Caddyfile for a routing snapshot (reads the template each time: an edit applies at the next change). */
  async render(snapshot: EdgeSnapshot): Promise<string> {
    return this.#renderWith(await this.#readTemplate(), snapshot)
  }

  async #readTemplate(): Promise<string> {
    const { config } = this.deps
    try {
      return await readFile(config.template, 'utf8')
    } catch (error) {
      throw new TemplateError(0, `cannot read ${config.template} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }

  #renderWith(source: string, snapshot: EdgeSnapshot): string {
    const { config } = this.deps
    const port = config.httpPort === undefined ? '' : `:${config.httpPort}`
    return renderTemplate(parseTemplate(source), {
      generation: snapshot.generation,
      admin: config.caddyAdmin,
      upstream: config.upstreams[0]!,
      upstreams: config.upstreams.join(' '),
      base_domain: config.baseDomain,
      control_host: config.controlHost,
      tls: config.tls,
      scheme: config.tls ? '' : 'http://',
      site_port: port,
      catchall: `http://${port}`,
      ask_url: `http://${config.upstreams[0]}/api/caddy/ask`,
      blocks: config.mode === 'blocks',
      on_demand: config.mode === 'on-demand',
      served: snapshot.addresses.filter((a) => a.route === 'served').map((a) => ({ address: a.address, tenant: a.tenantSlug })),
      maintenance: snapshot.addresses.filter((a) => a.route === 'maintenance').map((a) => ({ address: a.address, tenant: a.tenantSlug })),
    })
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer) return
    const delay = this.#backoffMs
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.requestSync()
    }, delay)
    this.#retryTimer.unref()
  }

  async #recordError(message: string, action: string, generation: number): Promise<void> {
    await this.deps.catalog.updateTable('edge_state').set({ last_error: message, last_error_at: new Date(), updated_at: new Date() }).execute()
    // Once per distinct failure, not once per retry.
    if (this.#lastAudited === message) {
      this.deps.log.debug({ generation }, 'edge still failing')
      return
    }
    this.#lastAudited = message
    this.deps.log.warn({ generation, error: message }, action === 'edge.render_failed' ? 'Caddyfile render refused' : 'Caddy reload failed')
    await this.deps.audit.record({ actorType: 'system', action, details: { generation, error: message } }).catch(() => {})
  }

  #recovered(generation: number, applied: boolean): void {
    this.#backoffMs = 1_000
    if (this.#lastAudited !== undefined) {
      this.deps.log.info({ generation, applied }, 'edge recovered')
      this.#lastAudited = undefined
    }
  }

  async status(): Promise<EdgeStatus> {
    const { catalog, config } = this.deps
    const [state, gen, version] = await Promise.all([
      catalog.selectFrom('edge_state').selectAll().executeTakeFirstOrThrow(),
      catalog.selectFrom('edge_generation').select('generation').executeTakeFirstOrThrow(),
      this.caddy.version(),
    ])
    const reloadsOn = config.apply !== 'off' && version !== undefined
    const current = Number(gen.generation)
    const applied = Number(state.applied_generation)
    const rendered = Number(state.rendered_generation)
    return {
      apply: config.apply,
      mode: config.mode,
      file: config.file,
      template: config.template,
      caddy: { found: version !== undefined, version: version ?? null, admin: config.caddyAdmin, reloads: reloadsOn ? 'on' : 'off' },
      generation: { current, rendered, applied },
      upToDate: state.last_error === null && (reloadsOn ? applied >= current : rendered >= current),
      reloads: Number(state.reloads),
      addresses: this.#lastAddresses,
      lastRenderAt: iso(state.last_render_at),
      lastReloadAt: iso(state.last_reload_at),
      lastError: state.last_error,
      lastErrorAt: iso(state.last_error_at),
    }
  }

  /** Stops listening and retrying; a sync in flight finishes first. */
  async close(): Promise<void> {
    this.#closed = true
    this.#wake?.()
    if (this.#timer) clearInterval(this.#timer)
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
    await this.#running?.catch(() => {})
    await this.#listener?.end().catch(() => {})
  }
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString()
}
