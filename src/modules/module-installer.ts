import { escapeIdentifier } from 'pg'
import type { CatalogDb } from '../catalog/catalog-db.js'
import { migrateTenantDatabase, readModuleMigrations } from '../migrations/tenant-migrator.js'
import type { OperationHandler } from '../operations/operation-runner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import { withTenantClient } from '../tenancy/tenant-connection.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import type { ModuleRegistry } from './module-registry.js'

export interface ModuleInstallerDeps {
  catalog: CatalogDb
  tenants: TenantDirectory
  sealer: SecretSealer
  modules: ModuleRegistry
  /** tenant-migrations/ (base/ and modules/). */
  migrationsDir: string
}

export interface InstallModulesParams {
  /** Modules to install or repair, dependencies first. */
  order: string[]
}

export interface UninstallModuleParams {
  module: string
  purge: boolean
}

/**
 * Installs modules into one tenant database, in dependency order. A module not yet installed
 * gets its pending migrations; an installed one gets all of its (idempotent) migrations run
 * again, which recreates missing tables and indexes and leaves data alone: the reinstall of
 * runbook 003. Each module is one transaction in the tenant database, then recorded in the
 * catalog.
 *
 * @example
 *   await installModules(deps, tenant, ['crm', 'price-basket'], (done) => progress(done))
 */
export async function installModules(deps: ModuleInstallerDeps, tenant: TenantRecord, order: string[], onModule?: (index: number) => Promise<void>): Promise<void> {
  const installed = new Set(
    (await deps.catalog.selectFrom('tenant_modules').select('module').where('tenant_id', '=', tenant.id).execute()).map((r) => r.module)
  )
  await withTenantClient(tenant, deps.sealer, async (client) => {
    for (const [index, name] of order.entries()) {
      const module = deps.modules.get(name)
      await migrateTenantDatabase(client, name, await readModuleMigrations(name, deps.migrationsDir), { reapply: installed.has(name) })
      await deps.catalog
        .insertInto('tenant_modules')
        .values({ tenant_id: tenant.id, module: name, version: module.version })
        .onConflict((oc) => oc.columns(['tenant_id', 'module']).doUpdateSet({ version: module.version, updated_at: new Date() }))
        .execute()
      installed.add(name)
      // This replica sees the change at once; others through the catalog notification.
      deps.tenants.invalidate(tenant.id)
      await onModule?.(index + 1)
    }
  })
}

export function installModulesHandler(deps: ModuleInstallerDeps): OperationHandler<InstallModulesParams> {
  return {
    kind: 'module_install',
    steps: [
      {
        name: 'migrateModules',
        async run(context) {
          const tenant = await deps.tenants.get(context.operation.tenant_id!)
          const order = context.params.order
          await installModules(deps, tenant, order, (done) => context.progress((done / order.length) * 100))
        },
      },
    ],
  }
}

/** Uninstall: forget the module (its routes answer ModuleNotInstalled); with purge, drop its tables too. */
export function uninstallModuleHandler(deps: ModuleInstallerDeps): OperationHandler<UninstallModuleParams> {
  return {
    kind: 'module_uninstall',
    steps: [
      {
        name: 'unregisterModule',
        async run(context) {
          await deps.catalog.deleteFrom('tenant_modules').where('tenant_id', '=', context.operation.tenant_id!).where('module', '=', context.params.module).execute()
          deps.tenants.invalidate(context.operation.tenant_id!)
        },
      },
      {
        name: 'purgeData',
        async run(context) {
          if (!context.params.purge) return
          const module = deps.modules.get(context.params.module)
          const tenant = await deps.tenants.get(context.operation.tenant_id!)
          await withTenantClient(tenant, deps.sealer, async (client) => {
            await client.query('begin')
            try {
              for (const table of [...module.tables].reverse()) {
                await client.query(`drop table if exists ${escapeIdentifier(table)} cascade`)
              }
              await client.query('delete from tenant_migrations where scope = $1', [module.name])
              await client.query('commit')
            } catch (error) {
              await client.query('rollback').catch(() => {})
              throw error
            }
          })
        },
      },
    ],
  }
}
