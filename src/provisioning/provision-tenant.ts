import { randomBytes } from 'node:crypto'
import { escapeIdentifier, escapeLiteral } from 'pg'
import type { CatalogDb } from '../catalog/catalog-db.js'
import type { AuditLog } from '../audit/audit-log.js'
import { SqlState, sqlState } from '../errors.js'
import { dropDatabase } from '../hosts/database-sessions.js'
import type { HostRegistry } from '../hosts/host-registry.js'
import { migrateTenantDatabase, readBaseMigrations } from '../migrations/tenant-migrator.js'
import type { OperationHandler, StepContext } from '../operations/operation-runner.js'
import type { SecretSealer } from '../secrets/secret-sealer.js'
import type { TenantDirectory, TenantRecord } from '../tenancy/tenant-directory.js'
import { rotationLoginRoles, tenantClientConfig, withTenantClient } from '../tenancy/tenant-connection.js'
import { installModules } from '../modules/module-installer.js'
import type { ModuleRegistry } from '../modules/module-registry.js'
import type { TenantTemplates } from './tenant-template.js'
import type { EdgeSync } from '../edge/edge-sync.js'
import type { BackupRecords } from '../backups/backup-records.js'
import { assertRestorable } from '../backups/restore-operation.js'
import { assertRowCountsMatch, backupModules, restoreBackupInto, type RestoreIntoDeps } from '../backups/restore-into.js'

/** What a provision operation carries (no plaintext secret: the admin password is already hashed). */
export interface ProvisionParams {
  admin?: { email: string; name: string; passwordHash: string }
  /** Modules to install, dependencies first. */
  modules?: string[]
  /**
   * A clone (restore as a new tenant): the database is filled from this verified backup of
   * another tenant instead of migrations, first admin and modules; the tenant's modules are
   * those the backup's database had.
   */
  fromBackup?: { backupId: string; sourceTenantId: string }
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
  /** Where backups are read from, for clones (provisions with `fromBackup`). */
  backups?: Omit<RestoreIntoDeps, 'hosts' | 'sealer'> & { records: BackupRecords }
}

