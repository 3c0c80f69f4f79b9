import type { CatalogDb } from '../catalog/catalog-db.js'
import type { OperationRow } from '../catalog/catalog-schema.js'
import { InvalidTransition, ModuleNotInstalled, ValidationError } from '../errors.js'
import type { OperationRunner } from '../operations/operation-runner.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import type { ModuleRegistry } from './module-registry.js'

export interface InstalledModule {
  name: string
  version: string
  installedAt: string
  updatedAt: string
}

/**
 * Per-tenant module management (runbook 003's technical panel): what is installed, install
 * or repair (with dependencies), uninstall (keeping data unless purge).
 *
 * @example
 *   const { operation } = await moduleService.requestInstall('santarita', ['price-basket'])
 */
export class ModuleService {
  constructor(
    private readonly deps: { catalog: CatalogDb; tenants: TenantDirectory; operations: OperationRunner; modules: ModuleRegistry }
  ) {}

  async installed(tenantId: string): Promise<InstalledModule[]> {
    const rows = await this.deps.catalog.selectFrom('tenant_modules').selectAll().where('tenant_id', '=', tenantId).orderBy('module').execute()
    return rows.map((r) => ({ name: r.module, version: r.version, installedAt: new Date(r.installed_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString() }))
  }

  /** Validates module names and returns them with their dependencies, dependencies first. */
  resolveOrder(names: string[]): string[] {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new ValidationError('modules must be a list of module names')
    return this.deps.modules.installOrder([...new Set(names)]).map((m) => m.name)
  }

  async requestInstall(key: string, names: string[], actorId?: string | null): Promise<{ tenant: TenantRecord; operation: OperationRow; order: string[] }> {
    const tenant = await this.deps.tenants.get(key)
    this.#assertWorkable(tenant)
    const order = this.resolveOrder(names)
    const operation = await this.deps.operations.enqueue('module_install', tenant.id, { order }, actorId)
    return { tenant, operation, order }
  }

  async requestUninstall(key: string, name: string, purge: boolean, actorId?: string | null): Promise<{ tenant: TenantRecord; operation: OperationRow }> {
    const tenant = await this.deps.tenants.get(key)
    this.#assertWorkable(tenant)
    this.deps.modules.get(name)
    const installed = (await this.installed(tenant.id)).map((m) => m.name)
    if (!installed.includes(name)) throw new ModuleNotInstalled(name, tenant.slug, `${tenant.slug} ${name}`)
    this.deps.modules.assertRemovable(name, installed)
    const operation = await this.deps.operations.enqueue('module_uninstall', tenant.id, { module: name, purge }, actorId)
    return { tenant, operation }
  }

  #assertWorkable(tenant: TenantRecord): void {
    if (!['active', 'suspended'].includes(tenant.status)) {
      throw new InvalidTransition(`tenant "${tenant.slug}" is ${tenant.status}; modules can be changed on active or suspended tenants`)
    }
  }
}
