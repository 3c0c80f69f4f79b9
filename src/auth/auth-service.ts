import type { AuditLog } from '../audit/audit-log.js'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { Config } from '../config.js'
import { AccountLocked, InvalidCredentials, InvalidRefreshToken, RefreshTokenReused } from '../errors.js'
import type { Logger } from '../logger.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import type { TenantPoolCache } from '../tenancy/tenant-pool-cache.js'
import { assertServing } from '../tenancy/tenant-resolver.js'
import { LoginThrottle, type FailureReason, type LoginIdentity } from './login-throttle.js'
import { dummyPasswordHash, verifyPassword } from './password-hasher.js'
import type { Principal } from './principal.js'
import { RefreshTokens, type RefreshTokenRow } from './refresh-tokens.js'
import { TenantUsers, type NewTenantUser, type TenantUser } from './tenant-users.js'

export type { NewTenantUser, TenantUser } from './tenant-users.js'

export interface AuthServiceDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  pools: TenantPoolCache
  audit: AuditLog
  config: Config
  log: Logger
}

/** The signed-in subject as login and refresh answers show it. */
export interface SessionUser {
  id: string
  email: string
  name: string
  role: string
  tenantId: string | null
}

export interface LoginResult {
  principal: Principal
  user: SessionUser
}

export interface RotateResult {
  principal: Principal
  user: SessionUser
  refreshToken: string
}

/** Who performs an action, for the audit trail. */
export interface Actor {
  principal: Principal | null
  ip?: string | null
}

/** A subject that may hold tokens, freshly read from where it lives. */
interface Subject {
  principal: Principal
  user: SessionUser
}

/**
 * Authentication of operators (catalog) and tenant users (each tenant's own database),
 * account lockout, refresh-token rotation and tenant user management. Domain only:
 * access tokens are signed by the HTTP layer (@fastify/jwt) from the returned principal.
 *
 * @example
 *   const { principal } = await auth.loginOperator('admin@example.com', password, ip)
 *   const refreshToken = await auth.issueRefreshToken(principal)
 *   const next = await auth.rotateRefreshToken(refreshToken, ip) // old one is now spent
 */
export class AuthService {
  readonly #deps: AuthServiceDeps
  readonly #throttle: LoginThrottle
  readonly #refreshTokens: RefreshTokens
  readonly #users: TenantUsers

  constructor(deps: AuthServiceDeps) {
    this.#deps = deps
    this.#throttle = new LoginThrottle(deps.catalog, deps.config.lockoutThreshold, deps.config.lockoutWindow)
    this.#refreshTokens = new RefreshTokens(deps.catalog, deps.config.refreshTokenTtl)
    this.#users = new TenantUsers(deps.pools)
  }

