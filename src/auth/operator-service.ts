import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperatorRow } from '../catalog/catalog-schema.js'
import { Conflict, NotFound, SqlState, ValidationError, sqlState } from '../errors.js'
import type { TenantDirectory } from '../tenancy/tenant-directory.js'
import { isUuid } from '../uuid.js'
import { hashPassword, passwordProblem } from './password-hasher.js'

export interface Operator {
  id: string
  email: string
  name: string
  role: 'super_admin' | 'tenant_admin'
  tenantId: string | null
  tenantSlug: string | null
  createdAt: string
  lastLoginAt: string | null
}

export interface NewOperator {
  email: string
  name?: string
  password: string
  role: 'super_admin' | 'tenant_admin'
  /** Required for tenant_admin: id or slug of the tenant it administers. */
  tenant?: string
}

/**
 * Operators of the control plane: super-admins, and tenant admins bound to one tenant. Also
 * the incident procedure of runbook 004 ("Suspected account compromise"): revoke every
 * session of an account at once.
 *
 * @example
 *   await operators.create({ email: 'ops@acme.test', password, role: 'tenant_admin', tenant: 'acme' })
 *   await operators.revokeSessions(operatorId)
 */
export class OperatorService {
  constructor(
    private readonly catalog: CatalogDb,
    private readonly tenants: TenantDirectory
  ) {}

  async list(): Promise<Operator[]> {
    const rows = await this.#select().orderBy('o.created_at').execute()
    return rows.map(toOperator)
  }

  async get(id: string): Promise<Operator> {
    const row = isUuid(id) ? await this.#select().where('o.id', '=', id).executeTakeFirst() : undefined
    if (!row) throw new NotFound(`No operator "${id.slice(0, 60)}". List them with \`tenantctl operators list\`.`)
    return toOperator(row)
  }

  async create(input: NewOperator): Promise<Operator> {
    const email = input.email.trim().toLowerCase()
    const problem = passwordProblem(input.password)
    if (problem) throw new ValidationError(`password ${problem}`)
    let tenantId: string | null = null
    if (input.role === 'tenant_admin') {
      if (!input.tenant) throw new ValidationError('a tenant_admin is bound to one tenant: give tenant (its id or slug)')
      tenantId = (await this.tenants.get(input.tenant)).id
    } else if (input.tenant) {
      throw new ValidationError('a super_admin administers every tenant; leave tenant out, or use role tenant_admin')
    }
    try {
      const row = await this.catalog
        .insertInto('operators')
        .values({ email, name: input.name?.trim() ?? '', password_hash: await hashPassword(input.password), role: input.role, tenant_id: tenantId })
        .returning('id')
        .executeTakeFirstOrThrow()
      return this.get(row.id)
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) throw new Conflict(`an operator with email ${email} already exists`)
      throw error
    }
  }

  /** Removes an operator and ends its sessions. The last super-admin cannot be removed. */
  async remove(id: string): Promise<Operator> {
    const operator = await this.get(id)
    await this.catalog.transaction().execute(async (trx) => {
      if (operator.role === 'super_admin') {
        const others = await trx
          .selectFrom('operators')
          .select('id')
          .where('role', '=', 'super_admin')
          .where('id', '<>', operator.id)
          .forUpdate()
          .execute()
        if (others.length === 0) throw new Conflict('this is the last super-admin; create another one before removing it')
      }
      await trx.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('subject_id', '=', operator.id).where('revoked_at', 'is', null).execute()
      await trx.deleteFrom('operators').where('id', '=', operator.id).execute()
    })
    return operator
  }

  /**
   * Revokes every refresh token of an operator or tenant user (runbook 004: suspected account
   * compromise). Access tokens already issued expire on their own within their short lifetime.
   */
  async revokeSessions(subjectId: string): Promise<number> {
    const result = await this.catalog
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('subject_id', '=', subjectId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  #select() {
    return this.catalog
      .selectFrom('operators as o')
      .leftJoin('tenants as t', 't.id', 'o.tenant_id')
      .selectAll('o')
      .select('t.slug as tenant_slug')
  }
}

function toOperator(row: OperatorRow & { tenant_slug: string | null }): Operator {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    tenantId: row.tenant_id,
    tenantSlug: row.tenant_slug,
    createdAt: new Date(row.created_at).toISOString(),
    lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at).toISOString(),
  }
}
