import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Logger } from '../logger.js'
import type { TenantDirectory } from '../tenancy/tenant-directory.js'
import { verifyDomain } from './domain-verifier.js'

export interface DomainRecheckDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  audit: AuditLog
  log: Logger
  /** TENANTD_DOMAIN_VERIFY_ADDRESS */
  verifyAddress?: string
  /** A verified domain is checked again when its last check is this old (TENANTD_DOMAIN_RECHECK_HOURS). */
  everyHours: number
  /** Failed checks in a row that send a verified domain back to pending (TENANTD_DOMAIN_RECHECK_FAILURES). */
  failuresAllowed: number
  verifyTimeoutMs?: number
}

export interface RecheckResult {
  checked: number
  failed: number
  /** Domains that went back to pending (no longer routed). */
  unverified: string[]
}

/** Domains checked per pass; the timer comes back for the rest. */
const BATCH = 20
const TICK_MS = 10 * 60_000

/**
 * Checks verified custom domains again, as the first verification did (tenantd fetches the
 * token through the domain). A domain sold, moved to another host or parked fails; after
 * `failuresAllowed` failures in a row (one every `everyHours`, so days, not a blip) it goes
 * back to pending, stops routing (and loses its Caddy block or ask approval), and the audit
 * log says so. A passing check clears the count. Replicas share the work: each pass claims
 * its batch by moving `last_checked_at` forward under `FOR UPDATE SKIP LOCKED`.
 *
 * @example
 *   const recheck = new DomainRecheck(deps)
 *   recheck.start()
 *   await recheck.runOnce()   // { checked: 3, failed: 1, unverified: [] }
 */
export class DomainRecheck {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> | undefined

  constructor(private readonly deps: DomainRecheckDeps) {}

  start(): void {
    if (this.deps.everyHours === 0 || this.#timer) return
    this.#timer = setInterval(() => {
      this.#running ??= this.runOnce()
        .catch((error) => this.deps.log.warn({ err: { message: (error as Error).message } }, 'domain re-check failed'))
        .finally(() => (this.#running = undefined))
    }, TICK_MS)
    this.#timer.unref()
  }

  /** Checks every verified domain whose last check is older than `everyHours`, a batch at a time. */
  async runOnce(now = new Date()): Promise<RecheckResult> {
    const result: RecheckResult = { checked: 0, failed: 0, unverified: [] }
    for (;;) {
      const batch = await this.#claim(now)
      if (batch.length === 0) return result
      for (const row of batch) {
        const outcome = await verifyDomain(row.domain, row.verification_token, { connectTo: this.deps.verifyAddress, timeoutMs: this.deps.verifyTimeoutMs })
        result.checked++
        if (outcome.ok) {
          await this.deps.catalog.updateTable('tenant_domains').set({ failed_checks: 0, last_error: null }).where('id', '=', row.id).execute()
          continue
        }
        result.failed++
        const failures = row.failed_checks + 1
        const unverify = failures >= this.deps.failuresAllowed
        await this.deps.catalog
          .updateTable('tenant_domains')
          .set({ failed_checks: failures, last_error: outcome.seen, updated_at: new Date(), ...(unverify ? { status: 'pending' } : {}) })
          .where('id', '=', row.id)
          .where('status', '=', 'verified')
          .execute()
        if (!unverify) {
          this.deps.log.warn({ domain: row.domain, failures, seen: outcome.seen }, 'a verified domain failed its re-check')
          continue
        }
        result.unverified.push(row.domain)
        await this.deps.tenants.refresh(row.tenant_id)
        this.deps.log.warn({ domain: row.domain, failures }, 'a verified domain no longer points at this edge; it is pending again')
        await this.deps.audit
          .record({
            actorType: 'system',
            tenantId: row.tenant_id,
            action: 'domain.unverified',
            target: row.domain,
            details: { failures, lastError: outcome.seen },
          })
          .catch(() => {})
      }
    }
  }

  async #claim(now: Date) {
    const due = new Date(now.getTime() - this.deps.everyHours * 3_600_000)
    return this.deps.catalog.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('tenant_domains')
        .select(['id', 'tenant_id', 'domain', 'verification_token', 'failed_checks'])
        .where('status', '=', 'verified')
        .where((eb) => eb.or([eb('last_checked_at', 'is', null), eb('last_checked_at', '<=', due)]))
        .orderBy('last_checked_at')
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute()
      if (rows.length) await trx.updateTable('tenant_domains').set({ last_checked_at: now }).where('id', 'in', rows.map((r) => r.id)).execute()
      return rows
    })
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#running
  }
}