/** A random 32-byte role password, URL-safe. */
export function generateRolePassword(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The steps of provisioning, each idempotent ("already exists" SQLSTATEs count as done),
 * so a provision that crashed anywhere can be resumed from its recorded step:
 * createRole → createDatabase → migrateDatabase → createAdminUser → installModules →
 * restoreDatabase → compareRowCounts → registerModules → activateTenant → writeCaddyfile.
 * A plain provision skips the three restore steps; a clone (`fromBackup`) skips migrations,
 * first admin and modules, and fills the database from the backup instead, then records the
 * backup's modules: the tenant turns active only once the row counts matched.
 * Rollback drops the database and the role and frees the slug; a clone that fails rolls
 * back at once (a damaged file or a count mismatch does not heal on a retry).
 */
export function provisionHandler(deps: ProvisionDeps): OperationHandler<ProvisionParams> {
  const tenantOf = async (context: StepContext<ProvisionParams>): Promise<TenantRecord> => {
    const id = context.operation.tenant_id
    if (!id) throw new Error('provision operation has no tenant')
    deps.tenants.invalidate(id)
    return deps.tenants.get(id)
  }
  const backupOf = async (context: StepContext<ProvisionParams>) => {
    const { fromBackup } = context.params
    if (!fromBackup || !deps.backups) throw new Error('this tenantd has no backup storage configured to clone from')
    return deps.backups.records.get(fromBackup.sourceTenantId, fromBackup.backupId)
  }
  const restoreTarget = (tenant: TenantRecord) => {
    const config = tenantClientConfig(tenant, deps.sealer)
    return {
      hostId: tenant.host_id,
      database: tenant.database_name,
      role: tenant.role_name,
      connection: { host: config.host!, port: config.port!, database: tenant.database_name, user: tenant.role_name, password: config.password },
    }
  }
  /**
   * Drops what a provision made and frees the slug (the row stays, purged: operations and
   * audit entries keep pointing at it). A row already purged is left alone: its slug, and so
   * its database and role names, may belong to a newer tenant by now.
   */
  const undo = async (tenantId: string, reason: string) => {
    const row = await deps.catalog.selectFrom('tenants').select(['id', 'host_id', 'database_name', 'role_name', 'purged_at']).where('id', '=', tenantId).executeTakeFirst()
    if (!row || row.purged_at !== null) return
    await dropTenantDatabaseAndRole(deps.hosts, row)
    await deps.catalog.deleteFrom('tenant_modules').where('tenant_id', '=', row.id).execute()
    await deps.catalog
      .updateTable('tenants')
      .set({ status: 'failed', status_reason: reason.slice(0, 500), purged_at: new Date(), updated_at: new Date() })
      .where('id', '=', row.id)
      .execute()
    deps.tenants.invalidate(row.id)
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
          // A clone's database gets its schema from the backup, not from the migrated template.
          const templates = context.params.fromBackup ? undefined : deps.templates
          if (templates) {
            const from = await templates.createDatabase(host, tenant.database_name, tenant.role_name)
            context.log.debug({ database: tenant.database_name, from }, 'tenant database created')
          }
          await deps.hosts.withAdminClient(host, async (client) => {
            const db = escapeIdentifier(tenant.database_name)
            if (!templates) {
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
          if (context.params.fromBackup) return
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
          if (!admin || context.params.fromBackup) return
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
          if (!order.length || context.params.fromBackup) return
          const tenant = await tenantOf(context)
          await installModules({ catalog: deps.catalog, tenants: deps.tenants, sealer: deps.sealer, modules: deps.modules, migrationsDir: deps.migrationsDir }, tenant, order)
        },
      },
      {
        // From scratch on every attempt (the database is dropped and made again), so a crash
        // half-way through pg_restore leaves nothing a retry trips over.
        name: 'restoreDatabase',
        async run(context) {
          if (!context.params.fromBackup) return
          const [tenant, backup] = await Promise.all([tenantOf(context), backupOf(context)])
          // Checked again here: the backup may have been pruned or failed a check since the request.
          await assertRestorable(backup, deps.migrationsDir)
          const size = Math.max(1, Number(backup.size_bytes ?? 1))
          let last = 0
          await restoreBackupInto({ ...deps.backups!, hosts: deps.hosts, sealer: deps.sealer }, backup, restoreTarget(tenant), (bytes) => {
            if (Date.now() - last < 500) return
            last = Date.now()
            void context.progress(50 + (30 * bytes) / size).catch(() => {})
          })
          context.log.info({ database: tenant.database_name, backupId: backup.id }, 'tenant database restored from backup')
        },
      },
      {
        name: 'compareRowCounts',
        async run(context) {
          if (!context.params.fromBackup) return
          const [tenant, backup] = await Promise.all([tenantOf(context), backupOf(context)])
          await assertRowCountsMatch(backup, restoreTarget(tenant).connection)
        },
      },
      {
        // The module registry learns what the restored database has installed.
        name: 'registerModules',
        async run(context) {
          if (!context.params.fromBackup) return
          const [tenant, backup] = await Promise.all([tenantOf(context), backupOf(context)])
          for (const name of backupModules(backup)) {
            const module = deps.modules.get(name)
            await deps.catalog
              .insertInto('tenant_modules')
              .values({ tenant_id: tenant.id, module: name, version: module.version })
              .onConflict((oc) => oc.columns(['tenant_id', 'module']).doUpdateSet({ version: module.version, updated_at: new Date() }))
              .execute()
          }
          deps.tenants.invalidate(tenant.id)
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
      const reason = `provisioning failed at ${context.operation.step}: ${error.message}`
      const failed = await deps.catalog
        .updateTable('tenants')
        .set({ status: 'failed', status_reason: reason.slice(0, 500), updated_at: new Date() })
        .where('id', '=', context.operation.tenant_id)
        .where('status', 'in', ['provisioning', 'failed'])
        .returning('id')
        .executeTakeFirst()
      // A clone that never became active goes at once: no half-filled database, no role, slug free.
      if (failed && context.params.fromBackup) {
        await undo(context.operation.tenant_id, `${reason}; rolled back`)
        context.log.warn({ step: context.operation.step }, 'clone failed and was rolled back')
      }
    },
    async rollback(context) {
      if (!context.operation.tenant_id) return
      await undo(context.operation.tenant_id, 'provisioning rolled back')
    },
  }
}

/** Drops a tenant's database (closing its sessions) and role; both may already be gone. */
export async function dropTenantDatabaseAndRole(hosts: HostRegistry, tenant: Pick<TenantRecord, 'host_id' | 'database_name' | 'role_name'>): Promise<void> {
  await hosts.withAdminClient(tenant.host_id, async (client) => {
    await dropDatabase(client, tenant.database_name)
    // The login roles of credential rotation (members of the owner role) go first.
    for (const login of rotationLoginRoles(tenant.role_name)) await client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(login)}`)
    await client.query(`DROP ROLE IF EXISTS ${escapeIdentifier(tenant.role_name)}`)
  })
}
