import type { CatalogDb } from '../catalog/catalog-db.js'
import type { BackupRow, OperationRow } from '../catalog/catalog-schema.js'
import { BackupNotFound, SqlState, TenantExists, TenantNotFound, ValidationError, sqlState } from '../errors.js'
import { assertRestorable } from '../backups/restore-operation.js'
import { isUuid } from '../uuid.js'
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

/** Restore as a new tenant: the clone's slug, and optionally its subdomain and name. */
export interface CloneRequest {
  slug: string
  subdomain?: string
  name?: string
}

export interface ProvisionerDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  tenants: TenantDirectory
  sealer: SecretSealer
  operations: OperationRunner
  defaultRetentionDays: number
  modules: ModuleRegistry
  /** tenant-migrations/: a backup taken with migrations not in here is not cloned. */
  migrationsDir?: string
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
    const params: ProvisionParams = { ...(admin ? { admin } : {}), ...(modules.length ? { modules } : {}) }
    return this.#record({ slug, subdomain, name, contactEmail, planId, hostId: input.hostId, retentionDays: input.retentionDays }, params, actorId)
  }

  /**
   * Starts a clone (restore as a new tenant, e.g. a staging copy): a new tenant with its own
   * role, password and database, on the source's plan and placed like any provision, whose
   * database is filled from a verified backup of `sourceKey` (a live tenant's id, slug or
   * subdomain, or a hard-deleted tenant's id, whose final backup is kept). Refused up front
   * when the backup is not restorable or the slug is taken or invalid.
   *
   * @example
   *   const { tenant, operation } = await provisioner.requestClone('acme', backupId, { slug: 'acme-staging' })
   */
  async requestClone(sourceKey: string, backupId: string, clone: CloneRequest, actorId?: string | null): Promise<{ tenant: TenantRecord; operation: OperationRow; backup: BackupRow; source: { id: string; slug: string } }> {
    const source = await this.#sourceTenant(sourceKey)
    const backup = isUuid(backupId)
      ? await this.deps.catalog.selectFrom('backups').selectAll().where('id', '=', backupId).where('tenant_id', '=', source.id).executeTakeFirst()
      : undefined
    if (!backup) throw new BackupNotFound(source.slug, backupId.slice(0, 60), source.slug)
    if (!this.deps.migrationsDir) throw new Error('the provisioner was started without tenant-migrations/; clones are not possible')
    await assertRestorable(backup, this.deps.migrationsDir)
    const slug = assertSlug(clone.slug?.trim().toLowerCase() ?? '', 'slug')
    const subdomain = assertSlug(clone.subdomain?.trim().toLowerCase() ?? slug, 'subdomain')
    const name = clone.name?.trim() || `${source.name} (copy)`
    const params: ProvisionParams = { fromBackup: { backupId: backup.id, sourceTenantId: source.id } }
    const started = await this.#record({ slug, subdomain, name, contactEmail: source.contact_email, planId: source.plan_id }, params, actorId)
    return { ...started, backup, source: { id: source.id, slug: source.slug } }
  }

  /** A clone's source: a live tenant by id, slug or subdomain; a purged one by id only (its slug may be reused). */
  async #sourceTenant(key: string) {
    const live = await this.deps.tenants.get(key).catch((error) => {
      if (error instanceof TenantNotFound) return undefined
      throw error
    })
    const id = live?.id ?? (isUuid(key) ? key : undefined)
    const row = id
      ? await this.deps.catalog.selectFrom('tenants').select(['id', 'slug', 'name', 'contact_email', 'plan_id']).where('id', '=', id).executeTakeFirst()
      : undefined
    if (!row) throw new TenantNotFound(key.length > 60 ? `${key.slice(0, 57)}...` : key)
    return row
  }

  /** Places the tenant, records it (status provisioning, role password sealed) and its provision operation in one transaction. */
  async #record(
    tenant: { slug: string; subdomain: string; name: string; contactEmail: string; planId: string; hostId?: string; retentionDays?: number },
    params: ProvisionParams,
    actorId?: string | null
  ): Promise<{ tenant: TenantRecord; operation: OperationRow }> {
    const { slug, subdomain } = tenant
    await this.#assertFree(slug, subdomain)
    const host = await this.deps.hosts.placeTenant(tenant.hostId)
    try {
      const { tenantId, operation } = await this.deps.catalog.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('tenants')
          .values({
            slug,
            subdomain,
            name: tenant.name,
            contact_email: tenant.contactEmail,
            plan_id: tenant.planId,
            status: 'provisioning',
            host_id: host.id,
            database_name: databaseNameFor(slug),
            role_name: roleNameFor(slug),
            password_sealed: this.deps.sealer.seal(generateRolePassword()),
            retention_days: tenant.retentionDays ?? this.deps.defaultRetentionDays,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
        const operation = await this.deps.operations.enqueue('provision', row.id, { ...params, slug }, actorId, trx)
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