  /** Authenticates an operator (super_admin or tenant_admin) against the catalog. */
  async loginOperator(email: string, password: string, ip: string | null): Promise<LoginResult> {
    const identity: LoginIdentity = { identifier: normalizeEmail(email), tenantId: null }
    return this.#login(identity, password, ip, async () => {
      const row = await this.#deps.catalog
        .selectFrom('operators')
        .selectAll()
        .where((eb) => eb(eb.fn('lower', ['email']), '=', identity.identifier))
        .executeTakeFirst()
      if (!row) return undefined
      return {
        passwordHash: row.password_hash,
        active: true,
        subject: operatorSubject(row),
        onSuccess: async () => {
          await this.#deps.catalog.updateTable('operators').set({ last_login_at: new Date() }).where('id', '=', row.id).execute()
        },
      }
    })
  }

  /** Authenticates a user of `tenant` against the tenant's own database. */
  async loginTenantUser(tenant: TenantRecord, email: string, password: string, ip: string | null): Promise<LoginResult> {
    const identity: LoginIdentity = { identifier: normalizeEmail(email), tenantId: tenant.id }
    return this.#login(identity, password, ip, async () => {
      const row = await this.#users.findByEmail(tenant.id, identity.identifier)
      if (!row) return undefined
      return { passwordHash: row.password_hash, active: row.active, subject: tenantUserSubject(tenant.id, row) }
    })
  }

  /**
   * The shared login flow: lock check first (before any password work, also for unknown
   * accounts), then one argon2 verification whether or not the account exists, so neither
   * the answer nor its timing tells which emails exist.
   */
  async #login(
    identity: LoginIdentity,
    password: string,
    ip: string | null,
    find: () => Promise<{ passwordHash: string; active: boolean; subject: Subject; onSuccess?: () => Promise<void> } | undefined>
  ): Promise<LoginResult> {
    const { audit } = this.#deps
    const base = { actorEmail: identity.identifier, tenantId: identity.tenantId, ip }
    const wait = await this.#throttle.lockedFor(identity)
    if (wait > 0) {
      await this.#throttle.recordFailure(identity, ip, 'locked')
      await audit.record({ ...base, actorType: 'anonymous', action: 'login.locked', details: { retryInSeconds: wait } })
      throw new AccountLocked(String(wait))
    }
    const account = await find()
    const ok = await verifyPassword(account?.passwordHash ?? (await dummyPasswordHash()), password)
    const failure: FailureReason | undefined = !account ? 'unknown_account' : !ok ? 'wrong_password' : !account.active ? 'inactive' : undefined
    if (failure || !account) {
      await this.#throttle.recordFailure(identity, ip, failure ?? 'unknown_account')
      await audit.record({ ...base, actorType: 'anonymous', action: 'login.failed', details: { reason: failure } })
      throw new InvalidCredentials()
    }
    await this.#throttle.recordSuccess(identity, ip)
    await account.onSuccess?.()
    const { principal, user } = account.subject
    await audit.record({ ...base, actorType: principal.kind, actorId: principal.id, actorEmail: principal.email, action: 'login.success' })
    return { principal, user }
  }

  /** Issues a refresh token for the principal: a new family (login) unless one is given. */
  issueRefreshToken(principal: Principal, familyId?: string): Promise<string> {
    return this.#refreshTokens.issue({ type: principal.kind, id: principal.id, tenantId: principal.tenantId }, familyId)
  }

  /**
   * Spends a refresh token and returns its successor with the subject reloaded, so a
   * deleted or deactivated subject cannot refresh, nor a user of a suspended tenant.
   * A spent token revokes its whole family: 401 RefreshTokenReused, audited.
   */
  async rotateRefreshToken(token: string, ip: string | null): Promise<RotateResult> {
    const outcome = await this.#refreshTokens.rotate(token, (row) => this.#reloadSubject(row))
    switch (outcome.kind) {
      case 'rotated':
        return { principal: outcome.subject.principal, user: outcome.subject.user, refreshToken: outcome.refreshToken }
      case 'reused':
        await this.#deps.audit.record({
          actorType: outcome.row.subject_type,
          actorId: outcome.row.subject_id,
          tenantId: outcome.row.tenant_id,
          action: 'refresh_token_reused',
          target: outcome.row.family_id,
          ip,
          details: { familyId: outcome.row.family_id, familyRevoked: true },
        })
        throw new RefreshTokenReused()
      case 'subject_gone':
        throw new InvalidRefreshToken()
      case 'invalid':
        throw new InvalidRefreshToken()
    }
  }

  /** Revokes the session (token family) of a refresh token. Unknown tokens are ignored. */
  async revokeRefreshToken(token: string): Promise<void> {
    await this.#refreshTokens.revoke(token)
  }

  /** The principal's account as it is now (name included); null when it no longer exists or is deactivated. */
  async currentUser(principal: Principal): Promise<SessionUser | null> {
    const subject = await this.#loadSubject(principal.kind, principal.id, principal.tenantId)
    return subject?.user ?? null
  }

  /** A tenant's users, without password hashes. */
  listUsers(tenantId: string): Promise<TenantUser[]> {
    return this.#users.list(tenantId)
  }

  /** Adds a user to a tenant's database (409 Conflict on a duplicate email); audited as `user.create`. */
  async createUser(tenantId: string, input: NewTenantUser, actor?: Actor): Promise<TenantUser> {
    const user = await this.#users.create(tenantId, input)
    await this.#deps.audit.record({
      actorType: actor?.principal?.kind ?? 'system',
      actorId: actor?.principal?.id ?? null,
      actorEmail: actor?.principal?.email ?? null,
      tenantId,
      action: 'user.create',
      target: user.email,
      ip: actor?.ip ?? null,
      details: { userId: user.id, role: user.role, permissions: user.permissions },
    })
    return user
  }

  async #reloadSubject(row: RefreshTokenRow): Promise<Subject | null> {
    if (row.subject_type === 'tenant_user') {
      // A suspended or canceled tenant's users cannot refresh (throws; the token stays unspent).
      const tenant = row.tenant_id ? await this.#deps.tenants.find(row.tenant_id) : null
      if (!tenant) return null
      assertServing(tenant)
    }
    return this.#loadSubject(row.subject_type, row.subject_id, row.tenant_id)
  }

  async #loadSubject(type: Principal['kind'], id: string, tenantId: string | null): Promise<Subject | null> {
    if (type === 'operator') {
      const row = await this.#deps.catalog.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst()
      return row ? operatorSubject(row) : null
    }
    if (!tenantId) return null
    const row = await this.#users.findById(tenantId, id)
    return row && row.active ? tenantUserSubject(tenantId, row) : null
  }
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

function operatorSubject(row: { id: string; email: string; name: string; role: 'super_admin' | 'tenant_admin'; tenant_id: string | null }): Subject {
  const principal: Principal = { kind: 'operator', id: row.id, email: row.email, role: row.role, tenantId: row.tenant_id }
  return { principal, user: { id: row.id, email: row.email, name: row.name, role: row.role, tenantId: row.tenant_id } }
}

function tenantUserSubject(tenantId: string, row: { id: string; email: string; name: string; role: 'admin' | 'member'; permissions: string[] }): Subject {
  const principal: Principal = { kind: 'tenant_user', id: row.id, email: row.email, role: row.role, tenantId, permissions: row.permissions }
  return { principal, user: { id: row.id, email: row.email, name: row.name, role: row.role, tenantId } }
}
