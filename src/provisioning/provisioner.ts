import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperationRow } from '../catalog/catalog-schema.js'
import { SqlState, TenantExists, ValidationError, sqlState } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import { hashPassword, passwordProblem } from '../auth/password-hasher.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import type { ModuleRegistry } from '../modules/module-registry.js'
import { assertSlug, databaseNameFor, roleNameFor, slugFromName } from './tenant-naming.js'
import { generateRolePassword, type ProvisionParams } from './provision-tenant.js'

/** Runbook 002's provisioning body, plus optional slug, subdomain and hostId. */
export interface ProvisionRequest {
  name: string
  contactEmail?: string
  adminName?: string
  adminEmail?: string
  adminPassword?: string
  plan?: string
  slug?: string
  subdomain?: string
  hostId?: string
  retentionDays?: number
  /** Modules to install right away (dependencies are added). */
  modules?: string[]
}

export interface ProvisionerDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  tenants: TenantDirectory
  sealer: SecretSealer
  operations: OperationRunner
  defaultRetentionDays: number
  modules: ModuleRegistry
}

/**
 * Starts provisioning a tenant: validates the request, places it on a db host, records the
 * tenant (status provisioning, role password sealed) and its provision operation in one
 * catalog transaction, then hands the operation to the runner.
 *
 * @example
 *   const { tenant, operation } = await provisioner.request({ name: 'Acme', plan: 'pro', adminEmail, adminPassword })
 *   await operations.execute(operation.id)
 */
export class Provisioner {
  constructor(private readonly deps: ProvisionerDeps) {}

  async request(input: ProvisionRequest, actorId?: string | null): Promise<{ tenant: TenantRecord; operation: OperationRow }> {
    const name = input.name?.trim()
    if (!name) throw new ValidationError('name is required (the tenant\'s display name)')
    const slug = assertSlug(input.slug?.trim().toLowerCase() ?? slugFromName(name), 'slug')
    const subdomain = assertSlug(input.subdomain?.trim().toLowerCase() ?? slug, 'subdomain')
    const planId = input.plan ?? 'free'
    const plan = await this.deps.catalog.selectFrom('plans').select('id').where('id', '=', planId).executeTakeFirst()
    if (!plan) {
      const plans = await this.deps.catalog.selectFrom('plans').select('id').orderBy('max_connections').execute()
      throw new ValidationError(`unknown plan "${planId}"; choose one of ${plans.map((p) => p.id).join(', ')}`)
    }
    if ((input.adminEmail === undefined) !== (input.adminPassword === undefined)) {
      throw new ValidationError('adminEmail and adminPassword go together: give both to create the tenant\'s first admin, or neither')
    }
    let admin: ProvisionParams['admin']
    if (input.adminEmail !== undefined && input.adminPassword !== undefined) {
      const problem = passwordProblem(input.adminPassword)
      if (problem) throw new ValidationError(`adminPassword ${problem}`)
      admin = { email: input.adminEmail.trim().toLowerCase(), name: input.adminName?.trim() ?? '', passwordHash: await hashPassword(input.adminPassword) }
    }
    const modules = input.modules?.length ? this.deps.modules.installOrder([...new Set(input.modules)]).map((m) => m.name) : []
    const contactEmail = input.contactEmail?.trim() ?? input.adminEmail?.trim() ?? ''
    await this.#assertFree(slug, subdomain)
    const host = await this.deps.hosts.placeTenant(input.hostId)
    try {
      const { tenantId, operation } = await this.deps.catalog.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('tenants')
          .values({
            slug,
            subdomain,
            name,
            contact_email: contactEmail,
            plan_id: planId,
            status: 'provisioning',
            host_id: host.id,
            database_name: databaseNameFor(slug),
            role_name: roleNameFor(slug),
            password_sealed: this.deps.sealer.seal(generateRolePassword()),
            retention_days: input.retentionDays ?? this.deps.defaultRetentionDays,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
        const operation = await this.deps.operations.enqueue('provision', row.id, { ...(admin ? { admin } : {}), ...(modules.length ? { modules } : {}), slug }, actorId, trx)
        return { tenantId: row.id, operation }
      })
      return { tenant: await this.deps.tenants.get(tenantId), operation }
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) throw new TenantExists(`a tenant with slug "${slug}" or subdomain "${subdomain}" already exists; choose another`)
      throw error
    }
  }

  async #assertFree(slug: string, subdomain: string): Promise<void> {
    const clash = await this.deps.catalog
      .selectFrom('tenants')
      .select(['slug', 'subdomain'])
      .where('purged_at', 'is', null)
      .where((eb) => eb.or([eb('slug', '=', slug), eb('subdomain', '=', subdomain), eb('slug', '=', subdomain), eb('subdomain', '=', slug)]))
      .executeTakeFirst()
    if (clash) {
      const field = clash.slug === slug ? `slug "${slug}"` : `subdomain "${subdomain}"`
      throw new TenantExists(`a tenant with ${field} already exists; choose another or look at it with \`tenantctl show ${clash.slug}\``)
    }
  }
}
