import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'

/** One account's login identity: an operator (tenantId null) or a user of one tenant. */
export interface LoginIdentity {
  /** Lowercased email. */
  identifier: string
  tenantId: string | null
}

export type FailureReason = 'unknown_account' | 'wrong_password' | 'inactive' | 'locked'

/**
 * Account lockout from the catalog's `login_attempts`: `threshold` failed logins within
 * `windowSeconds`, counted since the account's last successful login, lock it until the
 * oldest of those failures leaves the window. Attempts refused because the account was
 * already locked are recorded (reason `locked`) but not counted, so hammering a locked
 * account does not extend its lock. Unknown emails lock the same way, so the answer never
 * tells whether an account exists.
 *
 * @example
 *   const throttle = new LoginThrottle(catalog, 5, 900)
 *   const wait = await throttle.lockedFor({ identifier: 'a@b.c', tenantId: null }) // seconds, or 0
 */
export class LoginThrottle {
  constructor(
    private readonly catalog: CatalogDb,
    private readonly threshold: number,
    private readonly windowSeconds: number
  ) {}

  /** Seconds until the account may try again; 0 when it is not locked. */
  async lockedFor(identity: LoginIdentity): Promise<number> {
    const window = sql`make_interval(secs => ${this.windowSeconds})`
    const sameAccount =
      identity.tenantId === null
        ? sql`identifier = ${identity.identifier} and tenant_id is null`
        : sql`identifier = ${identity.identifier} and tenant_id = ${identity.tenantId}`
    // The threshold-th most recent counted failure: while it is inside the window, the
    // account is locked, until it leaves the window.
    const result = await sql<{ wait: number }>`
      select ceil(extract(epoch from (attempted_at + ${window} - now())))::int as wait
        from login_attempts
       where ${sameAccount}
         and not success
         and reason is distinct from 'locked'
         and attempted_at > now() - ${window}
         and attempted_at > coalesce(
               (select max(attempted_at) from login_attempts where ${sameAccount} and success),
               '-infinity')
       order by attempted_at desc
       offset ${this.threshold - 1}
       limit 1`.execute(this.catalog)
    const row = result.rows[0]
    return row ? Math.max(1, row.wait) : 0
  }

  async recordFailure(identity: LoginIdentity, ip: string | null, reason: FailureReason): Promise<void> {
    await this.catalog
      .insertInto('login_attempts')
      .values({ identifier: identity.identifier, tenant_id: identity.tenantId, ip, success: false, reason })
      .execute()
  }

  async recordSuccess(identity: LoginIdentity, ip: string | null): Promise<void> {
    await this.catalog
      .insertInto('login_attempts')
      .values({ identifier: identity.identifier, tenant_id: identity.tenantId, ip, success: true, reason: null })
      .execute()
  }
}
