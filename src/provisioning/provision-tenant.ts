import { randomBytes } from 'node:crypto'
import { escapeIdentifier, escapeLiteral } from 'pg'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { AuditLog } from '../audit/audit-log.js'
import { SqlState, sqlState } from '../errors.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import { migrateTenantDatabase, readBaseMigrations } from '../migrations/tenant-migrator.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { withTenantClient } from '../tenancy/tenant-connection.js'
import { installModules } from '../modules/module-installer.js'
import type { ModuleRegistry } from '../modules/module-registry.js'
import type { TenantTemplates } from './tenant-template.js'
import type { EdgeSync } from '../edge/edge-sync.js'

/** What a provision operation carries (no plaintext secret: the admin password is already hashed). */
export interface ProvisionParams {
  admin?: { email: string; name: string; passwordHash: string }
  /** Modules to install, dependencies first. */
  modules?: string[]
}

export interface ProvisionDeps {
  catalog: CatalogDb
  hosts: HostRegistry
  tenants: TenantDirectory
  sealer: SecretSealer
  audit: AuditLog
  /** tenant-migrations/ (base/ and modules/). */
  migrationsDir: string
  modules: ModuleRegistry
  /** Clone new databases from the host's template; undefined: always template0 + migrations. */
  templates: TenantTemplates | undefined
  /** Renders and applies the Caddyfile (the writeCaddyfile step). */
  edge?: EdgeSync
}

/** A random 32-byte role password, URL-safe. */
export function generateRolePassword(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The steps of provisioning, each idempotent ("already exists" SQLSTATEs count as done),
 * so a provision that crashed anywhere can be resumed from its recorded step:
 * createRole → createDatabase → migrateDatabase → createAdminUser → installModules →
 * activateTenant → writeCaddyfile.
 * Rollback drops the database and the role and frees the slug.
 */
export function provisionHandler(deps: ProvisionDeps): OperationHandler<ProvisionParams> {
  const tenantOf = async (context: StepContext<ProvisionParams>): Promise<TenantRecord> => {
    const id = context.operation.tenant_id
    if (!id) throw new Error('provision operation has no tenant')
    deps.tenants.invalidate(id)
    return deps.tenants.get(id)
  }

  return {
    kind: 'provision',
    steps: [
      {
        name: 'createRole',
        async run(context) {
          const tenant = await tenantOf(context)
          const password = deps.sealer.open(tenant.password_sealed)
          await deps.hosts.withAdminClient(tenant.host_id, async (client) => {
            const role = escapeIdentifier(tenant.role_name)
            const options = `LOGIN PASSWORD ${escapeLiteral(password)} CONNECTION LIMIT ${tenant.plan_max_connections} NOCREATEDB NOCREATEROLE`
            try {
              await client.query(`CREATE ROLE ${role} ${options} NOSUPERUSER`)
            } catch (error) {
              if (sqlState(error) !== SqlState.duplicateObject) throw error
              // Created by an earlier attempt (which crashed before recording it): make sure it
              // has this attempt's settings. Not NOSUPERUSER: only a superuser may name that
              // attribute in ALTER ROLE, and a CREATEROLE admin cannot have made it a superuser.
              await client.query(`ALTER ROLE ${role} ${options}`)
            }
            // A CREATEROLE (non-superuser) admin must be a member to create a database owned by it.
            await client.query(`GRANT ${role} TO CURRENT_USER`).catch((error) => {
              if (sqlState(error) !== SqlState.duplicateObject) throw error
            })
          })
        },
      },
      {
        name: 'createDatabase',
        async run(context) {
          const tenant = await tenantOf(context)
          const host = await deps.hosts.row(tenant.host_id)
          if (deps.templates) {
            const from = await deps.templates.createDatabase(host, tenant.database_name, tenant.role_name)
            context.log.debug({ database: tenant.database_name, from }, 'tenant database created')
          }
          await deps.hosts.withAdminClient(host, async (client) => {
            const db = escapeIdentifier(tenant.database_name)
            if (!deps.templates) {
              try {
                await client.query(`CREATE DATABASE ${db} OWNER ${escapeIdentifier(tenant.role_name)} ENCODING 'UTF8' TEMPLATE template0`)
              } catch (error) {
                if (sqlState(error) !== SqlState.duplicateDatabase) throw error
              }
            }
            // Only the owner may connect: other tenants' roles get "permission denied".
            await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`)
          })
        },
      },
      {
        name: 'migrateDatabase',
        async run(context) {
          const tenant = await tenantOf(context)
          const files = await readBaseMigrations(deps.migrationsDir)
          await withTenantClient(tenant, deps.sealer, async (client) => {
            await client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC')
            await migrateTenantDatabase(client, 'base', files)
          })
        },
      },
      {
        name: 'createAdminUser',
        async run(context) {
          const admin = context.params.admin
          if (!admin) return
          const tenant = await tenantOf(context)
          await withTenantClient(tenant, deps.sealer, (client) =>
            client.query(
              `insert into users (email, name, password_hash, role) values ($1, $2, $3, 'admin')
               on conflict (lower(email)) do nothing`,
              [admin.email, admin.name, admin.passwordHash]
            )
          )
        },
      },
      {
        name: 'installModules',
        async run(context) {
          const order = context.params.modules ?? []
          if (!order.length) return
          const tenant = await tenantOf(context)
          await installModules({ catalog: deps.catalog, tenants: deps.tenants, sealer: deps.sealer, modules: deps.modules, migrationsDir: deps.migrationsDir }, tenant, order)
        },
      },
      {
        name: 'activateTenant',
        async run(context) {
          const tenant = await tenantOf(context)
          await deps.catalog
            .updateTable('tenants')
            .set({ status: 'active', status_reason: null, updated_at: new Date() })
            .where('id', '=', tenant.id)
            .where('status', 'in', ['provisioning', 'failed'])
            .execute()
        },
      },
      {
        // The tenant's address goes live at the edge now, not at the next change: render,
        // validate, write and apply. A render Caddy refuses fails the step (the good file
        // keeps serving); Caddy being down does not: the syncer retries the reload on its own.
        name: 'writeCaddyfile',
        async run(context) {
          if (!deps.edge) return
          const result = await deps.edge.syncNow()
          context.log.debug({ generation: result.generation, applied: result.applied }, 'edge synced')
        },
      },
    ],
    async onFailure(context, error) {
      if (!context.operation.tenant_id) return
      await deps.catalog
        .updateTable('tenants')
        .set({ status: 'failed', status_reason: `provisioning failed at ${context.operation.step}: ${error.message}`.slice(0, 500), updated_at: new Date() })
        .where('id', '=', context.operation.tenant_id)
        .where('status', 'in', ['provisioning', 'failed'])
        .execute()
    },
    async rollback(context) {
      const tenant = await tenantOf(context)
      await dropTenantDatabaseAndRole(deps.hosts, tenant)
      await deps.catalog
        .updateTable('tenants')
        .set({ status: 'failed', status_reason: 'provisioning rolled back', purged_at: new Date(), updated_at: new Date() })
        .where('id', '=', tenant.id)
        .execute()
    },
  }
}

/** Drops a tenant's database (closing its sessions) and role; both may already be gone. */
export async function dropTenantDatabaseAndRole(hosts: HostRegistry, tenant: Pick<TenantRecord, 'host_id' | 'database_name' | 'role_name'>): Promise<void> {
  await hosts.withAdminClient(tenant.host_id, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(tenant.database_name)} WITH (FORCE)`)
    await client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(tenant.role_name)}`)
  })
}
