import type { Selectable } from 'kysely'
import { Conflict, SqlState, sqlState, ValidationError } from '../errors.js'
import type { TenantPoolCache } from '../tenancy/tenant-pool-cache.js'
import type { TenantUserTable } from '../tenancy/tenant-schema.js'
import { hashPassword, passwordProblem } from './password-hasher.js'

export type TenantUserRow = Selectable<TenantUserTable>

/** A tenant user as the API shows it: never the password hash. */
export interface TenantUser {
  id: string
  email: string
  name: string
  role: 'admin' | 'member'
  permissions: string[]
  active: boolean
  createdAt: string
  updatedAt: string
}

export interface NewTenantUser {
  email: string
  name?: string
  password: string
  role?: 'admin' | 'member'
  permissions?: string[]
}

const EMAIL = /^[^@\s]+@[^@\s]+$/
const PERMISSION = /^[a-z0-9][a-z0-9_.:-]{0,62}$/

/**
 * The `users` table of each tenant's own database, reached through the tenant pool cache
 * (an unreachable database is 503 TenantDatabaseUnavailable).
 *
 * @example
 *   const users = new TenantUsers(pools)
 *   await users.create(tenantId, { email: 'ann@acme.test', password: 'long enough', role: 'member' })
 */
export class TenantUsers {
  constructor(private readonly pools: TenantPoolCache) {}

  /** The user with this (lowercased) email, hash included: for login only. */
  findByEmail(tenantId: string, email: string): Promise<TenantUserRow | undefined> {
    return this.pools.run(tenantId, (db) =>
      db.selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email)).executeTakeFirst()
    )
  }

  findById(tenantId: string, id: string): Promise<TenantUserRow | undefined> {
    return this.pools.run(tenantId, (db) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst())
  }

  async list(tenantId: string): Promise<TenantUser[]> {
    const rows = await this.pools.run(tenantId, (db) =>
      db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute()
    )
    return rows.map(toApi)
  }

  async create(tenantId: string, input: NewTenantUser): Promise<TenantUser> {
    const email = input.email.trim().toLowerCase()
    if (!EMAIL.test(email)) throw new ValidationError('email must be an email address')
    const problem = passwordProblem(input.password)
    if (problem) throw new ValidationError(`password ${problem}`)
    const permissions = [...new Set(input.permissions ?? [])]
    const bad = permissions.find((p) => !PERMISSION.test(p))
    if (bad !== undefined) throw new ValidationError(`permission "${bad}" must be lowercase letters, digits and _ . : -`)
    const passwordHash = await hashPassword(input.password)
    try {
      const row = await this.pools.run(tenantId, (db) =>
        db
          .insertInto('users')
          .values({ email, name: input.name?.trim() ?? '', password_hash: passwordHash, role: input.role ?? 'member', permissions })
          .returningAll()
          .executeTakeFirstOrThrow()
      )
      return toApi(row)
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        throw new Conflict(`A user with email ${email} already exists in this tenant.`, { cause: error })
      }
      throw error
    }
  }
}

function toApi(row: TenantUserRow): TenantUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    permissions: row.permissions,
    active: row.active,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  }
}
