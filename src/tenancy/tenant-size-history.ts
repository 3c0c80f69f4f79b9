import { sql, type Kysely } from 'kysely'
import type { CatalogDatabase } from '../catalog/catalog-schema.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import type { Logger } from '../logger.js'

export interface SizeSample {
  at: string
  bytes: number
}

export interface SizeHistoryDeps {
  catalog: Kysely<CatalogDatabase>
  hosts: HostRegistry
  log: Logger
  /** How often a replica samples the fleet; 0: never (the API still answers with what was sampled). */
  sampleMinutes: number
}

/** Samples older than this are deleted by the next sampling round. */
export const SIZE_HISTORY_DAYS = 90

/** The newest sampled size of a tenant (`t` is the tenants table), for listings. */
export const latestSizeBytes = sql<string | null>`(select s.bytes from tenant_size_samples s where s.tenant_id = t.id order by s.sampled_at desc limit 1)`

/**
 * Database size over time for every tenant: each interval one replica (a transaction-scoped
 * advisory lock; the others skip) asks each db host for the size of its tenants' databases in
 * one query, and records a sample for every tenant not sampled within the interval. The panel
 * draws them as a chart; the tenant list shows the newest.
 *
 * @example
 *   const sizes = new TenantSizeHistory({ catalog, hosts, log, sampleMinutes: 60 })
 *   sizes.start()
 *   await sizes.history(tenant.id, 30) // [{ at: '2026-12-01T00:00:00.000Z', bytes: 8028323 }, ...]
 */
export class TenantSizeHistory {
  #timer: NodeJS.Timeout | undefined
  #first: NodeJS.Timeout | undefined
  #sampling: Promise<unknown> | undefined
  #closed = false

  constructor(private readonly deps: SizeHistoryDeps) {}

  /** Samples a few seconds after start (a fresh fleet shows sizes at once), then each tenant every interval. */
  start(): void {
    if (this.deps.sampleMinutes <= 0 || this.#timer) return
    const tick = () => {
      if (this.#sampling || this.#closed) return
      this.#sampling = this.sampleDue()
        .catch((error: Error) => this.deps.log.warn({ err: { message: error.message } }, 'database size sampling failed; retrying at the next interval'))
        .finally(() => (this.#sampling = undefined))
    }
    this.#first = setTimeout(tick, 5_000).unref()
    // Checked at least every 5 minutes: a round samples only tenants due (none within the
    // interval), so a new tenant gets its first sample soon and the others keep the interval.
    this.#timer = setInterval(tick, Math.min(this.deps.sampleMinutes, 5) * 60_000).unref()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#first)
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#sampling
  }

  /**
   * One sampling round: every live tenant whose newest sample is older than the interval (all of
   * them when `all`). Returns how many were sampled; 0 when another replica is sampling.
   * A host that does not answer is skipped and logged; its tenants are sampled next round.
   */
  async sampleDue(options: { all?: boolean } = {}): Promise<number> {
    const { catalog, hosts, log } = this.deps
    const interval = `${Math.max(1, this.deps.sampleMinutes) * 60 - 30} seconds`
    return catalog.transaction().execute(async (trx) => {
      const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('tenantd.size-samples')) as ok`.execute(trx)
      if (!locked.rows[0]?.ok) return 0
      let due = trx
        .selectFrom('tenants as t')
        .select(['t.id', 't.host_id', 't.database_name'])
        .where('t.purged_at', 'is', null)
        .where('t.status', 'in', ['active', 'suspended', 'canceled'])
      if (!options.all) {
        due = due.where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('tenant_size_samples as s').select(sql`1`.as('one')).whereRef('s.tenant_id', '=', 't.id').where('s.sampled_at', '>', sql<Date>`now() - ${interval}::interval`)))
        )
      }
      const tenants = await due.execute()
      const byHost = new Map<string, typeof tenants>()
      for (const tenant of tenants) byHost.set(tenant.host_id, [...(byHost.get(tenant.host_id) ?? []), tenant])
      const samples: Array<{ tenant_id: string; bytes: string }> = []
      for (const [hostId, onHost] of byHost) {
        try {
          const sizes = await hosts.withAdminClient(hostId, (client) =>
            client.query<{ datname: string; bytes: string }>('select datname, pg_database_size(datname)::text as bytes from pg_database where datname = any($1)', [onHost.map((t) => t.database_name)])
          )
          const bytesOf = new Map(sizes.rows.map((r) => [r.datname, r.bytes]))
          for (const tenant of onHost) {
            const bytes = bytesOf.get(tenant.database_name)
            if (bytes !== undefined) samples.push({ tenant_id: tenant.id, bytes })
          }
        } catch (error) {
          log.warn({ hostId, err: { message: (error as Error).message } }, 'database sizes of a db host could not be read; its tenants are sampled next round')
        }
      }
      if (samples.length) await trx.insertInto('tenant_size_samples').values(samples).onConflict((oc) => oc.doNothing()).execute()
      await trx.deleteFrom('tenant_size_samples').where('sampled_at', '<', sql<Date>`now() - ${`${SIZE_HISTORY_DAYS} days`}::interval`).execute()
      return samples.length
    })
  }

  /** A tenant's size over the last `days`: one point per hour up to a week, per day beyond (the largest size in each). */
  async history(tenantId: string, days: number): Promise<{ resolution: 'hour' | 'day'; items: SizeSample[] }> {
    const resolution = days <= 7 ? 'hour' : 'day'
    const rows = await this.deps.catalog
      .selectFrom('tenant_size_samples')
      .select([sql<Date>`date_trunc(${resolution}, sampled_at)`.as('at'), sql<string>`max(bytes)`.as('bytes')])
      .where('tenant_id', '=', tenantId)
      .where('sampled_at', '>', sql<Date>`now() - make_interval(days => ${days})`)
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute()
    return { resolution, items: rows.map((r) => ({ at: new Date(r.at).toISOString(), bytes: Number(r.bytes) })) }
  }
}
